"""What the user asks for, as pure data: the runtime, its settings, and the check options.

``RuntimeSettings`` is what one estimate needs; ``CheckOptions`` is how the device rules are
applied. Both are built once, from CLI options or a ``planner.yaml`` job, by
``planner.request.PlanRequest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from planner.errors import UsageError

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

    def __post_init__(self) -> None:
        for name in ("context", "prefill", "sliding_window", "max_batch_size"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise UsageError(
                    f"--{name.replace('_', '-')} must be a positive number of tokens, got {value}"
                )
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

    def __post_init__(self) -> None:
        if not 0 < self.ram_fraction <= 1:
            raise UsageError(f"--ram-fraction must be in (0, 1], got {self.ram_fraction}")
