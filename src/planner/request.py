"""``PlanRequest``: one planning request, built once from CLI options or a planner.yaml job.

Everything a command needs to know about what the user asked for lives here: the model (and
draft) paths, the runtime settings, the devices, the check options and the job's label. The
library API (``planner.api``) takes a ``PlanRequest``; the CLI and the run-config loader only
build one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from planner.calibration import Calibration
from planner.runtimes import default_runtime
from planner.settings import CheckOptions, Runtime, RuntimeSettings
from planner.spec import ModelSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRequest:
    """What the user asked for. ``None`` settings fall back to the artifact's and the runtime's
    defaults (see ``planner.runtimes``)."""

    model: Path
    runtime: Runtime | None = None
    """None: the runtime the artifact's format is planned for (ONNX → onnxruntime, else MLC)."""
    quantization: str | None = None
    context: int | None = None
    prefill: int | None = None
    batch: int = 1
    kv_dtype: str | None = None
    sliding_window: int | None = None
    attention_sink: int | None = None
    max_batch_size: int | None = None
    draft: Path | None = None
    draft_quantization: str | None = None
    runtime_version: str | None = None
    """onnxruntime: the version to plan for (None: the newest measured)."""
    platform: str | None = None
    """onnxruntime: the platform to plan for (None: each device's; without devices planner's
    default, linux-x86_64)."""
    calibration: Calibration | None = None
    """Fixed terms measured on the team's own hardware (``planner measure --calibration-out``)."""
    devices: tuple[str, ...] = ()
    profile_dirs: tuple[Path, ...] = ()
    """Extra device-profile folders (later ones win over earlier and over bundled ones)."""
    options: CheckOptions = field(default_factory=CheckOptions)
    adapter: str | None = None
    label: str = ""
    """The name reports use (a planner.yaml job's ``name``, else the model path)."""

    @property
    def name(self) -> str:
        """The label, or the model path as given."""
        return self.label or str(self.model)

    def runtime_for(self, spec: ModelSpec) -> Runtime:
        """The runtime asked for, or the artifact's default."""
        return self.runtime or default_runtime(spec)

    def settings(self, spec: ModelSpec) -> RuntimeSettings:
        """The runtime settings for ``spec`` (validated by ``RuntimeSettings``)."""
        return RuntimeSettings(
            runtime=self.runtime_for(spec),
            quantization=self.quantization,
            context=self.context,
            prefill=self.prefill,
            batch=self.batch,
            kv_dtype=self.kv_dtype,
            sliding_window=self.sliding_window,
            attention_sink=self.attention_sink,
            max_batch_size=self.max_batch_size,
            draft_quantization=self.draft_quantization,
            runtime_version=self.runtime_version,
            platform=self.platform,
            calibration=self.calibration,
        )
