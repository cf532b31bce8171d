"""What a fresh ``planner inspect`` imports: only the command run and the adapter that reads.

Start-up is most of what ``planner inspect`` costs (BENCHMARKS.md §3), so the modules made lazy
for it stay lazy: other commands, other adapters' readers, YAML, the model-family tables,
``importlib.metadata``. Not a timing test: it lists ``sys.modules`` after a real run in a
fresh interpreter. Also: the entry points ``planner.entrypoints`` finds are the standard
library's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from planner.entrypoints import _scan, entry_points
from planner.registry import ENTRY_POINT_GROUP

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

# Run the console script's entry point, then list what it imported (main() always exits).
_CHILD = """
import json, sys
out, sys.argv = sys.argv[1], ["planner", *sys.argv[2:]]
from planner.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""

NEVER_ON_INSPECT = (
    "yaml",
    "planner.families",
    "planner.device_loader",
    "planner.budget",
    "planner.render.terminal",
    "planner.cli.check_cmd",
    "planner.cli.suggest_cmd",
    "planner.cli.plot_cmd",
    "planner.cli.devices_cmd",
    "importlib.metadata",
    "onnx",
    "numpy",
)
"""Not needed to inspect any artifact."""

READERS = {
    "onnx": "planner_adapters.onnx.analysis",
    "mlc": "planner_adapters._mlc_read",
    "hf": "planner_adapters._hf_read",
}


def _inspect_modules(tmp_path: Path, *args: str) -> set[str]:
    out = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PLANNER_DEBUG", "PYTHONPATH")}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(out), "inspect", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["code"] in (0, None), proc.stderr
    return set(doc["modules"])


@pytest.mark.parametrize(
    ("adapter", "folder"),
    [
        ("onnx", "onnx-genai-tiny-llama"),
        ("mlc", "mlc-qwen2.5-0.5b-q4f16_1"),
        ("hf", "hf-llama-3.2-1b"),
    ],
)
def test_inspect_imports_one_reader_and_one_command(
    tmp_path: Path, adapter: str, folder: str
) -> None:
    modules = _inspect_modules(tmp_path, str(EXAMPLES / folder))
    assert READERS[adapter] in modules  # it really read the artifact
    others = {READERS[a] for a in READERS if a != adapter}
    # The MLC and HF readers share the Hugging Face config reader and the families.
    never = set(NEVER_ON_INSPECT) - ({"planner.families"} if adapter != "onnx" else set())
    loaded = sorted((others | never) & modules)
    assert not loaded, f"`planner inspect` of a {adapter} folder imported {loaded}"


def test_inspect_json_does_not_import_rich(tmp_path: Path) -> None:
    modules = _inspect_modules(
        tmp_path, str(EXAMPLES / "onnx-genai-tiny-llama"), "--format", "json"
    )
    assert "planner_adapters.onnx.analysis" in modules
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}


def test_entry_points_match_the_standard_library() -> None:
    """Every group of every installed distribution: same names, values, order."""
    groups = {ep.group for dist in metadata.distributions() for ep in dist.entry_points}
    assert ENTRY_POINT_GROUP in groups
    for group in sorted(groups):
        want = [(ep.name, ep.value, ep.group) for ep in metadata.entry_points(group=group)]
        scanned = _scan(group)
        assert scanned is not None, "the test environment is the plain case"
        assert [(ep.name, ep.value, ep.group) for ep in scanned] == want, group
    names = {ep.name for ep in entry_points(ENTRY_POINT_GROUP)}
    assert {"onnx", "mlc", "hf"} <= names


def test_entry_points_fall_back_on_a_zip_on_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "plugins.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    monkeypatch.setattr(sys, "path", [*sys.path, str(archive)])
    assert _scan(ENTRY_POINT_GROUP) is None
    got = [(ep.name, ep.value) for ep in entry_points(ENTRY_POINT_GROUP)]
    assert got == [(ep.name, ep.value) for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)]
