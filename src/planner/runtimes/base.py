"""The protocol every runtime model implements (pure).

A runtime model turns a ``ModelSpec`` and the user's ``RuntimeSettings`` into a
``MemoryBudget``: it resolves the settings against the artifact's and the runtime's defaults,
lays out the components the runtime really allocates, and says which quantization schemes and
prefill sizes are worth searching. ``planner.runtimes`` holds the registry; adding a runtime is
one package here plus one line there (and a ``Runtime`` member).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from planner.budget import MemoryBudget, ResolvedSettings
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec


@dataclass(frozen=True, slots=True)
class QuantCandidate:
    """A quantization scheme worth trying, with its quality rank (higher is better)."""

    name: str
    quality_rank: int


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

    def quantization_candidates(
        self, spec: ModelSpec, pinned: str | None, kv_dtype: str | None
    ) -> list[QuantCandidate]:
        """Schemes suggest searches, best quality first (just ``pinned`` when given)."""
        ...

    def supports_sliding_window(self, spec: ModelSpec) -> bool:
        """Whether a sliding window can be asked for (as a setting) for this model."""
        ...

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """Bytes an app compares with the OS's available memory before loading (MLCChat's
        ``estimated_vram_bytes`` on iOS), or None when the runtime's apps do no such check."""
        ...
