"""Atomic report writes (moved to ``planner.io.atomic``; this name stays for callers)."""

from __future__ import annotations

from planner.io.atomic import write_atomic

__all__ = ["write_atomic"]
