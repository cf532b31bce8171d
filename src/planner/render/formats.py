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
