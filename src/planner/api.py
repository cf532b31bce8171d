"""The library interface the CLI calls: thin wrappers joining adapters and pure planning.

Only ``read_model`` and ``load_profiles`` touch the filesystem; everything else is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from planner.budget import MemoryBudget, estimate
from planner.checks import CheckOptions, DeviceReport, check_device
from planner.device import DeviceProfile, resolve_device
from planner.device_loader import load_profiles
from planner.registry import read_model
from planner.settings import RuntimeSettings
from planner.spec import ModelSpec

__all__ = [
    "CheckOptions",
    "RuntimeSettings",
    "check_devices",
    "estimate",
    "estimate_path",
    "load_profiles",
    "read_model",
    "resolve_devices",
]


def estimate_path(
    path: Path, settings: RuntimeSettings, draft: Path | None = None, adapter: str | None = None
) -> tuple[ModelSpec, MemoryBudget]:
    """Read a model (and optional draft) and estimate its budget."""
    spec = read_model(path, adapter)
    draft_spec = read_model(draft) if draft is not None else None
    return spec, estimate(spec, settings, draft_spec)


def resolve_devices(names: Sequence[str], profiles: Sequence[DeviceProfile]) -> list[DeviceProfile]:
    """Resolve every ``--device`` name (errors list candidates)."""
    return [resolve_device(n, profiles) for n in names]


def check_devices(
    spec: ModelSpec,
    settings: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    draft: ModelSpec | None = None,
) -> list[DeviceReport]:
    """Check one model on several devices."""
    return [check_device(spec, settings, d, options, draft) for d in devices]
