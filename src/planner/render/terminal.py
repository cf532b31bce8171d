"""Terminal views built with rich: budget tables with bars, check tables with margins, plans.

Functions here build rich renderables from results; ``to_text`` renders them to a string at
a fixed width, with or without colour (``TextStyle``). Nothing reads the environment or writes
to a stream: the CLI picks the style (colour only on a terminal and without ``NO_COLOR``) and
writes the string. Output without colour is plain text, stable enough for golden tests.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from planner.budget import CATEGORIES, MemoryBudget
from planner.checks import CheckResult, DeviceReport, Status
from planner.render.style import CATEGORY_COLORS, CATEGORY_LABELS, DEVICE_COLORS
from planner.rules import CEILINGS
from planner.spec import ModelSpec

if TYPE_CHECKING:
    from planner.suggest import Candidate, Plan

MIB = 1024 * 1024

STATUS_STYLE = {
    Status.PASS: "bold green",
    Status.FAIL: "bold red",
    Status.WARN: "bold yellow",
    Status.SKIP: "dim",
    Status.INFO: "cyan",
}
STATUS_WORD = {
    Status.PASS: "PASS",
    Status.FAIL: "FAIL",
    Status.WARN: "WARN",
    Status.SKIP: "skip",
    Status.INFO: "info",
}
EIGHTHS = " ▏▎▍▌▋▊▉█"
MARKER_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TRAILING = re.compile(r"(?:\s|\x1b\[[0-9;]*m)+$")


@dataclass(frozen=True, slots=True)
class TextStyle:
    """How text output is drawn: line width and whether ANSI colours are used."""

    width: int = 100
    color: bool = False


PLAIN = TextStyle()
"""100 columns, no colour: pipes, files, golden tests."""

MIN_WIDTH, MAX_WIDTH = 72, 160


def choose_style(
    *, to_tty: bool, to_file: bool, env: Mapping[str, str], columns: int | None
) -> TextStyle:
    """The style for a report: colour on a terminal unless ``NO_COLOR`` is set (no-color.org),
    or on stdout when ``FORCE_COLOR`` is set; never in a file. Width: the terminal's, else
    ``COLUMNS``, else 100, kept within 72..160."""
    if to_file or env.get("NO_COLOR"):
        color = False
    else:
        color = to_tty or bool(env.get("FORCE_COLOR"))
    width = columns
    if width is None:
        raw = env.get("COLUMNS", "")
        width = int(raw) if raw.isdigit() else PLAIN.width
    return TextStyle(width=min(MAX_WIDTH, max(MIN_WIDTH, width)), color=color)


def to_text(renderables: Iterable[RenderableType], style: TextStyle = PLAIN) -> str:
    """Render to a string (no trailing spaces, one trailing newline)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=style.width,
        color_system="truecolor" if style.color else None,
        force_terminal=style.color,
        no_color=not style.color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        force_jupyter=False,
        force_interactive=False,
        _environ={},  # never let COLUMNS, NO_COLOR or FORCE_COLOR change a rendering
    )
    for r in renderables:
        console.print(r, soft_wrap=isinstance(r, Text) and r.no_wrap is True)
    # Trailing spaces go, also when colour codes follow them.
    lines = [_TRAILING.sub(_keep_reset, line) for line in buf.getvalue().splitlines()]
    return "\n".join(lines).rstrip("\n") + "\n"


def _keep_reset(match: re.Match[str]) -> str:
    return "\x1b[0m" if "\x1b" in match.group(0) else ""


def recording_console(width: int = 100) -> Console:
    """A console that records what it prints (for SVG screenshots)."""
    return Console(
        file=io.StringIO(),
        width=width,
        record=True,
        color_system="truecolor",
        force_terminal=True,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
        _environ={},
    )


def mib(n: int | None) -> str:
    """Bytes as MiB with thousands separators (``—`` for unknown)."""
    return "—" if n is None else f"{n / MIB:,.1f} MiB"


def _num_mib(n: int) -> str:
    return f"{n / MIB:,.1f}"


def _signed_mib(n: int) -> str:
    return f"{'+' if n >= 0 else '−'}{abs(n) / MIB:,.0f} MiB"


# ----------------------------------------------------------------------------- spec


def spec_view(spec: ModelSpec) -> list[RenderableType]:
    """The spec: one row per field with where it came from."""
    head = Text()
    head.append(spec.name, style="bold")
    head.append(f"  ({spec.format}, adapter {spec.adapter})", style="dim")
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    t.add_column("field", no_wrap=True)
    t.add_column("value", overflow="fold", max_width=40)
    t.add_column("from", style="dim", overflow="fold")

    def row(label: str, value: object, name: str | None = None) -> None:
        src = spec.source_of(name) if name else None
        t.add_row(label, str(value), f"{src.origin.value}: {src.detail}" if src else "")

    row("architecture", spec.architecture, "architecture")
    row("layers", spec.num_layers, "num_layers")
    row("hidden size", spec.hidden_size, "hidden_size")
    row("attention heads", spec.num_attention_heads, "num_attention_heads")
    row("KV heads", spec.num_kv_heads, "num_kv_heads")
    row("head dim", spec.head_dim, "head_dim")
    row("intermediate size", spec.intermediate_size, "intermediate_size")
    row("vocab size", spec.vocab_size, "vocab_size")
    row("tied embeddings", spec.tie_word_embeddings, "tie_word_embeddings")
    row("max context", spec.max_context, "max_context")
    windows = {w for w in spec.layer_windows if w is not None}
    if windows:
        n_local = sum(1 for w in spec.layer_windows if w is not None)
        row(
            "sliding window",
            f"{max(windows)} on {n_local}/{spec.num_layers} layers",
            "layer_windows",
        )
    if spec.attention_sink:
        row("attention sink", spec.attention_sink)
    row("KV dtype", spec.kv_dtype, "kv_dtype")
    row("KV elements/token", f"{spec.kv_bytes_per_token_unit:,} (K+V, all layers)")
    q = spec.quantization
    qdesc = q.scheme or "unknown"
    if q.bits:
        qdesc += f", {q.bits:g}-bit"
    if q.group_size:
        qdesc += f", group {q.group_size}"
    if q.symmetric is not None:
        qdesc += ", symmetric" if q.symmetric else ", asymmetric"
    if q.unquantized:
        qdesc += f"; kept in float: {', '.join(q.unquantized)}"
    row("quantization", qdesc)
    w = spec.weights
    if w is None:
        row("weights", "none in the artifact (computed from the architecture when planning)")
    else:
        row(
            "weights",
            f"{w.tensor_count} tensors, {w.total_bytes:,} bytes ({mib(w.total_bytes)}), "
            f"{w.param_count:,} parameters",
        )
        row("  by dtype", ", ".join(f"{d} {mib(b)}" for d, b in w.bytes_by_dtype))
        row("  external / embedded", f"{mib(w.external_bytes)} / {mib(w.embedded_bytes)}")
    if spec.kv_input_names:
        shown = ", ".join(spec.kv_input_names[:2])
        more = f" … ({len(spec.kv_input_names)} inputs)" if len(spec.kv_input_names) > 2 else ""
        row("KV inputs", shown + more)
    s = spec.settings
    art = [
        f"{k}={getattr(s, k)}"
        for k in (
            "context_window_size",
            "prefill_chunk_size",
            "sliding_window_size",
            "attention_sink_size",
            "max_batch_size",
            "max_length",
            "past_present_share_buffer",
        )
        if getattr(s, k) not in (None, -1)
    ]
    if art:
        row("artifact settings", ", ".join(art))
    if spec.compiled_lib is not None:
        lib = spec.compiled_lib
        row("compiled library", f"temp {mib(lib.max_temp_bytes)}; params {mib(lib.params_bytes)}")
    out: list[RenderableType] = [head, t]
    out.extend(_note_lines("note", spec.notes))
    return out


def hanging(prefix: RenderableType, text: RenderableType) -> Table:
    """``prefix`` then ``text``, wrapped lines indented under the text (not under the prefix)."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold", ratio=1)
    grid.add_row(prefix, text)
    return grid


def _note_lines(prefix: str, notes: Iterable[str]) -> list[RenderableType]:
    style = "dim" if prefix == "assumed" else ""
    return [hanging(Text(f"  {prefix}:", style=style), Text(n, style=style)) for n in notes]


# ----------------------------------------------------------------------------- budget


@dataclass(frozen=True, slots=True)
class _Marker:
    letter: str
    bytes: int
    color: str
    label: str


def _markers(reports: Sequence[DeviceReport]) -> list[_Marker]:
    """One marker per device limit; only each device's binding limit when there are many."""
    per_device: list[list[tuple[CheckResult, str]]] = []
    for i, r in enumerate(reports):
        color = DEVICE_COLORS[i % len(DEVICE_COLORS)]
        lims = [
            (c, color)
            for c in r.checks
            if c.id in CEILINGS and c.limit_bytes is not None and c.status is not Status.SKIP
        ]
        per_device.append(lims)
    if sum(len(x) for x in per_device) > 6:
        per_device = [sorted(x, key=lambda t: t[0].margin_bytes or 0)[:1] for x in per_device]
    out: list[_Marker] = []
    for r, lims in zip(reports, per_device, strict=True):
        for c, color in lims:
            assert c.limit_bytes is not None
            measured = c.threshold.split("≤", 1)[0].strip() or "the rule's measure"
            out.append(
                _Marker(
                    MARKER_LETTERS[len(out) % 26],
                    c.limit_bytes,
                    color,
                    f"{r.device.name}: {c.title} {mib(c.limit_bytes)} (limit on {measured})",
                )
            )
    return out


def _bar(
    start: int, length: int, scale: int, cells: int, color: str, markers: Sequence[_Marker]
) -> Text:
    """A waterfall segment [start, start + length) on ``cells`` cells worth ``scale`` bytes,
    with each limit marker drawn as ``┆`` where the bar leaves room."""
    chars = [" "] * cells
    styles = [""] * cells
    if length > 0 and scale > 0:
        begin = round(start / scale * cells)
        end8 = round((start + length) / scale * cells * 8)
        end8 = max(end8, begin * 8 + 1)  # a non-zero component is at least one eighth
        for i in range(begin, min(cells, end8 // 8 + 1)):
            fill = min(8, end8 - i * 8)
            if fill <= 0:
                break
            chars[i] = EIGHTHS[fill]
            styles[i] = color
    for m in markers:
        col = min(cells - 1, int(m.bytes / scale * cells)) if scale else 0
        if chars[col] == " ":
            chars[col] = "┆"
            styles[col] = m.color
    text = Text(no_wrap=True, overflow="crop")
    for ch, st in zip(chars, styles, strict=True):
        text.append(ch, style=st)
    return text


def _scale_row(scale: int, cells: int, markers: Sequence[_Marker]) -> Text:
    chars = [" "] * cells
    styles = [""] * cells
    for m in markers:
        col = min(cells - 1, int(m.bytes / scale * cells)) if scale else 0
        while col > 0 and chars[col] != " ":
            col -= 1
        chars[col] = m.letter
        styles[col] = f"bold {m.color}"
    text = Text(no_wrap=True, overflow="crop")
    for ch, st in zip(chars, styles, strict=True):
        text.append(ch, style=st)
    return text


def budget_view(
    b: MemoryBudget, reports: Sequence[DeviceReport] = (), style: TextStyle = PLAIN
) -> list[RenderableType]:
    """Settings line, a table with one waterfall bar per category and component, limit markers
    for the devices in ``reports``, then totals, assumptions and notes."""
    s = b.settings
    head = Text()
    head.append(b.model, style="bold")
    head.append(
        f" on {s.runtime.value}: {s.quantization}, context {s.context:,}, prefill "
        f"{s.prefill:,}, batch {s.batch}, KV {s.kv_dtype}"
        + (f", sliding window {s.sliding_window:,}" if s.sliding_window else "")
    )
    markers = _markers(reports)
    scale = max([b.total_bytes, *(m.bytes for m in markers), 1])
    label_w = 40
    # Columns: label, MiB (12), share (6), bar; 3 separators and 2 × 3 padding cells.
    cells = max(10, style.width - label_w - 12 - 6 - 9)
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    t.add_column("component", width=label_w, no_wrap=True, overflow="ellipsis")
    t.add_column("MiB", justify="right", width=12, no_wrap=True)
    t.add_column("share", justify="right", width=6, no_wrap=True)
    t.add_column(Text(f"0 … {scale / MIB:,.0f} MiB", justify="right"), width=cells, no_wrap=True)
    total = max(b.total_bytes, 1)
    start = 0
    for cat in CATEGORIES:
        n = b.category_bytes(cat)
        color = CATEGORY_COLORS[cat]
        t.add_row(
            Text(CATEGORY_LABELS[cat], style="bold"),
            _num_mib(n),
            f"{n / total:.0%}",
            _bar(start, n, scale, cells, color, markers),
        )
        sub = start
        for c in b.components:
            if c.category != cat:
                continue
            t.add_row(
                Text("  " + c.label, style="dim" if not c.dirty else ""),
                _num_mib(c.bytes),
                "",
                _bar(sub, c.bytes, scale, cells, color, markers),
            )
            sub += c.bytes
        start += n
    t.add_section()
    t.add_row(
        Text("total", style="bold"),
        Text(_num_mib(b.total_bytes), style="bold"),
        "100%",
        _bar(0, b.total_bytes, scale, cells, "bold", markers),
    )
    t.add_row(
        "footprint (dirty)", _num_mib(b.footprint_bytes), f"{b.footprint_bytes / total:.0%}", ""
    )
    if markers:
        t.add_row("limits", "", "", _scale_row(scale, cells, markers))
    out: list[RenderableType] = [head, t]
    out.extend(
        hanging(Text(f"  ┆{m.letter}", style=f"bold {m.color}"), Text(m.label)) for m in markers
    )
    if b.engine is not None:
        out.append(
            hanging(
                Text("  MLC:"),
                Text(
                    f"reports {mib(b.mlc_reported_bytes)} (params + temp + KV); the engine's "
                    f"start-up needs {mib(b.engine.startup_bytes)} (params + 2 × temp + workspaces)"
                ),
            )
        )
    out.extend(_note_lines("assumed", s.defaults))
    out.extend(_note_lines("note", b.notes))
    return out


# ----------------------------------------------------------------------------- reports


def _gauge(c: CheckResult, cells: int = 8) -> Text:
    text = Text(no_wrap=True)
    if c.measured_bytes is None or not c.limit_bytes:
        return text
    share = c.measured_bytes / c.limit_bytes
    filled8 = min(cells * 8, round(share * cells * 8))
    style = STATUS_STYLE[c.status].replace("bold ", "")
    full, part = divmod(filled8, 8)
    text.append("█" * full + (EIGHTHS[part] if part else ""), style=style)
    text.append("·" * (cells - full - (1 if part else 0)), style="dim")
    text.append(f" {share:.0%}" if share < 10 else " >999%")
    return text


def report_view(r: DeviceReport) -> list[RenderableType]:
    """A device's checks with measured value, limit and margin, then the largest context."""
    d = r.device
    head = Text()
    head.append(f"{d.name}", style="bold")
    head.append(f" ({d.id}, {d.ram_bytes.value / 2**30:.0f} GiB RAM): ")
    head.append(r.status.value.upper(), style=STATUS_STYLE[r.status])
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    t.add_column("", width=4, no_wrap=True)
    t.add_column("rule", ratio=1, overflow="fold")
    t.add_column("measured", justify="right", no_wrap=True)
    t.add_column("limit", justify="right", no_wrap=True)
    t.add_column("margin", justify="right", no_wrap=True)
    t.add_column("use", no_wrap=True, width=13)
    for c in r.checks:
        rule = Text(c.title)
        has_numbers = c.measured_bytes is not None and c.limit_bytes is not None
        if c.status is not Status.PASS or not has_numbers:
            rule.append("\n" + c.message, style="dim")
        margin = c.margin_bytes
        t.add_row(
            Text(STATUS_WORD[c.status], style=STATUS_STYLE[c.status]),
            rule,
            f"{c.measured_bytes / MIB:,.0f} MiB" if c.measured_bytes is not None else "",
            f"{c.limit_bytes / MIB:,.0f} MiB" if c.limit_bytes is not None else "",
            Text(_signed_mib(margin), style="red" if margin < 0 else "green")
            if margin is not None
            else "",
            _gauge(c),
        )
    out: list[RenderableType] = [head, t]
    if r.max_context is not None:
        out.append(Text(f"  largest context that passes every check: {r.max_context:,} tokens"))
    else:
        out.append(Text("  no context length passes every check with these settings", style="red"))
    if r.decode is not None:
        est = " (estimate)" if r.decode.estimate else ""
        out.append(
            Text(
                f"  decode speed ≈ {r.decode.tokens_per_s:,.1f} tokens/s{est} "
                f"({r.decode.efficiency:.0%} of "
                f"{r.decode.bandwidth_bytes_per_s / 1e9:.0f} GB/s)"
            )
        )
    return out


def _blank() -> Text:
    return Text("")


def check_view(
    runs: Sequence[tuple[str, Sequence[DeviceReport]]], strict: bool, style: TextStyle = PLAIN
) -> list[RenderableType]:
    """A check run: per model, the budget with every device's limits, then each device."""
    out: list[RenderableType] = []
    worst: list[Status] = []
    for model, reports in runs:
        out.append(Text(f"== {model}", style="bold"))
        if reports:
            out.extend(budget_view(reports[0].budget, reports, style))
        for r in reports:
            out.append(_blank())
            out.extend(report_view(r))
            worst.append(r.status)
        out.append(_blank())
    failed = sum(1 for s in worst if s is Status.FAIL or (strict and s is Status.WARN))
    line = Text()
    if failed:
        line.append(f"{failed} of {len(worst)} device check(s) failed", style="bold red")
    else:
        line.append(f"all {len(worst)} device check(s) passed", style="bold green")
    warned = sum(1 for s in worst if s is Status.WARN)
    if warned and not strict:
        line.append(f" ({warned} with warnings; --strict makes them fail)", style="yellow")
    out.append(line)
    return out


# ----------------------------------------------------------------------------- plan


def command_lines(lines: Iterable[str], indent: str = "  ") -> list[RenderableType]:
    """Lines to copy: never wrapped, never boxed."""
    return [Text(indent + line, style="cyan", no_wrap=True, overflow="ignore") for line in lines]


def plan_view(plan: Plan, style: TextStyle = PLAIN) -> list[RenderableType]:
    """The chosen plan, its budget and checks, runners-up, rejections, advice and commands."""
    import json

    from planner.emit import mlc, ort
    from planner.emit.fragments import mlc_settings, ort_settings
    from planner.settings import Runtime

    devs = ", ".join(d.id for d in plan.devices)
    head = Text()
    head.append(f"Plan for {plan.model.name}", style="bold")
    head.append(f" on {devs} ({plan.base.runtime.value})")
    out: list[RenderableType] = [head, _blank()]
    c = plan.chosen
    if c is None:
        out.append(Text("No plan fits with the margin. Closest attempts:", style="bold red"))
        if plan.runners_up:
            out.append(_candidates_table(((r, _note(r, plan)) for r in plan.runners_up), True))
        out.append(_candidates_table(((r, why) for r, why in plan.rejected), with_reason=True))
    else:
        chosen = Text("Chosen: ", style="bold green")
        chosen.append(_settings_text(c), style="bold")
        out.extend([chosen, _why_text(plan, c), _blank()])
        out.extend(budget_view(c.budget, c.reports, style))
        for r in c.reports:
            out.append(_blank())
            out.extend(report_view(r))
        if plan.why:
            out.extend([_blank(), Text(f"Why it wins ({plan.objective.value}):", style="bold")])
            out.extend(hanging(Text("  •"), Text(w)) for w in plan.why)
        if plan.runners_up:
            out.extend([_blank(), Text("Runners-up:", style="bold")])
            out.append(_candidates_table(((r, _note(r, plan)) for r in plan.runners_up), True))
        if plan.rejected:
            out.extend([_blank(), Text("Rejected:", style="bold")])
            out.append(_candidates_table(plan.rejected, with_reason=True))
    if plan.advice:
        out.extend([_blank(), Text("Advice:", style="bold")])
        out.extend(hanging(Text("  •"), Text(a)) for a in plan.advice)
    if c is not None:
        out.append(_blank())
        if plan.base.runtime is Runtime.MLC:
            p = mlc_settings(plan, c, plan.devices[0])
            out.append(Text("Build (MLC):", style="bold"))
            out.extend(command_lines(mlc.commands_text(p).splitlines()))
            out.append(Text("mlc-package-config.json entry:", style="bold"))
            out.extend(command_lines(json.dumps(mlc.package_entry(p), indent=2).splitlines()))
        else:
            p2 = ort_settings(plan, c)
            out.append(Text("Build (onnxruntime-genai):", style="bold"))
            out.extend(command_lines(ort.builder_text(p2).strip().splitlines()))
            out.append(Text("genai_config.json patch:", style="bold"))
            out.extend(command_lines(ort.config_patch_text(p2).splitlines()))
    return out


def _settings_text(c: Candidate) -> str:
    parts = [c.quantization, f"context {c.context:,}", f"prefill chunk {c.prefill:,}"]
    if c.sliding_window:
        sink = f" + {c.attention_sink} sink tokens" if c.attention_sink else ""
        parts.append(f"sliding window {c.sliding_window:,}{sink}")
    if c.kv_dtype:
        parts.append(f"KV {c.kv_dtype}")
    if c.max_batch_size:
        parts.append(f"max batch {c.max_batch_size}")
    return ", ".join(parts)


def _why_text(plan: Plan, c: Candidate) -> Text:
    s = c.scores
    if s is None:
        return Text("")
    bits = [f"expected perplexity +{s.quality_loss_pct:.1f} %"]
    if s.decode_tokens_per_s:
        bits.append(f"decode ≈ {s.decode_tokens_per_s:.1f} tokens/s")
    if s.ttft_s is not None:
        bits.append(f"first token ≈ {s.ttft_s:.1f} s for {plan.constraints.prompt_tokens} tokens")
    bits.append(f"{s.headroom:.0%} of the tightest limit spare")
    return Text(
        f"  objective {plan.objective.value}, margin {plan.constraints.margin:.0%}: "
        + "; ".join(bits),
        style="dim",
    )


def _note(c: Candidate, plan: Plan | None = None) -> str:
    notes = list(c.warnings)
    if c.needs_source_model:
        notes.append("needs the source model")
    if plan is not None and c in plan.pareto:
        notes.append("on the Pareto front")
    return "; ".join(notes)


def _candidates_table(rows: Iterable[tuple[Candidate, str]], with_reason: bool) -> Table:
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, header_style="bold", pad_edge=False)
    detail = not with_reason or any(c.scores is not None and c.within_margin for c, _ in rows)
    t.add_column("quantization", no_wrap=True)
    t.add_column("context", justify="right", no_wrap=True)
    t.add_column("prefill", justify="right", no_wrap=True)
    if detail:
        t.add_column("window", justify="right", no_wrap=True)
        t.add_column("KV", no_wrap=True)
        t.add_column("ppl +%", justify="right", no_wrap=True)
        t.add_column("tok/s", justify="right", no_wrap=True)
    t.add_column("total", justify="right", no_wrap=True)
    if with_reason:
        t.add_column("note" if detail else "why not", ratio=1, overflow="fold")
    for cand, why in rows:
        s = cand.scores
        cells: list[RenderableType] = [cand.quantization, f"{cand.context:,}", f"{cand.prefill:,}"]
        if detail:
            kv = cand.kv_dtype or (cand.budget.settings.kv_dtype if cand.reports else "")
            cells += [
                f"{cand.sliding_window:,}" if cand.sliding_window else "–",
                kv,
                f"{s.quality_loss_pct:.1f}" if s else "",
                f"{s.decode_tokens_per_s:.1f}" if s and s.decode_tokens_per_s else "",
            ]
        cells.append(mib(cand.budget.total_bytes) if cand.reports else "")
        if with_reason:
            cells.append(Text(why, style="dim"))
        t.add_row(*cells)
    return t


def group(renderables: Sequence[RenderableType]) -> Group:
    """Several renderables as one (for recording consoles)."""
    return Group(*renderables)
