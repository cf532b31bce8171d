"""``planner devices``: the profile table and the names that resolve to profiles (pure).

Plain text with column widths measured from the content, so columns never run together; a
too-long name is shortened with ``…`` to keep the table within the terminal width (``planner
devices show ID`` has the full record). The JSON form is documented in
``planner.render.schema_doc`` (``devices``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from planner.device import DeviceProfile, NameRow, format_bytes
from planner.render.terminal import PLAIN, TextStyle

GAP = "  "
TIER_HINT = (
    "Any other device by its facts: --device android:6GB, ios:4GB, linux:8GB,soc=rk3588 "
    "(tier rules: docs/devices.md)."
)


def ram_text(n: int) -> str:
    """RAM as marketed: ``8 GB`` for 8 GiB (phone and laptop RAM is sold in GiB)."""
    return format_bytes(n).replace("GiB", "GB").replace("MiB", "MB").replace("TiB", "TB")


def _fit(widths: list[int], shrink: list[tuple[int, int]], width: int) -> list[int]:
    """Shrink columns, in the order given and down to each one's minimum, to fit ``width``."""
    for column, minimum in shrink:
        total = sum(widths) + len(GAP) * (len(widths) - 1)
        if total <= width:
            break
        widths[column] = max(minimum, widths[column] - (total - width))
    return widths


def _cell(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _table(
    cells: list[list[str]], shrink: list[tuple[int, int]], width: int, right: set[int]
) -> list[str]:
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    widths = _fit(widths, shrink, width)
    lines = []
    for row in cells:
        parts = [
            _cell(text, w).rjust(w) if i in right else _cell(text, w).ljust(w)
            for i, (text, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(GAP.join(parts).rstrip())
    return lines


def render_devices_text(
    profiles: Sequence[DeviceProfile],
    names: Sequence[NameRow],
    style: TextStyle = PLAIN,
    *,
    filtered: bool = False,
) -> str:
    """The table of profiles, then every alias or family and the profile it resolves to."""
    if not profiles:
        return "no device profile matches the filters\n" + TIER_HINT + "\n"
    header = ["ID", "NAME", "OS", "RAM", "SOC FAMILY"]
    rows = [
        [p.id, p.name, p.os, ram_text(p.ram_bytes.value), p.soc_family or "-"] for p in profiles
    ]
    # Shorten the name first, then the SoC family, then the name to its header.
    shrink = [(1, 16), (4, 10), (1, len(header[1]))]
    lines = _table([header, *rows], shrink=shrink, width=style.width, right={3})
    bundled = sum(p.bundled for p in profiles)
    what = f"{len(profiles)} profiles" + (" match" if filtered else "")
    lines.append("")
    lines.append(f"{what} ({bundled} bundled, {len(profiles) - bundled} from --profiles)")
    resolving = [n for n in names if n.resolves_to is not None]
    ambiguous = [n for n in names if n.resolves_to is None]
    if resolving:
        lines += ["", "Names that resolve to a profile (aliases, and families with a default):"]
        cells = [["NAME", "KIND", "RESOLVES TO", "MEMBERS"]]
        cells += [[n.name, n.kind, n.resolves_to or "", str(len(n.candidates))] for n in resolving]
        lines += [
            "  " + line for line in _table(cells, shrink=[(0, 8)], width=style.width - 2, right={3})
        ]
    if ambiguous:
        lines += ["", "Families without a default (name one of their members):"]
        lines += _wrap(", ".join(n.name for n in ambiguous), style.width, "  ")
    lines += ["", TIER_HINT]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int, indent: str) -> list[str]:
    out: list[str] = []
    line = indent
    for word in text.split(" "):
        if len(line) + len(word) + 1 > width and line.strip():
            out.append(line.rstrip())
            line = indent
        line += word + " "
    if line.strip():
        out.append(line.rstrip())
    return out


def device_entry(p: DeviceProfile) -> dict[str, Any]:
    """One row of ``planner devices --format json``."""
    return {
        "id": p.id,
        "name": p.name,
        "vendor": p.vendor,
        "os": p.os,
        "soc": p.soc,
        "soc_family": p.soc_family,
        "ram_bytes": p.ram_bytes.value,
        "mlc_device": p.mlc_device,
        "tier": p.tier,
        "aliases": list(p.aliases),
        "families": list(p.families),
        "default_for": list(p.default_for),
        "bundled": p.bundled,
    }


def name_entry(n: NameRow) -> dict[str, Any]:
    """One alias or family of ``planner devices --format json``."""
    return {
        "name": n.name,
        "kind": n.kind,
        "resolves_to": n.resolves_to,
        "candidates": list(n.candidates),
    }


def devices_dict(
    profiles: Sequence[DeviceProfile],
    names: Sequence[NameRow],
    *,
    os: str | None = None,
    min_ram_bytes: int | None = None,
) -> dict[str, Any]:
    """The body of ``planner devices --format json`` (without the header fields)."""
    return {
        "filters": {"os": os, "min_ram_bytes": min_ram_bytes},
        "devices": [device_entry(p) for p in profiles],
        "names": [name_entry(n) for n in names],
    }


def filter_profiles(
    profiles: Sequence[DeviceProfile], os: str | None, min_ram_bytes: int | None
) -> list[DeviceProfile]:
    """Profiles of one OS and/or with at least some RAM."""
    return [
        p
        for p in profiles
        if (os is None or p.os == os)
        and (min_ram_bytes is None or p.ram_bytes.value >= min_ram_bytes)
    ]


def filter_names(names: Sequence[NameRow], shown: Sequence[DeviceProfile]) -> list[NameRow]:
    """Names that resolve to a shown profile, or families with a shown member."""
    ids = {p.id for p in shown}
    return [
        n
        for n in names
        if (n.resolves_to in ids) or (n.resolves_to is None and ids.intersection(n.candidates))
    ]
