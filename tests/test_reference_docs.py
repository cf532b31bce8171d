"""docs/reference.md is generated from the code and must be current (as must the schemas)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import typer.main

from planner.cli.app import app
from planner.errors import ExitCode
from planner.runconfig import JOB_KEYS

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "docs" / "reference.md"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_reference", REPO / "scripts" / "gen_reference.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_reference", module)
    spec.loader.exec_module(module)
    return module


def test_reference_is_current() -> None:
    stale = generator().stale_files()
    assert not stale, (
        f"stale generated files: {[str(p.relative_to(REPO)) for p in stale]}; "
        "run python scripts/gen_reference.py and commit the result"
    )


def test_every_command_and_option_is_documented() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    todo = [(f"planner {n}", c) for n, c in root.commands.items()]
    seen = 0
    while todo:
        path, cmd = todo.pop()
        assert f"### `{path}`" in text, path
        section = text.split(f"### `{path}`", 1)[1].split("\n### ", 1)[0]
        for p in cmd.params:
            for opt in p.opts:
                if opt.startswith("-"):
                    assert f"`{opt}`" in section, (path, opt)
        todo.extend((f"{path} {n}", c) for n, c in (getattr(cmd, "commands", None) or {}).items())
        seen += 1
    assert seen >= 8  # inspect estimate check measure suggest plot devices devices-show


def test_exit_codes_and_yaml_keys_are_documented() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ExitCode:
        row = re.search(rf"^\| {int(code)} \| `{code.name}` \| (.+) \|$", section, re.M)
        assert row and len(row.group(1)) > 10, code
    yaml_section = text.split("## planner.yaml", 1)[1].split("\n## ", 1)[0]
    for key in JOB_KEYS:
        row = re.search(rf"^\| `{key}` \| [^|]+ \| (.+) \|$", yaml_section, re.M)
        assert row and row.group(1).strip(), key


def test_member_docstrings_are_read_from_source() -> None:
    docs = generator().member_docstrings(ExitCode)
    assert set(docs) == {c.name for c in ExitCode}
    assert "check failed" in docs["CHECK_FAILED"]


def test_check_mode_reports_staleness(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    gen = generator()
    monkeypatch.setattr(gen, "REFERENCE", tmp_path / "reference.md")
    monkeypatch.setattr(gen, "SCHEMAS", tmp_path / "schemas")
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert (tmp_path / "schemas" / "check.schema.json").is_file()
