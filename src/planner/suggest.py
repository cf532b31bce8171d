"""``planner suggest``: search the settings that fit, rank them, explain the choice (pure).

Search space: the runtime's quantizations for the model family, prefill chunks, and for each
(quantization, prefill) the longest context that passes every check on every device.
Ranking (docs/formulas.md#ranking): quality first (``quality_rank`` in planner.quant: more
bits per weight, float embeddings/lm_head above quantized ones at equal bits), then context
length, then speed (a larger prefill chunk processes prompts faster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from planner.budget import MemoryBudget
from planner.checks import CheckOptions, DeviceReport, blocks, check_device, max_context
from planner.device import DeviceProfile
from planner.errors import PlannerError, UsageError
from planner.runtimes import model_for
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

DEFAULT_SLIDING_WINDOW = 4096
DEFAULT_TARGET_CONTEXT = 4096
"""Context aimed for when the user gives neither --context nor --min-context."""
DEFAULT_SINK = 4
"""Mistral's attention_sink_size default in MLC's MistralConfig."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One evaluated plan: settings, and the reports on every device."""

    quantization: str
    quality_rank: int
    context: int
    prefill: int
    sliding_window: int | None
    attention_sink: int | None
    reports: tuple[DeviceReport, ...]

    @property
    def fits(self) -> bool:
        """Every check passes on every device (background-kill warnings aside)."""
        return not any(blocks(c) for r in self.reports for c in r.checks)

    @property
    def budget(self) -> MemoryBudget:
        """The budget (identical across devices)."""
        return self.reports[0].budget

    def settings(self, base: RuntimeSettings) -> RuntimeSettings:
        """The runtime settings this candidate stands for."""
        return replace(
            base,
            quantization=self.quantization,
            context=self.context,
            prefill=self.prefill,
            sliding_window=self.sliding_window,
            attention_sink=self.attention_sink,
        )

    def worst_failure(self) -> str:
        """The check that rejects this candidate, with its margin."""
        for r in self.reports:
            for c in r.checks:
                if blocks(c):
                    return f"{r.device.id}: {c.title}: {c.message}"
        return "passes"


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of a suggestion."""

    model: ModelSpec
    base: RuntimeSettings
    devices: tuple[DeviceProfile, ...]
    chosen: Candidate | None
    runners_up: tuple[Candidate, ...]
    rejected: tuple[tuple[Candidate, str], ...]
    advice: tuple[str, ...]
    options: CheckOptions = field(default_factory=CheckOptions)
    """The check options the plan was searched with."""


def round_context(tokens: int) -> int:
    """Round down to a size people configure: a multiple of 1024 from 2048 up, else of 256."""
    if tokens >= 2048:
        return tokens // 1024 * 1024
    return max(tokens // 256 * 256, min(tokens, 256))


def quantization_candidates(
    spec: ModelSpec, runtime: Runtime, pinned: str | None, kv_dtype: str | None = None
) -> list[tuple[str, int]]:
    """(name, quality rank) of each scheme to try, best quality first."""
    found = model_for(runtime).quantization_candidates(spec, pinned, kv_dtype)
    return [(c.name, c.quality_rank) for c in found]


def _evaluate(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    quant: str,
    rank: int,
    prefill: int,
    context: int,
    window: int | None,
    sink: int | None,
) -> Candidate:
    settings = replace(
        base,
        quantization=quant,
        context=context,
        prefill=min(prefill, context),
        sliding_window=window,
        attention_sink=sink,
    )
    reports = tuple(check_device(spec, settings, d, options) for d in devices)
    return Candidate(quant, rank, context, min(prefill, context), window, sink, reports)


def _longest(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    quant: str,
    prefill: int,
    window: int | None,
    sink: int | None,
    cap: int,
) -> int | None:
    settings = replace(
        base, quantization=quant, prefill=prefill, sliding_window=window, attention_sink=sink
    )
    best: int | None = cap
    for d in devices:
        m = max_context(spec, settings, d, options, upper=cap)
        if m is None:
            return None
        best = min(best or m, m)
    return best


def suggest(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions | None = None,
    min_context: int | None = None,
) -> Plan:
    """Find the best plan for ``spec`` on every device in ``devices``."""
    if not devices:
        raise UsageError("suggest needs at least one --device")
    options = options or CheckOptions()
    model_max = spec.max_context or DEFAULT_TARGET_CONTEXT
    # Without an explicit request, aim for a chat-sized window rather than the model's maximum
    # (128k contexts never fit a phone; MLC's own app configs ship 2048-4096).
    cap = base.context or min(model_max, max(DEFAULT_TARGET_CONTEXT, min_context or 0))
    if min_context is not None and min_context > cap:
        cap = min_context
    prefills: tuple[int, ...] = model_for(base.runtime).prefill_candidates
    if base.prefill is not None:
        prefills = (base.prefill,)
    floor = min(min_context or 256, cap)
    found: list[Candidate] = []
    rejected: list[tuple[Candidate, str]] = []
    for quant, rank in quantization_candidates(
        spec, base.runtime, base.quantization, base.kv_dtype
    ):
        best: Candidate | None = None
        for prefill in prefills:
            try:
                longest = _longest(
                    spec,
                    base,
                    devices,
                    options,
                    quant,
                    prefill,
                    base.sliding_window,
                    base.attention_sink,
                    cap,
                )
            except PlannerError:
                continue
            if longest is None or longest < floor:
                continue
            ctx = min(cap, longest)
            ctx = ctx if ctx == cap else round_context(ctx)
            if ctx < floor:
                continue
            cand = _evaluate(
                spec,
                base,
                devices,
                options,
                quant,
                rank,
                prefill,
                ctx,
                base.sliding_window,
                base.attention_sink,
            )
            if cand.fits and (best is None or cand.context > best.context):
                best = cand
            if best is not None and best.context >= cap:
                break
        if best is not None:
            found.append(best)
        else:
            probe = _evaluate(
                spec,
                base,
                devices,
                options,
                quant,
                rank,
                min(prefills),
                max(floor, min(cap, 256 if min_context is None else min_context)),
                base.sliding_window,
                base.attention_sink,
            )
            rejected.append((probe, probe.worst_failure()))
    found.sort(key=lambda c: (-c.quality_rank, -c.context, -c.prefill))
    chosen = found[0] if found else None
    advice = list(_advice(spec, base, devices, options, chosen, min_context, cap))
    return Plan(
        spec,
        base,
        tuple(devices),
        chosen,
        tuple(found[1:4]),
        tuple(rejected),
        tuple(advice),
        options,
    )


def _advice(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    chosen: Candidate | None,
    min_context: int | None,
    cap: int,
) -> list[str]:
    out: list[str] = []
    want = min_context or cap
    if chosen is not None and chosen.context >= want:
        if chosen.context < (spec.max_context or chosen.context):
            reachable = min((r.max_context or 0) for r in chosen.reports)
            if reachable > chosen.context:
                out.append(
                    f"with {chosen.quantization} and prefill chunk {chosen.prefill} the longest "
                    f"context that passes every check is {reachable} tokens "
                    f"(model maximum {spec.max_context}); ask for it with --context"
                )
            per_tok = chosen.budget.kv_bytes_per_token
            out.append(
                f"each extra 1024 tokens of context costs "
                f"{per_tok * 1024 / 2**20:,.0f} MiB of KV cache; "
                "a smaller quantization or a sliding window frees room for more"
            )
        return out
    if chosen is not None:
        out.append(f"the longest context that fits is {chosen.context} tokens (asked for {want})")
    else:
        best: tuple[int, str, int] | None = None
        for quant, _rank in quantization_candidates(
            spec, base.runtime, base.quantization, base.kv_dtype
        ):
            for prefill in model_for(base.runtime).prefill_candidates[-2:]:
                try:
                    longest = _longest(
                        spec, base, devices, options, quant, prefill, None, None, want
                    )
                except PlannerError:
                    continue
                if longest is not None and (best is None or longest > best[0]):
                    best = (longest, quant, prefill)
        if best is not None:
            out.append(
                f"the longest context that fits is {best[0]} tokens, with {best[1]} and "
                f"prefill chunk {best[2]} (asked for {want}); rerun with --context {best[0]}"
            )
        else:
            out.append(
                "no quantization fits at any context: choose a smaller model or a device "
                "with more memory"
            )
    if base.runtime is Runtime.MLC and model_for(base.runtime).supports_sliding_window(spec):
        window = min(DEFAULT_SLIDING_WINDOW, want)
        alt = None
        for quant, rank in quantization_candidates(
            spec, base.runtime, base.quantization, base.kv_dtype
        ):
            c = _evaluate(
                spec,
                base,
                devices,
                options,
                quant,
                rank,
                min(model_for(base.runtime).prefill_candidates[2], window),
                want,
                window,
                DEFAULT_SINK,
            )
            if c.fits:
                alt = c
                break
        if alt is not None:
            out.append(
                f"sliding-window alternative: {alt.quantization} with sliding_window_size "
                f"{window} and attention_sink_size {DEFAULT_SINK} keeps memory flat for "
                f"{want}-token chats (older tokens fall out of the window)"
            )
    elif base.runtime is Runtime.ONNXRUNTIME and (base.kv_dtype in (None, "float32", "float16")):
        out.append(
            "onnxruntime-genai can quantize the KV cache (builder --extra_options "
            "kv_cache_quant_scheme=int8) to halve or quarter KV memory on CPU"
        )
    if not out:
        out.append(
            "no sliding window is available for this model family in MLC; reduce the "
            "context or choose a smaller model"
        )
    return out
