"""Deployment checks: a budget against a device profile, rule by rule (pure).

Each check is a named rule with its threshold, the measured value, the margin and the
source of the rule, so a release engineer sees which rule breaks and by how much.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from planner.budget import MemoryBudget, estimate
from planner.device import DeviceProfile
from planner.errors import PlannerError
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

MIB = 1024 * 1024


class Status(str, Enum):
    """Outcome of one check; ordered by severity."""

    PASS = "pass"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


SEVERITY = {Status.SKIP: 0, Status.PASS: 0, Status.INFO: 0, Status.WARN: 1, Status.FAIL: 2}


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Knobs of the checks (all documented in docs/reference.md)."""

    ram_fraction: float = 0.70
    entitlement: bool = False
    """Assume ``com.apple.developer.kernel.increased-memory-limit`` is granted."""
    background_fraction: float = 0.25
    """Warn about background kills when the app holds more than this share of RAM."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One rule applied to one budget on one device."""

    id: str
    title: str
    status: Status
    message: str
    measured_bytes: int | None = None
    limit_bytes: int | None = None
    threshold: str = ""
    source: str = ""

    @property
    def margin_bytes(self) -> int | None:
        """limit − measured (negative when the rule is broken)."""
        if self.measured_bytes is None or self.limit_bytes is None:
            return None
        return self.limit_bytes - self.measured_bytes


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


def _mb(n: int) -> str:
    return f"{n / MIB:,.0f} MiB"


def _limit_check(
    cid: str, title: str, measured: int, limit: int, threshold: str, source: str, what: str
) -> CheckResult:
    ok = measured <= limit
    margin = limit - measured
    msg = (
        f"{what} {_mb(measured)} ≤ {_mb(limit)} ({_mb(margin)} to spare)"
        if ok
        else f"{what} {_mb(measured)} > {_mb(limit)} (over by {_mb(-margin)})"
    )
    return CheckResult(
        cid, title, Status.PASS if ok else Status.FAIL, msg, measured, limit, threshold, source
    )


def check_ram_fraction(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult:
    """weights + KV + activations within a fraction (70%) of RAM."""
    measured = b.weights_bytes + b.kv_cache_bytes + b.activations_bytes
    limit = int(d.ram_bytes.value * o.ram_fraction)
    return _limit_check(
        "ram-fraction",
        f"{o.ram_fraction:.0%} of RAM rule",
        measured,
        limit,
        f"weights + KV + activations ≤ {o.ram_fraction:.0%} × RAM ({_mb(d.ram_bytes.value)})",
        "seed articles (shared/seeds): keep the model within ~70% of device RAM; "
        f"RAM: {d.ram_bytes.source}",
        "weights + KV + activations",
    )


def check_ios_limit(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult:
    """iOS per-app (jetsam) limit on the dirty footprint; MLC's app pre-check too."""
    if d.os not in ("ios", "ipados"):
        return CheckResult(
            "ios-app-limit",
            "iOS per-app memory limit",
            Status.SKIP,
            f"{d.os} device: no iOS per-app limit",
        )
    sourced = d.ios_app_limit_entitled_bytes if o.entitlement else d.ios_app_limit_bytes
    if sourced is None:
        return CheckResult(
            "ios-app-limit",
            "iOS per-app memory limit",
            Status.SKIP,
            "the profile gives no per-app limit for this setting",
        )
    measured = b.footprint_bytes
    what = "footprint (dirty memory)"
    if b.settings.runtime is Runtime.MLC:
        # MLCChat compares os_proc_available_memory() with estimated_vram_bytes before loading.
        measured = max(measured, b.total_bytes)
        what = "footprint / estimated_vram_bytes"
    ent = "with" if o.entitlement else "without"
    res = _limit_check(
        "ios-app-limit",
        f"iOS per-app limit ({ent} increased-memory-limit)",
        measured,
        sourced.value,
        f"footprint ≤ per-app limit {_mb(sourced.value)}"
        + (" (estimate)" if sourced.estimate else ""),
        f"{sourced.source}; MLCChat refuses to load when os_proc_available_memory() < "
        "estimated_vram_bytes (mlc-llm ios/MLCChat ChatState.swift)",
        what,
    )
    if res.status is Status.FAIL and not o.entitlement and d.ios_app_limit_entitled_bytes:
        ent_limit = d.ios_app_limit_entitled_bytes.value
        hint = (
            " — fits with the increased-memory-limit entitlement" if measured <= ent_limit else ""
        )
        res = replace(res, message=res.message + hint)
    return res


def check_android(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> tuple[CheckResult, ...]:
    """Low-memory-killer headroom for a foreground app, and the background-kill warning."""
    if d.os != "android":
        return (
            CheckResult(
                "android-lmk",
                "Android low-memory-killer headroom",
                Status.SKIP,
                f"{d.os} device: no Android low-memory killer",
            ),
        )
    out = []
    if d.android_foreground_budget_bytes is not None:
        fb = d.android_foreground_budget_bytes
        out.append(
            _limit_check(
                "android-lmk",
                "Android foreground budget (lmkd headroom)",
                b.total_bytes,
                fb.value,
                f"resident total ≤ foreground budget {_mb(fb.value)}"
                + (" (estimate)" if fb.estimate else ""),
                fb.source,
                "resident total",
            )
        )
    share = b.total_bytes / d.ram_bytes.value
    bg_status = Status.WARN if share > o.background_fraction else Status.PASS
    out.append(
        CheckResult(
            "android-background",
            "Android background kill risk",
            bg_status,
            f"the app would hold {share:.0%} of RAM; "
            + (
                "lmkd kills large background apps first: expect the model to be reloaded after "
                "switching apps"
                if bg_status is Status.WARN
                else "background kills unlikely to target it"
            ),
            b.total_bytes,
            int(d.ram_bytes.value * o.background_fraction),
            f"warn above {o.background_fraction:.0%} of RAM",
            d.android_background_note or "AOSP system/memory/lmkd README (oom_score_adj ordering)",
        )
    )
    return tuple(out)


def check_mlc_engine(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> tuple[CheckResult, ...]:
    """MLC engine: params + 2 × temp + workspaces ≤ utilization × memory; then the KV must fit."""
    if b.settings.runtime is not Runtime.MLC or b.mlc_engine is None:
        return ()
    if d.mlc_engine_memory_bytes is None:
        return (
            CheckResult(
                "mlc-engine",
                "MLC engine budget",
                Status.SKIP,
                "the profile gives no MLC device memory figure",
            ),
        )
    e = b.mlc_engine
    util = b.settings.gpu_memory_utilization
    budget = int(d.mlc_engine_memory_bytes.value * util)
    src = (
        f"mlc-llm cpp/serve/config.cc InferForKVCache (gpu_memory_utilization {util}); "
        f"device memory: {d.mlc_engine_memory_bytes.source}"
    )
    start = _limit_check(
        "mlc-engine",
        "MLC engine start-up budget",
        e.startup_bytes,
        budget,
        f"params + 2 × temp + workspaces ≤ {util} × {_mb(d.mlc_engine_memory_bytes.value)}",
        src,
        "params + 2 × temp + workspaces",
    )
    if start.status is Status.FAIL:
        start = replace(
            start,
            message=start.message
            + " — MLC fails with 'Insufficient GPU memory'; lower the prefill chunk "
            "or choose a smaller quantization",
        )
    room = budget - e.startup_bytes
    per_token = b.kv_bytes_per_token * b.settings.batch
    need = b.kv_cache_bytes
    if room <= 0:
        kv = CheckResult(
            "mlc-kv-capacity",
            "MLC KV capacity",
            Status.FAIL,
            "no memory left for any KV page after start-up",
            need,
            max(room, 0),
            "KV cache for the context ≤ budget − start-up",
            src,
        )
    else:
        fit_tokens = room // max(per_token, 1)
        ok = need <= room
        kv = CheckResult(
            "mlc-kv-capacity",
            "MLC KV capacity",
            Status.PASS if ok else Status.WARN,
            (
                f"KV for {b.settings.context} tokens fits ({_mb(room - need)} to spare)"
                if ok
                else f"the engine can hold only ~{fit_tokens} tokens of KV, "
                f"not {b.settings.context}: "
                "conversations will be cut"
            ),
            need,
            room,
            "KV cache for the context ≤ budget − start-up",
            src,
        )
    return (start, kv)


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
    return (
        check_ram_fraction(b, d, o),
        check_ios_limit(b, d, o),
        *check_android(b, d, o),
        *check_mlc_engine(b, d, o),
    )


ADVISORY = frozenset({"android-background"})
"""Checks whose warnings inform but never reject a plan or shorten the largest context."""


def blocks(c: CheckResult) -> bool:
    """Whether this result rejects a plan: a failure, or a warning of a non-advisory check."""
    return c.status in (Status.FAIL, Status.WARN) and c.id not in ADVISORY


def _passes(
    spec: ModelSpec,
    settings: RuntimeSettings,
    d: DeviceProfile,
    o: CheckOptions,
    context: int,
    draft: ModelSpec | None,
) -> bool:
    b = estimate(spec, replace(settings, context=context), draft)
    return not any(blocks(c) for c in run_checks(b, d, o))


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
