"""Runtime settings: what the user asks the runtime to do (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from planner.errors import UsageError


class Runtime(str, Enum):
    """The runtimes planner models."""

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
    gpu_memory_utilization: float = 0.85
    """MLC engine's fraction of device memory (cpp/serve/config.h default 0.85)."""
    draft_quantization: str | None = None

    def __post_init__(self) -> None:
        for name in ("context", "prefill", "sliding_window"):
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
