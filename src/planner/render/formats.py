"""Report formats each command offers (enums only: the CLI reads them at start-up)."""

from __future__ import annotations

from enum import Enum


class CheckFormat(str, Enum):
    """Output formats of check."""

    text = "text"
    json = "json"
    junit = "junit"
    sarif = "sarif"
    github = "github"
    html = "html"


class StreamFormat(str, Enum):
    """Formats a check run can stream (``--jsonl``, ``--junit``, ``--sarif``, ``--github``,
    ``--summary``)."""

    jsonl = "jsonl"
    junit = "junit"
    sarif = "sarif"
    github = "github"
    summary = "summary"
