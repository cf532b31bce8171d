"""Optional cross-check of emitted MLC fragments against ``mlc_llm`` itself, when importable.

mlc-llm is not installable from the package registries (only empty placeholders exist under
its names), so this is never required: without it the check reports ``available: False``.
With it, the emitted ``--overrides`` string goes through MLC's own parser
(``mlc_llm.interface.compiler_flags.ModelConfigOverride.from_str``) and the quantization name
through MLC's registry (``mlc_llm.quantization.QUANTIZATION``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CrossCheck:
    """Outcome of the cross-check."""

    available: bool
    ok: bool | None = None
    detail: str = ""


def cross_check(quantization: str, overrides: str) -> CrossCheck:
    """Ask mlc_llm whether it accepts the quantization and the overrides string."""
    try:
        flags = importlib.import_module("mlc_llm.interface.compiler_flags")
        quant = importlib.import_module("mlc_llm.quantization")
    except Exception:  # not installed, or a placeholder package without these modules
        return CrossCheck(False, None, "mlc_llm is not importable; cross-check skipped")
    registry = getattr(quant, "QUANTIZATION", {})
    if quantization not in registry:
        return CrossCheck(True, False, f"mlc_llm does not know quantization {quantization!r}")
    try:
        parsed = flags.ModelConfigOverride.from_str(overrides)
    except (SystemExit, Exception) as exc:  # argparse exits on bad input
        return CrossCheck(True, False, f"mlc_llm rejected the overrides {overrides!r}: {exc}")
    return CrossCheck(True, True, f"mlc_llm accepted {quantization} and {parsed!r}")
