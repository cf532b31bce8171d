"""Writing reports (``--output``): atomic over regular files, never replacing special files.

What planner does with each kind of target (docs/security.md, "Output files"):

- missing, or a regular file: the data goes to a temporary file in the same folder
  (``.planner-XXXXXXXX.tmp``, short enough for any valid target name), is flushed to disk and
  renamed over the target (``os.replace`` is atomic). On any failure, interruption included,
  the temporary file is removed and an existing target keeps its previous content; an existing
  file keeps its mode, a new one gets the umask's.
- a symlink to a regular file: the file the link points to is replaced atomically, as above,
  in its own folder; the link stays a link.
- ``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/N``, ``/proc/self/fd/N``: written to that open
  descriptor of planner itself.
- a character device (``/dev/null``, a terminal) or a FIFO, named directly or through
  symlinks: opened for writing and written in place, never replaced. A FIFO that nobody reads
  is an error rather than a hang.
- a directory, a socket, a block device, a dangling symlink or a symlink loop: refused.

Errors are a one-line ``InputError`` naming the file (exit code 3).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from planner.errors import InputError

_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
_STD_STREAMS = {"/dev/stdout": 1, "/dev/stderr": 2}
TEMP_PREFIX = ".planner-"
TEMP_SUFFIX = ".tmp"


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


def _fail(path: Path, reason: str) -> InputError:
    return InputError(f"cannot write the output: {reason}", path=str(path))


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` by the rule for its kind (see the module docstring)."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd_number = _STD_STREAMS.get(str(path))
    match = _FD_PATH.match(str(path))
    if match is not None:
        fd_number = int(match.group(1))
    if fd_number is not None:
        _write_descriptor(path, fd_number, payload)
        return
    try:
        st = path.lstat()
    except FileNotFoundError:
        _replace(path, payload)
        return
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None
    if stat.S_ISLNK(st.st_mode):
        _write_through_link(path, payload)
    elif stat.S_ISREG(st.st_mode):
        _replace(path, payload)
    else:
        _write_special(path, st.st_mode, payload)


def _write_through_link(path: Path, payload: bytes) -> None:
    try:
        target = path.resolve(strict=True)
        st = target.stat()
    except FileNotFoundError:
        raise _fail(path, "it is a symlink to nothing (dangling)") from None
    except RuntimeError:
        raise _fail(path, "it is a symlink loop") from None
    except OSError as exc:
        reason = "it is a symlink loop" if exc.errno == errno.ELOOP else exc.strerror or str(exc)
        raise _fail(path, reason) from None
    if stat.S_ISREG(st.st_mode):
        _replace(target, payload, shown=path)
    else:
        _write_special(path, st.st_mode, payload)


def _write_special(path: Path, mode: int, payload: bytes) -> None:
    """A character device or FIFO is written in place; anything else is refused."""
    if stat.S_ISDIR(mode):
        raise _fail(path, "it is a directory")
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        kind = "a socket" if stat.S_ISSOCK(mode) else "a block device or special file"
        raise _fail(path, f"it is {kind}")
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO and stat.S_ISFIFO(mode):
            raise _fail(path, "it is a FIFO that no process is reading") from None
        raise _fail(path, exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            raise _fail(path, "it changed while being opened")
        os.set_blocking(fd, True)  # non-blocking only so that opening a FIFO cannot hang
        _write_all(fd, payload)
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def _write_descriptor(path: Path, fd: int, payload: bytes) -> None:
    """``/dev/stdout`` and friends: planner's own open descriptor."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    try:
        os.fstat(fd)
        _write_all(fd, payload)
    except OSError as exc:
        raise _fail(path, exc.strerror or str(exc)) from None


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _replace(path: Path, payload: bytes, *, shown: Path | None = None) -> None:
    """Temporary file in the same folder, fsync, rename over ``path``."""
    shown = shown or path
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("output folder does not exist", path=str(folder))
    mode = _new_file_mode(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise _fail(shown, exc.strerror or str(exc)) from None
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
            reason = "it is a directory" if exc.errno == errno.EISDIR else exc.strerror or exc
            raise _fail(shown, str(reason)) from None
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
