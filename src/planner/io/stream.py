"""Reports written while a long run goes on, by the same rule as ``write_atomic``.

A regular (or missing) target gets a temporary file in its folder that grows as results arrive
and is renamed over the target only when the run finishes (``commit``): a run that fails or is
interrupted leaves the previous file as it was. ``/dev/stdout``-style paths, character devices
and FIFOs are written in place as the data comes (they cannot be replaced); anything else is
refused, exactly as ``planner.io.atomic`` decides (docs/security.md, "Output files").
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from planner.errors import InputError
from planner.io.atomic import (
    _FD_PATH,
    _STD_STREAMS,
    TEMP_PREFIX,
    TEMP_SUFFIX,
    _fail,
    _new_file_mode,
    _sync_folder,
)


class OutputStream:
    """An output file written piece by piece; use as a context manager (commits on success)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tmp: str | None = None
        self._target = path
        self._fh: BinaryIO | None = None
        self._fd: int | None = None
        self._mode = 0
        self._open()

    def _open(self) -> None:
        path = self.path
        fd_number = _STD_STREAMS.get(str(path))
        match = _FD_PATH.match(str(path))
        if match is not None:
            fd_number = int(match.group(1))
        if fd_number is not None:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
            self._fd = fd_number
            return
        try:
            st = path.lstat()
        except FileNotFoundError:
            self._start_temp(path)
            return
        except OSError as exc:
            raise _fail(path, exc.strerror or str(exc)) from None
        target = path
        if stat.S_ISLNK(st.st_mode):
            try:
                target = path.resolve(strict=True)
                st = target.stat()
            except (OSError, RuntimeError):
                raise _fail(path, "it is a dangling symlink or a symlink loop") from None
        if stat.S_ISREG(st.st_mode):
            self._start_temp(target)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)
            try:
                self._fd = os.open(target, flags)
            except OSError as exc:
                raise _fail(path, exc.strerror or str(exc)) from None
            os.set_blocking(self._fd, True)
        else:
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a file planner can write"
            raise _fail(path, f"it is {kind}")

    def _start_temp(self, target: Path) -> None:
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir():
            raise InputError("output folder does not exist", path=str(folder))
        self._target = target
        self._mode = _new_file_mode(target)
        try:
            fd, self._tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=folder)
        except OSError as exc:
            raise _fail(self.path, exc.strerror or str(exc)) from None
        self._fh = os.fdopen(fd, "wb")

    def write(self, text: str) -> None:
        """Append ``text`` (UTF-8)."""
        data = text.encode("utf-8")
        try:
            if self._fh is not None:
                self._fh.write(data)
            elif self._fd is not None:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise _fail(self.path, exc.strerror or str(exc)) from None

    def commit(self) -> None:
        """Finish: rename the temporary file over the target (regular files)."""
        if self._fh is not None and self._tmp is not None:
            try:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._fh.close()
                os.chmod(self._tmp, self._mode)
                os.replace(self._tmp, self._target)
            except OSError as exc:
                self.abort()
                raise _fail(self.path, exc.strerror or str(exc)) from None
            self._tmp = None
            _sync_folder(self._target.parent if str(self._target.parent) else Path("."))
        self._close_fd()

    def abort(self) -> None:
        """Give up: remove the temporary file; an existing target keeps its content."""
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            self._tmp = None
        self._close_fd()

    def _close_fd(self) -> None:
        if self._fd is not None and self._fd > 2 and not _FD_PATH.match(str(self.path)):
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None

    def __enter__(self) -> OutputStream:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()
