"""Atomic file writes: a failed run never leaves a half-written file behind.

The data goes to a temporary file in the destination folder, is flushed to disk, and is
renamed over the destination (``os.replace`` is atomic on POSIX and Windows). On any failure,
interruption included, the temporary file is removed and an existing destination keeps its
previous content. Write errors (read-only folder, full disk, a directory in the way) become a
one-line ``InputError`` naming the file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from planner.errors import InputError


def _new_file_mode(path: Path) -> int:
    """The mode the destination would get from a plain ``open()``: its current mode when it
    exists, else 0o666 minus the umask (mkstemp's own 0o600 would hide reports from others)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        pass
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("output folder does not exist", path=str(folder))
    if path.is_dir():
        raise InputError("cannot write the output: it is a directory", path=str(path))
    mode = _new_file_mode(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(
            f"cannot write the output: {exc.strerror or exc}", path=str(path)
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise InputError(
                f"cannot write the output: {exc.strerror or exc}", path=str(path)
            ) from None
        raise
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
