"""What the user asks for, as pure data: the runtime, its settings, and the check options.

``RuntimeSettings`` is what one estimate needs; ``CheckOptions`` is how the device rules are
applied. Both are built once, from CLI options or a ``planner.yaml`` job, by
``planner.request.PlanRequest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from planner.errors import UsageError

if TYPE_CHECKING:
    from planner.calibration import Calibration

DEFAULT_RAM_FRACTION = 0.70
"""The seed articles' rule: keep weights + KV + activations within ~70% of device RAM."""
DEFAULT_GPU_MEMORY_UTILIZATION = 0.85
"""MLC engine's fraction of device memory (mlc-llm cpp/serve/config.h default 0.85)."""
DEFAULT_BACKGROUND_FRACTION = 0.25
"""Warn about background kills when the app holds more than this share of RAM."""


class Runtime(str, Enum):
    """The runtimes planner models (each one is a module under ``planner.runtimes``)."""

    MLC = "mlc"
    ONNXRUNTIME = "onnxruntime"


@dataclass(frozen=True, slots=True)
class RuntimeSettings:
    """Settings for one estimate. ``None`` fields fall back to the artifact's own settings.

    ``context`` is the total tokens the KV cache must hold (MLC ``context_window_size``;
    onnxruntime-genai ``search.max_length``). ``prefill`` is the tokens processed in one
    forward pass (MLC ``prefill_chunk_size``; onnxruntime-genai: the prompt processed at once).
    """

    runtime: Runtime
    quantization: str | None = None
    context: int | None = None
    prefill: int | None = None
    batch: int = 1
    kv_dtype: str | None = None
    sliding_window: int | None = None
    attention_sink: int | None = None
    gpu_memory_utilization: float = DEFAULT_GPU_MEMORY_UTILIZATION
    draft_quantization: str | None = None
    max_batch_size: int | None = None
    """MLC: the compiled library's batch bound (None: the artifact's, else gen_config's)."""
    runtime_version: str | None = None
    """The runtime's version (onnxruntime ``1.32.0``); None: the newest the model knows."""
    platform: str | None = None
    """onnxruntime: the OS/CPU it runs on (``linux-x86_64``, ``android-arm64``, ...); None: the
    device's, or planner's default without a device."""
    calibration: Calibration | None = None
    """Fixed terms measured on the team's own hardware (``planner measure``)."""
    decode_tokens: int | None = None
    """Tokens generated after the prompt (None: up to the context); only a KV cache that grows
    with the sequence depends on it."""

    def __post_init__(self) -> None:
        for name in ("context", "prefill", "sliding_window", "max_batch_size"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise UsageError(
                    f"--{name.replace('_', '-')} must be a positive number of tokens, got {value}"
                )
        if self.decode_tokens is not None and self.decode_tokens < 0:
            raise UsageError(f"decode tokens must be ≥ 0, got {self.decode_tokens}")
        if self.batch <= 0:
            raise UsageError(f"--batch must be at least 1, got {self.batch}")
        if self.attention_sink is not None and self.attention_sink < 0:
            raise UsageError(f"--attention-sink must be ≥ 0, got {self.attention_sink}")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise UsageError("gpu_memory_utilization must be in (0, 1]")


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Knobs of the device rules (all documented in docs/reference.md)."""

    ram_fraction: float = DEFAULT_RAM_FRACTION
    entitlement: bool = False
    """Assume ``com.apple.developer.kernel.increased-memory-limit`` is granted."""
    background_fraction: float = DEFAULT_BACKGROUND_FRACTION
    declared_vram_bytes: int | None = None
    """An app's declared estimate (mlc-package-config.json ``estimated_vram_bytes``) to check
    against the budget and the device (rule ``declared-estimate``); None: no such rule."""

    def __post_init__(self) -> None:
        if not 0 < self.ram_fraction <= 1:
            raise UsageError(f"--ram-fraction must be in (0, 1], got {self.ram_fraction}")
