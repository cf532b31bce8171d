"""``--emit`` values: the fragments suggest can write, and the runtime each one is for."""

from __future__ import annotations

from enum import Enum

from planner.settings import Runtime


class EmitKind(str, Enum):
    """``--emit`` values."""

    mlc_overrides = "mlc-overrides"
    mlc_package_config = "mlc-package-config"
    mlc_commands = "mlc-commands"
    genai_config = "genai-config"
    ort_builder = "ort-builder"

    @property
    def runtime(self) -> Runtime:
        """The runtime whose toolchain consumes this fragment."""
        return Runtime.MLC if self in MLC_KINDS else Runtime.ONNXRUNTIME


MLC_KINDS = (EmitKind.mlc_overrides, EmitKind.mlc_package_config, EmitKind.mlc_commands)
