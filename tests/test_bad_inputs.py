"""Bad inputs through the real command line: one clear error line, the documented exit code,
no traceback, and nothing left behind.

Each folder of ``tests/bad_inputs/`` is one case: a ``case.yaml`` (the command, the expected
exit code and message, the file the message must name) plus the static files it needs. Cases
that need real artifacts or special files say so in ``build:`` and ``setup:``; those are made
here at test time (tiny ONNX/MLC/Hugging Face artifacts from the test factories, FIFOs,
symlinks, files outside the folder). Every case runs ``python -m planner`` in a subprocess whose
working directory is a fresh copy of the case folder, with ``--output`` pointing at an empty
folder (unless the case says ``output: false``), and asserts:

- the exit code;
- stderr is exactly one line starting with ``error:`` (optionally followed by one ``hint:``
  line), containing the expected text and the file name, and no ``Traceback``;
- the output folder is empty afterwards (no report, no temporary file) — or, for cases that
  succeed with a warning, holds exactly the report, which contains the expected note;
- the run took under 60 s and its peak resident memory (``wait4``) stayed under 1 GiB
  (``max_rss_mib`` to ask for less);
- optional checks: no control character reached stdout, stderr or the report
  (``no_control_chars``), the report is well-formed XML (``xml``), special files are still what
  they were (``after``), nothing outside the case folder was opened (``no_reads_outside``, run
  under strace where it exists), what a FIFO reader received (``fifo_contains``).

The subprocesses run concurrently (they spend most of their time importing).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import mlc_factory
from tests.bad_input_recipes import RECIPES
from tests.onnx_factory import (
    GenaiOptions,
    ModelConfig,
    OptimumOptions,
    build_genai,
    build_optimum,
)

CASES = Path(__file__).parent / "bad_inputs"
REPO = Path(__file__).resolve().parent.parent
TINY = ModelConfig(
    layers=2, hidden=64, heads=4, kv_heads=2, head_dim=16, intermediate=128, vocab=256, context=128
)
CASE_KEYS = {
    "description",
    "build",
    "setup",
    "args",
    "exit",
    "stderr",
    "file",
    "output",
    "output_contains",
    "hint",
    "needs",
    "after",
    "stdout_contains",
    "no_control_chars",
    "xml",
    "no_reads_outside",
    "read_fifo",
    "fifo_contains",
    "max_rss_mib",
    "max_seconds",
    "after_contains",
}
MAX_RSS_MIB = 1024
MAX_SECONDS = 60
LONG_NAME = "r" * 245 + ".json"
"""A valid 250-byte file name (``@LONG`` in a case's args)."""
STRACE = shutil.which("strace")
# The peak RSS a fork reports starts at its parent's (the page tables are shared until exec), so
# each case runs under this small launcher: the launcher's child starts from the launcher's few
# MiB, and the launcher writes that child's peak (wait4) to the file named in argv[1].
LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status) % 256)\n"
)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x9b]")


@dataclass(frozen=True)
class Case:
    """One ``case.yaml``."""

    name: str
    folder: Path
    spec: dict[str, Any]


@dataclass
class Result:
    """What one run produced."""

    code: int
    stdout: str
    stderr: str
    out_dir: Path
    work: Path
    seconds: float = 0.0
    rss_mib: float = 0.0
    opened: list[str] = field(default_factory=list)
    fifo: bytes = b""
    skip: str = ""


class _Skip(Exception):
    """A case that cannot run here (not root, a missing optional module)."""


def load_cases() -> list[Case]:
    cases = []
    for folder in sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file()):
        spec = yaml.safe_load((folder / "case.yaml").read_text(encoding="utf-8"))
        unknown = set(spec) - CASE_KEYS
        assert not unknown, f"{folder.name}/case.yaml: unknown keys {unknown}"
        cases.append(Case(folder.name, folder, spec))
    return cases


# --------------------------------------------------------------------------- building


def _build(kind: str, folder: Path) -> None:
    """Write a small valid artifact of ``kind`` into ``folder``."""
    if kind == "genai":
        build_genai(folder, TINY, GenaiOptions())
    elif kind == "genai-concrete-kv":
        build_genai(folder, TINY, GenaiOptions(symbolic_kv_dim=False))
    elif kind == "optimum-external":
        build_optimum(folder, TINY, OptimumOptions(external_data=True, size_threshold=256))
    elif kind == "mlc":
        mlc_factory.write_model(folder, mlc_factory.TINY_LLAMA, "q4f16_1", cap_bytes=4096)
    elif kind == "hf":
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(
            REPO / "tests" / "data" / "hf_configs" / "llama-3.2-1b.json", folder / "config.json"
        )
    else:
        raise AssertionError(f"unknown build {kind!r}")


def _json_edit(path: Path, keys: list[Any], value: Any) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    node = doc
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _relocate_external(model: Path, location: str, move_to: str | None) -> None:
    """Point every external initializer of ``model`` at ``location`` (and move the data)."""
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    old = None
    for t in proto.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                old = old or entry.value
                entry.value = location
    assert old is not None, f"{model} has no external data"
    onnx.save(proto, str(model))
    if move_to is not None:
        target = model.parent / move_to
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(model.parent / old), str(target))


def _tar_header(name: str, size: int, typeflag: bytes) -> bytes:
    """One ustar header block (POSIX.1-1988 layout, octal fields, checksum)."""
    h = bytearray(512)
    h[0 : len(name)] = name.encode()
    for start, width, value in (
        (100, 8, 0o644),
        (108, 8, 0),
        (116, 8, 0),
        (124, 12, size),
        (136, 12, 0),
    ):
        h[start : start + width] = oct(value)[2:].rjust(width - 1, "0").encode() + b"\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = oct(sum(h))[2:].rjust(6, "0").encode() + b"\0 "
    return bytes(h)


def _setup(action: dict[str, Any], case_dir: Path) -> None:
    """One fixture action from ``setup:`` (paths are relative to the case folder)."""
    ((kind, arg),) = action.items()
    if kind == "truncate":
        path = case_dir / arg["file"]
        path.write_bytes(path.read_bytes()[: arg["size"]])
    elif kind == "random_bytes":
        rng = random.Random(arg.get("seed", 0))
        (case_dir / arg["file"]).write_bytes(rng.randbytes(arg["size"]))
    elif kind == "bytes":
        (case_dir / arg["file"]).write_bytes(bytes.fromhex(arg["hex"]) + bytes(arg.get("zeros", 0)))
    elif kind == "fifo":
        path = case_dir / arg
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    elif kind == "symlink":
        path = case_dir / arg["file"]
        path.unlink(missing_ok=True)
        path.symlink_to(arg["to"])
    elif kind == "symlink_loop":
        path = case_dir / arg
        path.unlink(missing_ok=True)
        path.symlink_to(path.name)
    elif kind == "mkdir":
        path = case_dir / arg
        if path.exists():
            path.unlink()
        path.mkdir()
    elif kind == "outside":  # a file next to (not inside) the case folder
        path = case_dir.parent / "outside" / arg["file"]
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(bytes(arg.get("size", 64)))
    elif kind == "json":
        _json_edit(case_dir / arg["file"], arg["path"], arg["value"])
    elif kind == "external_location":
        _relocate_external(case_dir / arg["file"], arg["location"], arg.get("move_to"))
    elif kind == "sparse":  # a file whose apparent size costs no disk
        with (case_dir / arg["file"]).open("ab") as fh:
            fh.truncate(arg["size"])
    elif kind == "tar_pax_bomb":  # a tar whose first (pax) header claims arg["size"] bytes
        (case_dir / arg["file"]).write_bytes(_tar_header("PaxHeader", arg["size"], b"x"))
        with (case_dir / arg["file"]).open("ab") as fh:
            fh.truncate(512 + arg["size"] + 1024)
    elif kind == "remove":
        (case_dir / arg).unlink()
    elif kind == "recipe":
        try:
            RECIPES[arg["name"]](case_dir, arg)
        except PermissionError as exc:
            raise _Skip(f"recipe {arg['name']} needs privileges: {exc}") from None
    elif kind == "mkdir_named":  # a folder whose name YAML spells with escapes
        (case_dir / arg).mkdir(parents=True)
    elif kind == "write":
        (case_dir / arg["file"]).write_text(arg["text"], encoding="utf-8")
    elif kind == "copy":  # a file of the built artifact into another folder of the case
        target = case_dir / arg["to"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(case_dir / arg["from"], target)
    else:
        raise AssertionError(f"unknown setup action {kind!r}")


def _prepare(case: Case, root: Path) -> tuple[Path, Path]:
    """A fresh copy of the case (built and set up) and an empty output folder."""
    work = root / case.name
    case_dir = work / "case"
    if "build" in case.spec:
        _build(case.spec["build"], case_dir)
    case_dir.mkdir(parents=True, exist_ok=True)
    for item in case.folder.iterdir():
        if item.name != "case.yaml":
            if item.is_dir():
                shutil.copytree(item, case_dir / item.name)
            else:
                shutil.copy(item, case_dir / item.name)
    for action in case.spec.get("setup", []):
        _setup(action, case_dir)
    out_dir = work / "out"
    out_dir.mkdir()
    return case_dir, out_dir


def _command(case: Case, out_dir: Path) -> list[str]:
    args = [LONG_NAME if a == "@LONG" else str(a) for a in case.spec["args"]]
    if case.spec.get("output", True):
        args += ["--output", str(out_dir / "report.out")]
    return [sys.executable, "-m", "planner", *args]


def _fifo_reader(path: Path, into: list[bytes]) -> threading.Thread:
    def run() -> None:
        with path.open("rb") as fh:  # blocks until planner opens the FIFO for writing
            into.append(fh.read())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _run(case: Case, root: Path) -> Result:
    for module in case.spec.get("needs", []):
        if importlib.util.find_spec(module) is None:
            return Result(0, "", "", root, root, skip=f"{module} is not installed")
    try:
        case_dir, out_dir = _prepare(case, root)
    except _Skip as exc:
        return Result(0, "", "", root, root, skip=str(exc))
    env = {k: v for k, v in os.environ.items() if k != "PLANNER_DEBUG"}
    env["COLUMNS"] = "200"
    command = _command(case, out_dir)
    trace = case_dir.parent / "strace.txt"
    traced = bool(case.spec.get("no_reads_outside")) and STRACE is not None
    if traced:
        command = [STRACE, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(trace)]
        command += _command(case, out_dir)
    rss_file = case_dir.parent / "rss.txt"
    command = [sys.executable, "-c", LAUNCHER, str(rss_file), *command]
    received: list[bytes] = []
    reader = None
    if "read_fifo" in case.spec:
        reader = _fifo_reader(case_dir / case.spec["read_fifo"], received)
    started = time.monotonic()
    proc = subprocess.Popen(
        command,
        cwd=case_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    timer = threading.Timer(MAX_SECONDS * (3 if traced else 1), proc.kill)
    timer.start()
    outputs: dict[str, bytes] = {}
    pipes = [
        threading.Thread(target=lambda n=n, f=f: outputs.__setitem__(n, f.read()))
        for n, f in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for t in pipes:
        t.start()
    proc.wait()
    seconds = time.monotonic() - started
    timer.cancel()
    for t in pipes:
        t.join()
    if reader is not None:
        reader.join(5)
    opened: list[str] = []
    if traced:
        for line in trace.read_text(errors="replace").splitlines():
            m = re.search(r'open(?:at2?)?\((?:[A-Z_]+, )?"([^"]*)".*\)\s+=\s+(\d+)', line)
            if m:
                opened.append(m.group(1))
    return Result(
        proc.returncode,
        outputs["out"].decode("utf-8", "replace"),
        outputs["err"].decode("utf-8", "replace"),
        out_dir,
        case_dir.parent,
        seconds=seconds,
        rss_mib=int(rss_file.read_text()) / 1024 if rss_file.is_file() else 0.0,
        opened=opened,
        fifo=received[0] if received else b"",
    )


_KINDS: dict[str, Any] = {
    "fifo": stat.S_ISFIFO,
    "symlink": stat.S_ISLNK,
    "chardev": stat.S_ISCHR,
    "file": stat.S_ISREG,
    "socket": stat.S_ISSOCK,
    "dir": stat.S_ISDIR,
}


def _check_extras(case: Case, res: Result, where: str) -> None:
    spec = case.spec
    assert res.seconds < spec.get("max_seconds", MAX_SECONDS), f"took {res.seconds:.1f} s\n{where}"
    assert res.rss_mib < spec.get("max_rss_mib", MAX_RSS_MIB), (
        f"peak {res.rss_mib:.0f} MiB\n{where}"
    )
    case_dir = res.work / "case"
    for name, kind in (spec.get("after") or {}).items():
        path = case_dir / (LONG_NAME if name == "@LONG" else name)
        if kind == "missing":
            assert not os.path.lexists(path), f"{name} exists\n{where}"
        else:
            assert _KINDS[kind](path.lstat().st_mode), f"{name} is no longer a {kind}\n{where}"
    report = res.out_dir / "report.out"
    texts = [res.stdout, res.stderr]
    if report.is_file():
        texts.append(report.read_text(encoding="utf-8", errors="replace"))
    if spec.get("no_control_chars"):
        for text in texts:
            assert not _CONTROL.search(text), f"a control character got through\n{where}"
    if spec.get("xml"):
        ET.fromstring(report.read_bytes())  # raises when not well formed
    for name, needle in (spec.get("after_contains") or {}).items():
        text = (case_dir / name).read_text(encoding="utf-8", errors="replace")
        assert needle in text, f"{needle!r} not in {name}\n{where}"
    for needle in _as_list(spec.get("stdout_contains", [])):
        assert needle in res.stdout, f"{needle!r} not on stdout\n{where}"
    for needle in _as_list(spec.get("fifo_contains", [])):
        assert needle.encode() in res.fifo, f"{needle!r} not received by the FIFO reader\n{where}"
    if spec.get("no_reads_outside") and STRACE is not None:
        outside = str((res.work / "outside").resolve())
        leaked = [p for p in res.opened if p.startswith(outside) or "/outside/" in p]
        assert not leaked, f"opened outside the model folder: {leaked}\n{where}"


ALL_CASES = load_cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Run every case once, four at a time."""
    root = tmp_path_factory.mktemp("bad_inputs")
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {c.name: pool.submit(_run, c, root) for c in ALL_CASES}
        return {name: f.result() for name, f in futures.items()}


# --------------------------------------------------------------------------- the tests


def test_corpus_covers_the_issue() -> None:
    """The corpus holds the kinds of bad input the reliability issue lists."""
    names = {c.name for c in ALL_CASES}
    for required in (
        "onnx-truncated",
        "onnx-random-bytes",
        "onnx-external-traversal",
        "safetensors-oversized-header",
        "mlc-corrupt-tensor-cache",
        "runconfig-python-tag",
        "fifo-as-model",
        "symlink-loop",
        "unknown-device",
        "negative-context",
        "context-above-maximum",
        "unknown-quantization",
        "profile-dir-bad-profile",
        "directory-as-file",
        "empty-file",
        "missing-path",
    ):
        assert required in names


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_bad_input(case: Case, results: dict[str, Result]) -> None:
    res = results[case.name]
    if res.skip:
        pytest.skip(res.skip)
    spec = case.spec
    where = f"{case.name}: exit {res.code}\nstderr:\n{res.stderr}\nstdout:\n{res.stdout[:2000]}"
    assert res.code == spec["exit"], where
    _check_extras(case, res, where)
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, where
    assert "internal error" not in res.stderr, where
    produced = sorted(p.name for p in res.out_dir.iterdir())
    if spec["exit"] in (0, 1) and "stderr" not in spec:
        # Success (perhaps with a warning): the report is written (atomically) and carries the
        # expected text.
        report = res.out_dir / "report.out" if spec.get("output", True) else None
        text = report.read_text(encoding="utf-8") if report is not None else res.stdout
        assert produced == (["report.out"] if report is not None else []), where
        for needle in _as_list(spec.get("output_contains", [])):
            assert needle in " ".join(text.split()), f"{needle!r} not in output\n{where}"
        return
    # An error: one "error:" line (plus an optional "hint:" line) and nothing written.
    assert produced == [], f"left behind: {produced}\n{where}"
    lines = res.stderr.strip("\n").split("\n")
    assert lines[0].startswith("error: "), where
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), where
    for needle in _as_list(spec["stderr"]):
        assert needle in lines[0], f"{needle!r} not in the error line\n{where}"
    if "file" in spec:
        assert spec["file"] in lines[0], f"the error does not name {spec['file']}\n{where}"
    if "hint" in spec:
        assert len(lines) == 2 and spec["hint"] in lines[1], where
    assert res.stdout == "", where


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_debug_variable_shows_the_traceback(tmp_path: Path) -> None:
    """PLANNER_DEBUG=1 adds the traceback; without it there is none (checked above)."""
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"\x08")
    env = {**os.environ, "PLANNER_DEBUG": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "inspect", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 3
    assert "Traceback" in proc.stderr
    assert any(line.startswith("error: ") for line in proc.stderr.splitlines())
