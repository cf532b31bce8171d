"""The memory-against-context chart as hand-written SVG (pure, no dependencies).

Stacked areas per budget category, each device's limits as dashed horizontal lines, and a
vertical marker at the largest context that passes every check on each device. The output is
deterministic (fixed number formatting, no ids from memory addresses, no timestamps), so it can
be embedded in HTML reports and compared in tests. Every text taken from an artifact or a
profile is escaped.
"""

from __future__ import annotations

import math

from planner.plot import MemoryCurve
from planner.render.style import CATEGORY_COLORS, CATEGORY_LABELS, DEVICE_COLORS
from planner.text import xml_text

MIB = 1024 * 1024
GIB = 1024 * MIB
DASHES = ("6 4", "2 3", "8 3 2 3", "12 4")
"""Dash pattern per limit of a device (in the order of its checks)."""
FONT = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"


def escape(text: str) -> str:
    """XML text escaping (local: xml.sax.saxutils pulls in urllib and slows CLI start-up);
    characters XML 1.0 forbids become visible escapes first."""
    return xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """A double-quoted XML attribute value."""
    return '"' + escape(text).replace('"', "&quot;").replace("\n", "&#10;") + '"'


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10^k) giving about ``ticks`` intervals over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def _num(x: float) -> str:
    """Coordinates with one decimal, no trailing zeros (stable across platforms)."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _tick_label(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _tokens(n: int) -> str:
    return f"{n:,}"


def render_svg(
    curve: MemoryCurve, *, width: int = 900, plot_height: int = 380, title: str | None = None
) -> str:
    """The chart as a standalone SVG document (UTF-8 text)."""
    unit, div = ("GiB", GIB) if curve.y_max >= 2 * GIB else ("MiB", MIB)
    left, right, top = 78, 24, 64
    plot_w = width - left - right
    legend_rows = _legend_rows(curve)
    # Two legend columns when every entry fits in half the width (~6.5 px per character).
    plot_w0 = width - left - right
    cols = 2 if max((len(r[3]) for r in legend_rows), default=0) * 6.5 + 30 < plot_w0 / 2 else 1
    legend_h = 22 * math.ceil(len(legend_rows) / cols) + 12
    height = top + plot_height + 52 + legend_h
    x_max = max(curve.x_max, 1)
    y_top_raw = curve.y_max / div * 1.08 or 1.0
    y_step = nice_step(y_top_raw)
    y_top = math.ceil(y_top_raw / y_step) * y_step
    x_step = nice_step(x_max, 6)

    def px(ctx: float) -> float:
        return left + plot_w * ctx / x_max

    def py(value_bytes: float) -> float:
        return top + plot_height - plot_height * (value_bytes / div) / y_top

    out: list[str] = []
    heading = title or f"{curve.model}: memory against context length"
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(heading)} '
        f'font-family={quoteattr(FONT)} font-size="12">'
    )
    out.append(f"<title>{escape(heading)}</title>")
    out.append(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')
    out.append(
        f'<text x="{left}" y="24" font-size="16" font-weight="600" fill="#222">'
        f"{escape(heading)}</text>"
    )
    out.append(f'<text x="{left}" y="44" fill="#555">{escape(curve.subtitle())}</text>')

    # Grid and axes.
    out.append('<g stroke="#e3e3e3" stroke-width="1">')
    y = 0.0
    while y <= y_top + 1e-9:
        yy = py(y * div)
        out.append(f'<line x1="{left}" y1="{_num(yy)}" x2="{left + plot_w}" y2="{_num(yy)}"/>')
        y += y_step
    x = 0.0
    while x <= x_max + 1e-9:
        xx = px(x)
        out.append(f'<line x1="{_num(xx)}" y1="{top}" x2="{_num(xx)}" y2="{top + plot_height}"/>')
        x += x_step
    out.append("</g>")
    out.append('<g fill="#444" font-size="11">')
    y = 0.0
    while y <= y_top + 1e-9:
        out.append(
            f'<text x="{left - 8}" y="{_num(py(y * div) + 4)}" text-anchor="end">'
            f"{_tick_label(y)}</text>"
        )
        y += y_step
    x = 0.0
    while x <= x_max + 1e-9:
        out.append(
            f'<text x="{_num(px(x))}" y="{top + plot_height + 18}" text-anchor="middle">'
            f"{_tick_label(x)}</text>"
        )
        x += x_step
    out.append("</g>")
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{top + plot_height + 40}" '
        f'text-anchor="middle" fill="#333">context length (tokens)</text>'
    )
    out.append(
        f'<text transform="translate(18 {top + plot_height / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" fill="#333">memory ({unit})</text>'
    )

    # Stacked areas, bottom category first.
    pts = curve.points
    if pts:
        lower = [0] * len(pts)
        for i, cat in enumerate(curve.categories):
            upper = [lo + p.category_bytes[i] for lo, p in zip(lower, pts, strict=True)]
            ring = [f"{_num(px(p.context))},{_num(py(u))}" for p, u in zip(pts, upper, strict=True)]
            ring += [
                f"{_num(px(p.context))},{_num(py(lo))}"
                for p, lo in zip(reversed(pts), reversed(lower), strict=True)
            ]
            color = CATEGORY_COLORS.get(cat, "#999999")
            out.append(
                f'<polygon class="area" data-category={quoteattr(cat)} '
                f'points="{" ".join(ring)}" fill="{color}" fill-opacity="0.85" '
                f'stroke="{color}" stroke-width="0.5"/>'
            )
            lower = upper
        total = " ".join(f"{_num(px(p.context))},{_num(py(p.total_bytes))}" for p in pts)
        out.append(f'<polyline points="{total}" fill="none" stroke="#333" stroke-width="1.2"/>')

    # The asked context.
    if 0 < curve.context <= x_max:
        cx = px(curve.context)
        out.append(
            f'<line x1="{_num(cx)}" y1="{top}" x2="{_num(cx)}" y2="{top + plot_height}" '
            'stroke="#666" stroke-width="1" stroke-dasharray="1 3"/>'
        )

    # Limits (horizontal) and largest fitting context (vertical) per device.
    labels: list[tuple[float, str, str]] = []
    for d_i, dev in enumerate(curve.devices):
        color = DEVICE_COLORS[d_i % len(DEVICE_COLORS)]
        for l_i, lim in enumerate(dev.limits):
            ly = py(lim.limit_bytes)
            out.append(
                f'<line class="limit" data-device={quoteattr(dev.device_id)} '
                f'data-check={quoteattr(lim.check_id)} x1="{left}" y1="{_num(ly)}" '
                f'x2="{left + plot_w}" y2="{_num(ly)}" stroke="{color}" stroke-width="1.6" '
                f'stroke-dasharray="{DASHES[l_i % len(DASHES)]}"/>'
            )
            labels.append(
                (ly, color, f"{dev.device_name}: {lim.title} {lim.limit_bytes / div:,.1f} {unit}")
            )
    # Labels sit just above their line; from the bottom up, each moves up to clear the one below.
    # A white halo (paint-order stroke) keeps them legible over the areas.
    floor = float(top + plot_height)
    for ly, color, text in sorted(labels, key=lambda t: -t[0]):
        ty = min(ly - 4, floor - 13)
        floor = ty
        out.append(
            f'<text x="{left + plot_w - 4}" y="{_num(ty)}" text-anchor="end" '
            f'fill="{color}" font-size="11" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">{escape(text)}</text>'
        )
    for d_i, dev in enumerate(curve.devices):
        color = DEVICE_COLORS[d_i % len(DEVICE_COLORS)]
        if dev.max_context is not None and dev.max_context <= x_max:
            mx = px(dev.max_context)
            out.append(
                f'<line class="fit" data-device={quoteattr(dev.device_id)} '
                f'x1="{_num(mx)}" y1="{top}" x2="{_num(mx)}" y2="{top + plot_height}" '
                f'stroke="{color}" stroke-width="2"/>'
            )
            fits = ("fits ≥ " if dev.fits_whole_range else "fits up to ") + _tokens(dev.max_context)
            anchor = "end" if mx > left + plot_w * 0.6 else "start"
            dx = -4 if anchor == "end" else 4
            out.append(
                f'<text x="{_num(mx + dx)}" y="{top + 14 + 14 * d_i}" '
                f'text-anchor="{anchor}" fill="{color}" font-weight="600" font-size="11" '
                'stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                f"{escape(dev.device_id)}: {fits}</text>"
            )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_height}" fill="none" '
        'stroke="#888"/>'
    )

    # Legend below the axis title.
    ly0 = top + plot_height + 62
    col_w = plot_w / cols
    for i, (kind, color, dash, text) in enumerate(legend_rows):
        lx = left + (i % cols) * col_w
        ly = ly0 + (i // cols) * 22
        if kind == "area":
            out.append(
                f'<rect x="{_num(lx)}" y="{ly - 10}" width="18" height="12" fill="{color}"/>'
            )
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(
                f'<line x1="{_num(lx)}" y1="{ly - 4}" x2="{_num(lx + 18)}" y2="{ly - 4}" '
                f'stroke="{color}" stroke-width="2"{dash_attr}/>'
            )
        out.append(f'<text x="{_num(lx + 24)}" y="{ly}" fill="#333">{escape(text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend_rows(curve: MemoryCurve) -> list[tuple[str, str, str, str]]:
    """(kind, colour, dash, text) of each legend entry."""
    rows = [
        ("area", CATEGORY_COLORS.get(c, "#999999"), "", CATEGORY_LABELS.get(c, c))
        for c in curve.categories
    ]
    for d_i, dev in enumerate(curve.devices):
        color = DEVICE_COLORS[d_i % len(DEVICE_COLORS)]
        for l_i, lim in enumerate(dev.limits):
            rows.append(
                (
                    "line",
                    color,
                    DASHES[l_i % len(DASHES)],
                    f"{dev.device_name}: {lim.title} (limit on {_measured(lim.measures)})",
                )
            )
        if dev.max_context is None:
            rows.append(("line", color, "", f"{dev.device_name}: no context passes every check"))
        else:
            at_least = "≥ " if dev.fits_whole_range else ""
            rows.append(
                (
                    "line",
                    color,
                    "",
                    f"{dev.device_name}: largest context passing every "
                    f"check {at_least}{_tokens(dev.max_context)}",
                )
            )
    return rows


def _measured(threshold: str) -> str:
    """The measured side of a rule's threshold text (``a ≤ b`` → ``a``)."""
    head = threshold.split("≤", 1)[0].strip()
    return head or "the rule's measure"
