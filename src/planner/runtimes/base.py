"""The protocol every runtime model implements (pure).

A runtime model turns a ``ModelSpec`` and the user's ``RuntimeSettings`` into a
``MemoryBudget``: it resolves the settings against the artifact's and the runtime's defaults,
lays out the components the runtime really allocates, and says which quantization schemes and
prefill sizes are worth searching. ``planner.runtimes`` holds the registry; adding a runtime is
one package here plus one line there (and a ``Runtime`` member).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from planner.budget import MemoryBudget, ResolvedSettings
from planner.device import DeviceProfile
from planner.quality import QualityCost
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

PHONE_OSES = frozenset({"ios", "ipados", "android"})
"""Where apps run one sequence at a time (MLCChat on iOS and Android runs the engine in
interactive mode: max_num_sequence 1 — mlc-llm ios/MLCSwift LLMEngine.swift, android/mlc4j
MLCEngine.kt)."""


@dataclass(frozen=True, slots=True)
class QuantCandidate:
    """A quantization scheme worth trying, with its quality rank (higher is better)."""

    name: str
    quality_rank: int
    needs_source: bool = False
    """Building it converts the original model (the artifact at hand has another precision)."""


def has_f16(d: DeviceProfile) -> bool:
    """Whether the device's GPU path computes in float16. Every iOS/Android GPU MLC targets
    does (Metal, OpenCL on Adreno/Mali/PowerVR, Vulkan); WebGPU only with ``shader-f16``, and the
    CPU path is treated as f32."""
    return d.gpu_api not in ("cpu", "webgpu")


class RuntimeModel(Protocol):
    """What a runtime module provides."""

    @property
    def runtime(self) -> Runtime:
        """The ``Runtime`` this model stands for."""
        ...

    @property
    def prefill_candidates(self) -> tuple[int, ...]:
        """Prefill sizes suggest tries, largest first."""
        ...

    def plans_by_default(self, spec: ModelSpec) -> bool:
        """Whether an artifact of this format is planned for this runtime when none is named."""
        ...

    def resolve(self, spec: ModelSpec, settings: RuntimeSettings) -> ResolvedSettings:
        """Apply the artifact's and the runtime's defaults (each default is recorded)."""
        ...

    def estimate(self, spec: ModelSpec, settings: RuntimeSettings) -> MemoryBudget:
        """The budget: what the runtime allocates for this model under these settings."""
        ...

    def settings_for_device(
        self, settings: RuntimeSettings, device: DeviceProfile
    ) -> RuntimeSettings:
        """The settings as they apply on ``device`` (onnxruntime: the device's platform, which
        decides prepacking layouts and what the OS counts; MLC: unchanged)."""
        ...

    def quantization_candidates(
        self,
        spec: ModelSpec,
        pinned: str | None,
        kv_dtype: str | None,
        devices: Sequence[DeviceProfile] = (),
    ) -> list[QuantCandidate]:
        """Schemes suggest searches for these devices (just ``pinned`` when given)."""
        ...

    def weight_quality(self, spec: ModelSpec, quantization: str) -> QualityCost:
        """The expected quality cost of the weights under ``quantization``."""
        ...

    def window_candidates(
        self, spec: ModelSpec, target: int
    ) -> tuple[tuple[int | None, int | None], ...]:
        """(sliding window, attention sink) pairs worth searching for a ``target`` context."""
        ...

    def kv_candidates(
        self, spec: ModelSpec, pinned: str | None, quantization: str | None
    ) -> tuple[str | None, ...]:
        """KV dtypes worth searching (None: the default)."""
        ...

    def max_batch_for(
        self, devices: Sequence[DeviceProfile], batch: int, pinned: int | None
    ) -> int | None:
        """The compiled batch bound the target devices' apps need (None: runtime default)."""
        ...

    def supports_sliding_window(self, spec: ModelSpec) -> bool:
        """Whether a sliding window can be asked for (as a setting) for this model."""
        ...

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """Bytes an app compares with the OS's available memory before loading (MLCChat's
        ``estimated_vram_bytes`` on iOS), or None when the runtime's apps do no such check."""
        ...

    def allocated(self, budget: MemoryBudget, device: DeviceProfile) -> MemoryBudget:
        """The budget as the runtime allocates it on ``device`` (MLC: the KV pool its engine
        sizes to the device's memory; onnxruntime: as planned, ``budget`` itself)."""
        ...
