"""Colours and names shared by every renderer (terminal, SVG, PNG, HTML): pure data."""

from __future__ import annotations

CATEGORY_LABELS = {
    "weights": "weights",
    "kv_cache": "KV cache",
    "activations": "activations",
    "runtime_overhead": "runtime overhead",
}
"""Human names of the budget categories, in stacking order."""

CATEGORY_COLORS = {
    "weights": "#4C78A8",
    "kv_cache": "#F58518",
    "activations": "#54A24B",
    "runtime_overhead": "#B279A2",
}
"""One colour per category, shared by the terminal, SVG, PNG and HTML renderers."""

DEVICE_COLORS = ("#D62728", "#1F77B4", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#17BECF")
"""Colours of the devices' limit lines and markers, in --device order."""
