"""The device rules: one object per check, in one registry (pure).

A ``Rule`` has an id, a title, where its threshold comes from, whether it is advisory (informs,
never rejects a plan), whether its limit is a ceiling on the resident total (charts draw those
as lines), and ``run``, which applies it to one budget on one device. ``run`` returns None when
the rule does not apply at all (an MLC rule for an onnxruntime budget), or a ``SKIP`` result when
it applies but the profile lacks the number. Everything else (``planner.checks``, the plot
limits, the advisory list, the JSON schema's text) is derived from ``RULES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from planner.budget import MemoryBudget
from planner.device import DeviceProfile
from planner.runtimes import model_for
from planner.runtimes.mlc.capacity import KV_LABEL, fit_tokens, pool_for, span_tokens
from planner.settings import CheckOptions

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


RuleFn = Callable[[MemoryBudget, DeviceProfile, CheckOptions], CheckResult | None]


@dataclass(frozen=True, slots=True)
class Rule:
    """One device rule."""

    id: str
    title: str
    run: RuleFn
    source: str
    """Where the rule itself comes from (thresholds' own sources are in each result)."""
    advisory: bool = False
    """Warnings inform but never reject a plan or shorten the largest context."""
    ceiling: bool = False
    """Its limit is a ceiling on the resident total (drawn as a line on charts)."""
    planned: bool = False
    """Reads the budget as planned (the engine's own start-up and capacity arithmetic); the
    others read it as the runtime allocates it on the device (``RuntimeModel.allocated``)."""


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


def ram_fraction(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult:
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


def ios_app_limit(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult:
    """iOS per-app (jetsam) limit on the dirty footprint; an app's own pre-check too."""
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
    precheck = model_for(b.runtime).app_precheck_bytes(b)
    if precheck is not None:
        # MLCChat compares os_proc_available_memory() with estimated_vram_bytes before loading.
        measured = max(measured, precheck)
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


def android_lmk(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult | None:
    """The resident total within the foreground budget lmkd leaves an app."""
    if d.os != "android":
        return CheckResult(
            "android-lmk",
            "Android low-memory-killer headroom",
            Status.SKIP,
            f"{d.os} device: no Android low-memory killer",
        )
    fb = d.android_foreground_budget_bytes
    if fb is None:
        return None
    return _limit_check(
        "android-lmk",
        "Android foreground budget (lmkd headroom)",
        b.total_bytes,
        fb.value,
        f"resident total ≤ foreground budget {_mb(fb.value)}"
        + (" (estimate)" if fb.estimate else ""),
        fb.source,
        "resident total",
    )


def android_background(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult | None:
    """A large app is the first background victim: warn above a share of RAM."""
    if d.os != "android":
        return None
    share = b.total_bytes / d.ram_bytes.value
    warn = share > o.background_fraction
    return CheckResult(
        "android-background",
        "Android background kill risk",
        Status.WARN if warn else Status.PASS,
        f"the app would hold {share:.0%} of RAM; "
        + (
            "lmkd kills large background apps first: expect the model to be reloaded after "
            "switching apps"
            if warn
            else "background kills unlikely to target it"
        ),
        b.total_bytes,
        int(d.ram_bytes.value * o.background_fraction),
        f"warn above {o.background_fraction:.0%} of RAM",
        d.android_background_note or "AOSP system/memory/lmkd README (oom_score_adj ordering)",
    )


def _engine_budget(b: MemoryBudget, d: DeviceProfile) -> tuple[int, str, str] | None:
    if d.mlc_engine_memory_bytes is None:
        return None
    util = b.settings.gpu_memory_utilization
    budget = int(d.mlc_engine_memory_bytes.value * util)
    src = (
        f"mlc-llm cpp/serve/config.cc InferForKVCache (gpu_memory_utilization {util}); "
        f"device memory: {d.mlc_engine_memory_bytes.source}"
    )
    threshold = f"params + 2 × temp + workspaces ≤ {util} × {_mb(d.mlc_engine_memory_bytes.value)}"
    return budget, src, threshold


def mlc_engine(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult | None:
    """MLC engine: params + 2 × temp + workspaces ≤ utilization × device memory."""
    if b.engine is None:
        return None
    found = _engine_budget(b, d)
    if found is None:
        return CheckResult(
            "mlc-engine",
            "MLC engine budget",
            Status.SKIP,
            "the profile gives no MLC device memory figure",
        )
    budget, src, threshold = found
    start = _limit_check(
        "mlc-engine",
        "MLC engine start-up budget",
        b.engine.startup_bytes,
        budget,
        threshold,
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
    return start


def mlc_kv_capacity(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult | None:
    """The KV pool the engine allocates on the device must hold the plan's context (a window's
    span under a sliding window); otherwise the engine shortens it and chats are cut."""
    found = _engine_budget(b, d) if b.engine is not None else None
    if b.engine is None or found is None:
        return None
    budget, src, _ = found
    room = budget - b.engine.startup_bytes
    need = b.kv_cache_bytes
    title = "MLC KV capacity"
    threshold = "KV for one sequence's context ≤ the pool the engine allocates"
    if room <= 0:
        return CheckResult(
            "mlc-kv-capacity",
            title,
            Status.FAIL,
            "no memory left for any KV page after start-up",
            need,
            max(room, 0),
            threshold,
            src,
        )
    fit = fit_tokens(b, d)
    pool = pool_for(fit, b, d)
    per_token = max(b.kv_bytes_per_token, 1)
    batch = max(b.settings.batch, 1)
    if pool is None or fit is None:  # several engines' budgets together: room after start-up
        pool = fit = room // per_token
        span = need // (per_token * batch)
    else:
        span = span_tokens(b)
    fp32 = (
        "; the pool is fp32, which MLC's engine sizes as fp16: it takes twice the engine's estimate"
        if b.settings.kv_dtype == "float32"
        else ""
    )
    if pool < span:
        status = Status.WARN
        message = (
            f"the engine allocates a pool of only ~{pool} tokens, not {span}: conversations "
            "will be cut"
        )
    elif pool < span * batch:
        # The pool is shared by the batch's sequences (config.cc caps it at one context in
        # interactive and local modes): a note, not a limit on the context.
        status = Status.INFO
        message = (
            f"KV for {span} tokens fits; the pool of {pool} tokens is shared by the batch: "
            f"room for {pool // span} of its {batch} sequences at full context"
        )
    else:
        status = Status.PASS
        message = (
            f"KV for {span * batch} tokens fits ({_mb((fit - span * batch) * per_token)} to spare)"
        )
    return CheckResult(
        "mlc-kv-capacity",
        title,
        status,
        message + fp32,
        span * per_token,
        fit * per_token,  # the room, so a margin reads as before; mode ceilings only warn
        threshold,
        src + "; pool: min(fit, context), min(fit, context, 8192) in local mode, ≤ 32768 on Metal",
    )


def declared_estimate(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> CheckResult | None:
    """An app's declared ``estimated_vram_bytes`` covers the budget and fits the device.

    Applies only when the request declares one (a ``model_list`` entry of
    mlc-package-config.json). Below the budget, the app's own pre-check lets a model load that
    then runs out of memory; above the device's ceiling, MLCChat on iOS refuses to load it
    (``os_proc_available_memory() < estimated_vram_bytes``, ChatState.swift).
    """
    declared = o.declared_vram_bytes
    if declared is None:
        return None
    cid, title = "declared-estimate", "declared estimated_vram_bytes"
    need = b.total_bytes
    src = "mlc-llm interface/package.py (estimated_vram_bytes); ios/MLCChat ChatState.swift"
    if declared < need:
        return CheckResult(
            cid,
            title,
            Status.FAIL,
            f"estimated_vram_bytes {declared:,} is below the {_mb(need)} this entry needs "
            f"(short by {_mb(need - declared)}): set it to at least {need:,}",
            need,
            declared,
            "budget total ≤ estimated_vram_bytes",
            src,
        )
    if d.os in ("ios", "ipados"):
        sourced = d.ios_app_limit_entitled_bytes if o.entitlement else d.ios_app_limit_bytes
        limit, where = (sourced.value, "the iOS per-app limit") if sourced else (None, "")
    elif d.os == "android" and d.android_foreground_budget_bytes is not None:
        limit, where = d.android_foreground_budget_bytes.value, "the Android foreground budget"
    else:
        limit, where = int(d.ram_bytes.value * o.ram_fraction), f"{o.ram_fraction:.0%} of RAM"
    if limit is None:
        return CheckResult(cid, title, Status.SKIP, "the profile gives no per-app limit")
    return _limit_check(
        cid,
        title,
        declared,
        limit,
        f"estimated_vram_bytes ≤ {where} ({_mb(limit)})",
        src,
        f"estimated_vram_bytes {declared:,} (needs {_mb(need)})",
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "ram-fraction",
        "share-of-RAM rule",
        ram_fraction,
        "seed articles (shared/seeds): keep the model within ~70% of device RAM",
        ceiling=True,
    ),
    Rule(
        "ios-app-limit",
        "iOS per-app memory limit",
        ios_app_limit,
        "iOS jetsam per-app limits (device profiles); MLCChat ChatState.swift pre-check",
        ceiling=True,
    ),
    Rule(
        "android-lmk",
        "Android foreground budget (lmkd headroom)",
        android_lmk,
        "AOSP system/memory/lmkd; per-device foreground budgets (device profiles)",
        ceiling=True,
    ),
    Rule(
        "android-background",
        "Android background kill risk",
        android_background,
        "AOSP system/memory/lmkd README (oom_score_adj ordering)",
        advisory=True,
    ),
    Rule(
        "mlc-engine",
        "MLC engine start-up budget",
        mlc_engine,
        "mlc-llm cpp/serve/config.cc InferForKVCache",
        ceiling=True,
        planned=True,
    ),
    Rule(
        "mlc-kv-capacity",
        "MLC KV capacity",
        mlc_kv_capacity,
        "mlc-llm cpp/serve/config.cc InferForKVCache (KV tokens that fit after start-up)",
        planned=True,
    ),
    Rule(
        "declared-estimate",
        "declared estimated_vram_bytes",
        declared_estimate,
        "mlc-package-config.json estimated_vram_bytes (mlc-llm interface/package.py); "
        "MLCChat ChatState.swift pre-check",
    ),
)
"""Every device rule, in report order."""

RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
ADVISORY: frozenset[str] = frozenset(r.id for r in RULES if r.advisory)
CEILINGS: tuple[str, ...] = tuple(r.id for r in RULES if r.ceiling)


def _pool_note(alloc: MemoryBudget) -> str:
    tokens = next(
        (dict(c.inputs).get("tokens") for c in alloc.components if c.label == KV_LABEL), None
    )
    return f" (KV pool as the engine allocates it here: {tokens} tokens)" if tokens else ""


def run_rules(b: MemoryBudget, d: DeviceProfile, o: CheckOptions) -> tuple[CheckResult, ...]:
    """Every rule that applies to this budget on this device, in ``RULES`` order: the engine's
    own rules on the budget as planned, the others on it as allocated on ``d``."""
    alloc = model_for(b.runtime).allocated(b, d)
    out = []
    for rule in RULES:
        r = rule.run(b if rule.planned else alloc, d, o)
        if r is None:
            continue
        if alloc is not b and not rule.planned and r.measured_bytes is not None:
            r = replace(r, message=r.message + _pool_note(alloc))
        out.append(r)
    return tuple(out)


def blocks(c: CheckResult) -> bool:
    """Whether this result rejects a plan: a failure, or a warning of a non-advisory rule."""
    return c.status in (Status.FAIL, Status.WARN) and c.id not in ADVISORY
