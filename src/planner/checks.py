"""Deployment checks: a budget against a device profile, rule by rule (pure).

The rules themselves live in ``planner.rules`` (one registry); this module applies them, finds
the largest context that passes, and estimates decode speed, so a release engineer sees which
rule breaks, by how much, and how far the context can go.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.budget import MemoryBudget
from planner.device import DeviceProfile
from planner.errors import PlannerError
from planner.rules import ADVISORY, SEVERITY, CheckResult, Status, blocks, run_rules
from planner.runtimes import estimate, model_for
from planner.settings import CheckOptions, RuntimeSettings
from planner.spec import ModelSpec

__all__ = [
    "CheckOptions",
    "CheckResult",
    "DecodeSpeed",
    "DeviceReport",
    "JobOutcome",
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
    error: str | None = None
    """Why the job could not be planned (then ``reports`` is empty)."""

    @property
    def location(self) -> str:
        """Where CI annotations point: the model path."""
        return self.path or self.model


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """One job of a check run: its reports, or why it could not be planned."""

    index: int
    """1-based position in the run."""
    name: str
    location: str
    """The model path as given (where CI annotations point)."""
    run: ModelReports | None
    error: str | None = None
    seconds: float = 0.0

    def status_text(self, strict: bool) -> str:
        """``pass``, ``warn``, ``fail`` (a warning counts as a failure under ``strict``), or
        ``error`` when the job could not be planned."""
        if self.run is None:
            return "error"
        worst = Status.PASS
        for r in self.run.reports:
            if SEVERITY[r.status] > SEVERITY[worst]:
                worst = r.status
        if worst is Status.WARN:
            return "fail" if strict else "warn"
        return "fail" if worst is Status.FAIL else "pass"

    @classmethod
    def of(cls, run: ModelReports, index: int = 0) -> JobOutcome:
        """A planned job."""
        return cls(index, run.model, run.location, run)


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
    """The budget as the runtime allocates it on the device (``RuntimeModel.allocated``)."""
    checks: tuple[CheckResult, ...]
    max_context: int | None
    """Largest context (tokens) passing every check with the other settings unchanged;
    None when even the smallest context fails."""
    decode: DecodeSpeed | None
    max_context_is_lower_bound: bool = False
    """The search stopped at its bound because the model does not say its maximum: "≥ N"."""

    @property
    def status(self) -> Status:
        """The worst status among the checks."""
        worst = Status.PASS
        for c in self.checks:
            if SEVERITY[c.status] > SEVERITY[worst]:
                worst = c.status
        return worst


def decode_speed(b: MemoryBudget, d: DeviceProfile) -> DecodeSpeed | None:
    """tokens/s ≈ bandwidth × efficiency ÷ bytes read per token (``decode_read_bytes``: every
    weight but the gathered embedding rows and the MoE experts a token is not routed to, and
    half the context's KV)."""
    if d.mem_bandwidth_bytes_per_s is None:
        return None
    per_token = b.decode_read_bytes
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


UNKNOWN_MAX_SEARCH = 131_072
"""How far the context search goes when the model does not say its maximum ("≥ N" beyond)."""


def search_upper(spec: ModelSpec, settings: RuntimeSettings) -> int:
    """The context search's upper end: the model's maximum when known, else a large bound."""
    if spec.max_context:
        return spec.max_context
    return max(settings.context or 0, UNKNOWN_MAX_SEARCH)


def headroom_bytes(results: tuple[CheckResult, ...], margin: float = 0.0) -> int | None:
    """The smallest ``limit × (1 − margin) − measured`` over the results that can reject a plan
    (negative: over); None when no such result carries both numbers. A blocking result without
    numbers counts as −1 (it fails whatever the context)."""
    worst: int | None = None
    for c in results:
        if c.status is Status.SKIP or c.id in ADVISORY:
            continue
        if c.measured_bytes is None or c.limit_bytes is None:
            if blocks(c):
                return -1
            continue
        room = int(c.limit_bytes * (1.0 - margin)) - c.measured_bytes
        if blocks(c) and room >= 0:
            room = -1  # a warning that rejects (KV capacity) despite its numbers
        worst = room if worst is None else min(worst, room)
    return worst


class _Probe:
    """Headroom at a context, memoised: the search asks for some contexts more than once."""

    def __init__(
        self,
        spec: ModelSpec,
        settings: RuntimeSettings,
        d: DeviceProfile,
        o: CheckOptions,
        draft: ModelSpec | None,
        margin: float,
    ) -> None:
        self.spec, self.settings, self.d, self.o = spec, settings, d, o
        self.draft, self.margin = draft, margin
        self.seen: dict[int, int] = {}

    def room(self, context: int) -> int:
        if context not in self.seen:
            b = estimate(self.spec, replace(self.settings, context=context), self.draft)
            found = headroom_bytes(run_rules(b, self.d, self.o), self.margin)
            self.seen[context] = 0 if found is None else found
        return self.seen[context]

    def fits(self, context: int) -> bool:
        return self.room(context) >= 0


def max_context(
    spec: ModelSpec,
    settings: RuntimeSettings,
    d: DeviceProfile,
    o: CheckOptions,
    draft: ModelSpec | None = None,
    upper: int | None = None,
    margin: float = 0.0,
) -> int | None:
    """Largest context passing every check, keeping ``margin`` of each limit spare; None when
    even one token fails.

    Closed form first: past the prefill chunk every budget term is constant in the context but
    the KV cache, which is linear (paged in 16-token steps for MLC; flat once a sliding window is
    full), so the headroom at two contexts gives the crossing point. The answer is then verified
    exactly (a few evaluations around it), with a bisection as the fallback for shapes that are
    not linear. Memory never falls as the context grows, so the answer is exact.
    """
    settings = model_for(settings.runtime).settings_for_device(settings, d)
    hi = upper or search_upper(spec, settings)
    probe = _Probe(spec, settings, d, o, draft, margin)
    try:
        if probe.fits(hi):
            return hi
        if not probe.fits(1):
            return None
        lo = 1  # fits(lo) and not fits(hi) from here on
        anchor = min(max(settings.prefill or 1, 1), hi - 1)
        if anchor > lo and probe.fits(anchor):
            lo = anchor
        r_lo, r_hi = probe.room(lo), probe.room(hi)
        if r_lo > r_hi:  # the crossing point of the affine headroom
            guess = lo + (hi - lo) * r_lo // (r_lo - r_hi)
            lo, hi = _bracket(probe, lo, hi, guess)
    except PlannerError:
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if probe.fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _bracket(probe: _Probe, lo: int, hi: int, guess: int) -> tuple[int, int]:
    """Narrow (lo, hi) around ``guess``: gallop away from it until the fit flips."""
    guess = min(max(guess, lo + 1), hi - 1)
    step = 16  # one KV page: the step the linear estimate can be off by
    if probe.fits(guess):
        lo = guess
        while lo + step < hi and probe.fits(lo + step):
            lo += step
            step *= 2
        return lo, min(hi, lo + step)
    hi = guess
    while hi - step > lo and not probe.fits(hi - step):
        hi -= step
        step *= 2
    return max(lo, hi - step), hi


def check_device(
    spec: ModelSpec,
    settings: RuntimeSettings,
    d: DeviceProfile,
    o: CheckOptions = CheckOptions(),
    draft: ModelSpec | None = None,
) -> DeviceReport:
    """Estimate, run every check and find the largest context that passes (with the settings as
    they apply on the device: ``RuntimeModel.settings_for_device``)."""
    settings = model_for(settings.runtime).settings_for_device(settings, d)
    b = estimate(spec, settings, draft)
    checks = run_checks(b, d, o)
    pinned = replace(settings, prefill=b.settings.prefill) if settings.prefill is None else settings
    upper = search_upper(spec, settings)
    best = max_context(spec, pinned, d, o, draft, upper)
    return DeviceReport(
        d,
        # As the runtime allocates it on d (MLC: the engine's KV pool), which the checks read.
        model_for(settings.runtime).allocated(b, d),
        checks,
        best,
        decode_speed(b, d),
        max_context_is_lower_bound=(best == upper and not spec.max_context),
    )
