"""Drawing basics every text report shares: the style (width, colour), rendering rich
renderables to a string, MiB formatting, and the ``inspect`` listing.

Split from ``planner.render.terminal`` so that ``planner inspect`` draws its listing without
importing the planner's budget, checks and rules (start-up, BENCHMARKS.md §3).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from planner.spec import ModelSpec

MIB = 1024 * 1024
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


def num_mib(n: int) -> str:
    return f"{n / MIB:,.1f}"


def signed_mib(n: int) -> str:
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
    facts = dict(spec.extra)
    if "moe_nodes" in facts:
        moe = f"{facts['moe_nodes']} layers ({facts.get('moe_ops', 'MoE')})"
        if "moe_experts" in facts:
            moe += f", {facts['moe_experts']} experts, top-{facts.get('moe_top_k', '?')}"
        if "moe_intermediate" in facts:
            moe += f", expert width {facts['moe_intermediate']}"
        row("mixture of experts", moe)
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
    out.extend(note_lines("note", spec.notes))
    return out


def hanging(prefix: RenderableType, text: RenderableType) -> Table:
    """``prefix`` then ``text``, wrapped lines indented under the text (not under the prefix)."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold", ratio=1)
    grid.add_row(prefix, text)
    return grid


def note_lines(prefix: str, notes: Iterable[str]) -> list[RenderableType]:
    style = "dim" if prefix == "assumed" else ""
    return [hanging(Text(f"  {prefix}:", style=style), Text(n, style=style)) for n in notes]
