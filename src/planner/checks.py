"""Deployment checks: a budget against a device profile, rule by rule (pure).

The rules themselves live in ``planner.rules`` (one registry); this module applies them, finds
the largest context that passes, and estimates decode speed, so a release engineer sees which
rule breaks, by how much, and how far the context can go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from planner.budget import MemoryBudget
from planner.device import DeviceProfile
from planner.errors import PlannerError
from planner.rules import SEVERITY, CheckResult, Status, blocks, run_rules
from planner.runtimes import estimate
from planner.settings import CheckOptions, RuntimeSettings
from planner.spec import ModelSpec

__all__ = [
    "CheckOptions",
    "CheckResult",
    "DecodeSpeed",
    "DeviceReport",
    "ModelReports",
    "Status",
    "blocks",
    "check_device",
    "decode_speed",
    "max_context",
    "run_checks",
]


@dataclass(frozen=True, slots=True)
class ModelReports:
    """All device reports of one model (one entry of a check run)."""

    model: str
    """The label shown for the model: the path as given, or a planner.yaml job's name."""
    reports: tuple[DeviceReport, ...]
    path: str = ""
    """The model path as given (relative stays relative), for file locations; defaults to
    ``model``."""

    @property
    def location(self) -> str:
        """Where CI annotations point: the model path."""
        return self.path or self.model


@dataclass(frozen=True, slots=True)
class DecodeSpeed:
    """Memory-bound decode speed estimate."""

    tokens_per_s: float
    bytes_per_token: int
    bandwidth_bytes_per_s: int
    efficiency: float
    efficiency_source: str
    estimate: bool


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """Every check of one budget on one device, plus the largest context that passes."""

    device: DeviceProfile
    budget: MemoryBudget
    checks: tuple[CheckResult, ...]
    max_context: int | None
    """Largest context (tokens) passing every check with the other settings unchanged;
    None when even the smallest context fails."""
    decode: DecodeSpeed | None

    @property
    def status(self) -> Status:
        """The worst status among the checks."""
        worst = Status.PASS
        for c in self.checks:
            if SEVERITY[c.status] > SEVERITY[worst]:
                worst = c.status
        return worst


def decode_speed(b: MemoryBudget, d: DeviceProfile) -> DecodeSpeed | None:
    """tokens/s ≈ bandwidth × efficiency ÷ bytes read per token (weights + half the KV)."""
    if d.mem_bandwidth_bytes_per_s is None:
        return None
    # Each generated token streams every weight once and, on average, half the context's KV.
    per_token = b.weights_bytes + b.kv_cache_bytes // 2
    if per_token <= 0:
        return None
    bw = d.mem_bandwidth_bytes_per_s.value
    eff = d.decode_efficiency.value
    return DecodeSpeed(
        bw * eff / per_token,
        per_token,
        bw,
        eff,
        d.decode_efficiency.source,
        d.mem_bandwidth_bytes_per_s.estimate or d.decode_efficiency.estimate,
    )


def run_checks(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> tuple[CheckResult, ...]:
    """Every rule that applies to this device and runtime."""
    return run_rules(b, d, o)


def _passes(
    spec: ModelSpec,
    settings: RuntimeSettings,
    d: DeviceProfile,
    o: CheckOptions,
    context: int,
    draft: ModelSpec | None,
) -> bool:
    b = estimate(spec, replace(settings, context=context), draft)
    return not any(blocks(c) for c in run_rules(b, d, o))


def max_context(
    spec: ModelSpec,
    settings: RuntimeSettings,
    d: DeviceProfile,
    o: CheckOptions,
    draft: ModelSpec | None = None,
    upper: int | None = None,
) -> int | None:
    """Largest context passing every check (binary search; memory is monotone in context)."""
    hi = upper or max(spec.max_context or 0, settings.context or 0, 4096)
    lo = 1
    fits: Callable[[int], bool] = lambda c: _passes(spec, settings, d, o, c, draft)  # noqa: E731
    try:
        if not fits(lo):
            return None
        if fits(hi):
            return hi
    except PlannerError:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def check_device(
    spec: ModelSpec,
    settings: RuntimeSettings,
    d: DeviceProfile,
    o: CheckOptions = CheckOptions(),
    draft: ModelSpec | None = None,
) -> DeviceReport:
    """Estimate, run every check and find the largest context that passes."""
    b = estimate(spec, settings, draft)
    checks = run_checks(b, d, o)
    pinned = replace(settings, prefill=b.settings.prefill) if settings.prefill is None else settings
    return DeviceReport(d, b, checks, max_context(spec, pinned, d, o, draft), decode_speed(b, d))
