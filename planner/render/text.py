"""Plain-text renderers for people: spec, budget and device reports (pure, fixed width)."""

from __future__ import annotations

from planner.budget import CATEGORIES, MemoryBudget
from planner.checks import DeviceReport, Status
from planner.spec import ModelSpec

MIB = 1024 * 1024
WIDTH = 100
_MARK = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.WARN: "WARN", Status.SKIP: "skip",
         Status.INFO: "info"}


def mib(n: int | None) -> str:
    """Bytes as MiB with thousands separators (``—`` for unknown)."""
    return "—" if n is None else f"{n / MIB:,.1f} MiB"


def render_spec(spec: ModelSpec) -> str:
    """The spec as a readable listing, with each field's origin."""
    def origin(name: str) -> str:
        src = spec.source_of(name)
        return f"  [{src.origin.value}: {src.detail}]" if src else ""

    q = spec.quantization
    lines = [
        f"{spec.name}  ({spec.format}, adapter {spec.adapter})",
        f"  architecture        {spec.architecture}{origin('architecture')}",
        f"  layers              {spec.num_layers}{origin('num_layers')}",
        f"  hidden size         {spec.hidden_size}{origin('hidden_size')}",
        f"  attention heads     {spec.num_attention_heads}{origin('num_attention_heads')}",
        f"  KV heads            {spec.num_kv_heads}{origin('num_kv_heads')}",
        f"  head dim            {spec.head_dim}{origin('head_dim')}",
        f"  intermediate size   {spec.intermediate_size}{origin('intermediate_size')}",
        f"  vocab size          {spec.vocab_size}{origin('vocab_size')}",
        f"  tied embeddings     {spec.tie_word_embeddings}{origin('tie_word_embeddings')}",
        f"  max context         {spec.max_context}{origin('max_context')}",
    ]
    windows = {w for w in spec.layer_windows if w is not None}
    if windows:
        n_local = sum(1 for w in spec.layer_windows if w is not None)
        lines.append(f"  sliding window      {max(windows)} on {n_local}/{spec.num_layers} layers"
                     f"{origin('layer_windows')}")
    if spec.attention_sink:
        lines.append(f"  attention sink      {spec.attention_sink}")
    lines.append(f"  KV dtype            {spec.kv_dtype}{origin('kv_dtype')}")
    per_tok = spec.kv_bytes_per_token_unit
    lines.append(f"  KV elements/token   {per_tok:,} (K+V, all layers)")
    qdesc = q.scheme or "unknown"
    if q.bits:
        qdesc += f", {q.bits:g}-bit"
    if q.group_size:
        qdesc += f", group {q.group_size}"
    if q.symmetric is not None:
        qdesc += ", symmetric" if q.symmetric else ", asymmetric"
    if q.unquantized:
        qdesc += f"; kept in float: {', '.join(q.unquantized)}"
    lines.append(f"  quantization        {qdesc}")
    w = spec.weights
    if w is None:
        lines.append("  weights             none in the artifact (computed from the architecture "
                     "when planning)")
    else:
        lines.append(f"  weights             {w.tensor_count} tensors, {w.total_bytes:,} bytes "
                     f"({mib(w.total_bytes)}), {w.param_count:,} parameters")
        by = ", ".join(f"{d} {mib(b)}" for d, b in w.bytes_by_dtype)
        lines.append(f"    by dtype          {by}")
        lines.append(f"    external / embedded {mib(w.external_bytes)} / {mib(w.embedded_bytes)}")
    if spec.kv_input_names:
        shown = ", ".join(spec.kv_input_names[:2])
        more = f" … ({len(spec.kv_input_names)} inputs)" if len(spec.kv_input_names) > 2 else ""
        lines.append(f"  KV inputs           {shown}{more}")
    s = spec.settings
    art = [f"{k}={getattr(s, k)}" for k in ("context_window_size", "prefill_chunk_size",
           "sliding_window_size", "attention_sink_size", "max_batch_size", "max_length",
           "past_present_share_buffer") if getattr(s, k) not in (None, -1)]
    if art:
        lines.append(f"  artifact settings   {', '.join(art)}")
    if spec.compiled_lib is not None:
        lib = spec.compiled_lib
        lines.append(f"  compiled library    temp {mib(lib.max_temp_bytes)}; params {mib(lib.params_bytes)}")
    lines.extend(f"  note: {n}" for n in spec.notes)
    return "\n".join(lines) + "\n"


def render_budget(b: MemoryBudget) -> str:
    """The budget: settings, one line per category, components beneath."""
    s = b.settings
    lines = [
        f"{b.model} on {s.runtime.value}: {s.quantization}, context {s.context}, prefill {s.prefill}, "
        f"batch {s.batch}, KV {s.kv_dtype}"
        + (f", sliding window {s.sliding_window}" if s.sliding_window else ""),
    ]
    total = max(b.total_bytes, 1)
    for cat in CATEGORIES:
        n = b.category_bytes(cat)
        bar = "#" * round(30 * n / total)
        lines.append(f"  {cat:<18}{mib(n):>16}  {bar}")
        lines.extend(
            f"      {c.label:<44}{mib(c.bytes):>14}" for c in b.components if c.category == cat
        )
    lines.append(f"  {'total':<18}{mib(b.total_bytes):>16}")
    lines.append(f"  {'footprint (dirty)':<18}{mib(b.footprint_bytes):>16}")
    if b.mlc_engine is not None:
        lines.append(f"  MLC reports {mib(b.mlc_reported_bytes)} (params + temp + KV); engine start-up "
                     f"needs {mib(b.mlc_engine.startup_bytes)} (params + 2 × temp + workspaces)")
    lines.extend(f"  assumed: {a}" for a in s.defaults)
    lines.extend(f"  note: {n}" for n in b.notes)
    return "\n".join(lines) + "\n"


def render_report(r: DeviceReport) -> str:
    """Checks of one device with margins, the largest context and the decode speed."""
    d = r.device
    lines = [f"{d.name} ({d.id}, {d.ram_bytes.value / 2**30:.0f} GiB RAM): {r.status.value.upper()}"]
    for c in r.checks:
        lines.append(f"  [{_MARK[c.status]}] {c.title}: {c.message}")
    if r.max_context is not None:
        lines.append(f"  largest context that passes every check: {r.max_context} tokens")
    else:
        lines.append("  no context length passes every check with these settings")
    if r.decode is not None:
        est = " (estimate)" if r.decode.estimate else ""
        lines.append(f"  decode speed ≈ {r.decode.tokens_per_s:.1f} tokens/s{est} "
                     f"({r.decode.efficiency:.0%} of {r.decode.bandwidth_bytes_per_s / 1e9:.0f} GB/s)")
    return "\n".join(lines) + "\n"


def render_plan(plan: "Plan") -> str:
    """The chosen plan, its budget and checks, runners-up, rejections, advice and commands."""
    from planner.emit import mlc, ort
    from planner.emit.fragments import mlc_settings, ort_settings
    from planner.settings import Runtime

    devs = ", ".join(d.id for d in plan.devices)
    out = [f"Plan for {plan.model.name} on {devs} ({plan.base.runtime.value})", ""]
    c = plan.chosen
    if c is None:
        out.append("No plan fits. Closest attempts:")
        out.extend(f"  {r.quantization}: {why}" for r, why in plan.rejected)
    else:
        window = f", sliding window {c.sliding_window}" if c.sliding_window else ""
        out.append(f"Chosen: {c.quantization}, context {c.context}, prefill chunk {c.prefill}{window}")
        out.append("")
        out.append(render_budget(c.budget))
        out.extend(render_report(r) for r in c.reports)
        if plan.runners_up:
            out.append("Runners-up (lower quality rank):")
            out.extend(f"  {r.quantization}: context {r.context}, prefill {r.prefill}, total "
                       f"{mib(r.budget.total_bytes)}" for r in plan.runners_up)
        if plan.rejected:
            out.append("Rejected:")
            out.extend(f"  {r.quantization}: {why}" for r, why in plan.rejected)
    if plan.advice:
        out.append("Longer context:")
        out.extend(f"  {a}" for a in plan.advice)
    if c is not None:
        out.append("")
        if plan.base.runtime is Runtime.MLC:
            p = mlc_settings(plan, c, plan.devices[0])
            out.append("Build (MLC):")
            out.extend("  " + line for line in mlc.commands_text(p).splitlines())
            out.append("mlc-package-config.json entry:")
            import json

            out.extend("  " + line for line in json.dumps(mlc.package_entry(p), indent=2).splitlines())
        else:
            p2 = ort_settings(plan, c)
            out.append("Build (onnxruntime-genai):")
            out.append("  " + ort.builder_text(p2).strip())
            out.append("genai_config.json patch:")
            out.extend("  " + line for line in ort.config_patch_text(p2).splitlines())
    return "\n".join(out) + "\n"


from planner.suggest import Plan  # noqa: E402
