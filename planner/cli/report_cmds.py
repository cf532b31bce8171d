"""Report commands (plot, HTML report): registered on the main app by import."""

from __future__ import annotations
