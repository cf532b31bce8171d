"""The one error hierarchy of planner, and the single place that maps errors to exit codes.

Library code raises these; the CLI turns them into a one-line message on stderr and the
documented exit code (see ``ExitCode``). Anything else escaping is a bug, reported as such.
"""

from __future__ import annotations

from enum import IntEnum

from planner.text import one_line as _one_line
from planner.text import sanitize as _sanitize


class ExitCode(IntEnum):
    """Documented process exit codes (a contract for CI pipelines)."""

    OK = 0
    """Everything ran and every check passed."""
    CHECK_FAILED = 1
    """A deployment check failed (or a warning, under ``--strict``)."""
    USAGE = 2
    """The command line or a config file was wrong (unknown option, device, value)."""
    INVALID_INPUT = 3
    """An artifact or profile could not be read, or is invalid or unsafe."""
    INTERNAL = 4
    """A bug in planner: please report it with ``PLANNER_DEBUG=1`` output."""


MAX_MESSAGE_CHARS = 2000
"""Longest error message printed (the file name comes on top)."""


class PlannerError(Exception):
    """Base of every error planner raises on purpose.

    ``message`` is one line naming what is wrong (and the file, when there is one);
    ``hint`` optionally says what to do about it.
    """

    exit_code: ExitCode = ExitCode.INVALID_INPUT

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None) -> None:
        self.message = message
        self.path = path
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as printed: ``<path>: <message>`` when a file is involved.

        Capped at ``MAX_MESSAGE_CHARS``: messages quote values from untrusted files, and one of
        those may be megabytes long. Control characters (in the message or the file name) are
        shown as escapes (``planner.text``), so the line stays one line and a terminal
        interprets nothing.
        """
        text = _one_line(self.message, limit=MAX_MESSAGE_CHARS)
        return f"{_sanitize(self.path, limit=MAX_MESSAGE_CHARS)}: {text}" if self.path else text


class UsageError(PlannerError):
    """A bad option value, an unknown device, a wrong combination of flags."""

    exit_code = ExitCode.USAGE


class UnknownDeviceError(UsageError):
    """A ``--device`` name matched no profile (or matched several)."""


class UnknownQuantizationError(UsageError):
    """A quantization name that neither MLC nor onnxruntime knows."""


class ConfigFileError(UsageError):
    """A ``planner.yaml`` run configuration is invalid."""


class InputError(PlannerError):
    """An input artifact could not be read or is invalid."""

    exit_code = ExitCode.INVALID_INPUT


class UnsupportedArtifactError(InputError):
    """No adapter recognises the path."""


class ArtifactFormatError(InputError):
    """The artifact is malformed: truncated, wrong type, inconsistent fields."""


class UnsafeArtifactError(InputError):
    """The artifact points outside its folder, at a device file, or claims absurd sizes."""


class ProfileError(InputError):
    """A device profile file is invalid (unknown key, wrong type, missing source)."""


class MissingDependencyError(PlannerError):
    """An optional extra (onnxruntime-genai, matplotlib) is needed for this command."""

    exit_code = ExitCode.USAGE


def exit_code_for(error: BaseException) -> ExitCode:
    """Map any exception to the documented exit code; unknown exceptions are bugs."""
    if isinstance(error, PlannerError):
        return error.exit_code
    return ExitCode.INTERNAL
