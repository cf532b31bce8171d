"""Atomic writes: a failure mid-write keeps the previous file and leaves no temporary file."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from planner.atomic import write_atomic
from planner.errors import InputError, PlannerError


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_and_replaces(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    write_atomic(out, "first\n")
    write_atomic(out, b"second\n")
    assert out.read_text() == "second\n"
    assert _listing(tmp_path) == ["report.json"]


def test_new_file_gets_the_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    umask = os.umask(0o022)
    try:
        write_atomic(out, "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    out.write_text("old")
    out.chmod(0o640)
    write_atomic(out, "new")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_failed_rename_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "planner.json"
    out.write_text("previous good report\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(InputError, match="cannot write the output: Input/output error") as err:
        write_atomic(out, "new report that must not appear half-written\n")
    assert err.value.path == str(out)
    assert out.read_text() == "previous good report\n"
    assert _listing(tmp_path) == ["planner.json"]


def test_disk_full_mid_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "fragment.json"
    out.write_text("{}\n")

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(PlannerError, match="No space left on device"):
        write_atomic(out, "x" * 100_000)
    assert out.read_text() == "{}\n"
    assert _listing(tmp_path) == ["fragment.json"]


def test_interrupt_mid_write_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report.txt"

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, "partial")
    assert _listing(tmp_path) == []


def test_directory_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "out.json").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        write_atomic(tmp_path / "out.json", "x")
    assert _listing(tmp_path / "out.json") == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="output folder does not exist"):
        write_atomic(tmp_path / "nope" / "out.json", "x")
    assert _listing(tmp_path) == []


def test_unwritable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a read-only folder does to mkstemp (simulated: root ignores permissions)."""
    out = tmp_path / "out.json"
    out.write_text("old")

    def denied(**kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(InputError, match="cannot write the output: Permission denied"):
        write_atomic(out, "new")
    assert out.read_text() == "old"


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions"
)
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "out.json").write_text("old")
    folder.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot write the output"):
            write_atomic(folder / "out.json", "new")
        assert (folder / "out.json").read_text() == "old"
        assert _listing(folder) == ["out.json"]
    finally:
        folder.chmod(0o700)


def _planner(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PLANNER_DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_cli_failure_keeps_the_previous_report(tmp_path: Path) -> None:
    """A CI step re-run on a broken model must not clobber (or half-write) the last report."""
    (tmp_path / "model.onnx").write_bytes(b"\x0a\x05trunc")
    report = tmp_path / "report.json"
    report.write_text('{"previous": true}\n')
    proc = _planner(
        "estimate", "model.onnx", "--format", "json", "--output", "report.json", cwd=tmp_path
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.startswith("error: model.onnx: ")
    assert report.read_text() == '{"previous": true}\n'
    assert _listing(tmp_path) == ["model.onnx", "report.json"]


def test_cli_output_is_a_directory(tmp_path: Path) -> None:
    cfg = Path(__file__).parent / "data" / "hf_configs" / "qwen2.5-0.5b.json"
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text(cfg.read_text())
    (tmp_path / "out").mkdir()
    proc = _planner("estimate", "model", "--output", "out", cwd=tmp_path)
    assert proc.returncode == 3
    assert proc.stderr.strip() == "error: out: cannot write the output: it is a directory"
    assert _listing(tmp_path / "out") == []
