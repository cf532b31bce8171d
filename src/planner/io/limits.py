"""One cap policy for numbers read from untrusted files, and budgets for scans and parses.

Every size planner computes from an artifact is bounded *before* it is computed: a dimension
is at most ``MAX_DIM``, a shape has at most ``MAX_RANK`` dims, a tensor at most ``MAX_ELEMENTS``
elements, a model at most ``MAX_LAYERS`` layers, a run config's token count at most
``MAX_TOKENS``. ``checked_dims`` multiplies a shape out only after every dim passed, and stops
as soon as the product passes the cap, so no hostile shape can build a huge integer.

Every scan and parse of a file runs under a ``Budget``: bytes read or produced, items
(values, members, fields, candidates) and wall time. Running over any of them is an
``UnsafeArtifactError`` naming the file and the limit.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planner.errors import ArtifactFormatError, UnsafeArtifactError

MAX_DIM = 1 << 40
"""No real model dimension (vocab, hidden, context, a tensor dim) comes near this; larger is
corruption."""
MAX_ELEMENTS = MAX_DIM * 1024
"""Elements in one tensor (2^50: a petabyte of int8)."""
MAX_RANK = 64
"""Dims in one tensor shape (real weights have at most 5)."""
MAX_LAYERS = 1024
"""The deepest published LLMs have ~130 layers. Layer counts size per-layer tables (and the
MLC temp-buffer replay walks every layer), so a corrupt count is refused up front."""
MAX_TOKENS = 1 << 24
"""Token counts a run config may ask for (context, prefill, windows): 16,777,216 tokens, far
past any model's context and far below where byte arithmetic loses precision."""
MAX_BATCH = 1024
"""Sequences in one batch a run config may ask for."""


def checked_dims(dims: Sequence[object], path: Path | str, what: str) -> int:
    """Elements of a tensor of shape ``dims``, every dim checked before anything is multiplied.

    Refuses non-integer, negative and absurd dims (over ``MAX_DIM``), ranks over ``MAX_RANK``
    and products over ``MAX_ELEMENTS``. A zero dim makes the tensor empty (0 elements).
    """
    if len(dims) > MAX_RANK:
        raise ArtifactFormatError(
            f"{what} has {len(dims)} dimensions (planner accepts at most {MAX_RANK})",
            path=str(path),
        )
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise ArtifactFormatError(f"{what} has an invalid dimension {d!r}", path=str(path))
        if d > MAX_DIM:
            raise ArtifactFormatError(
                f"{what} has an absurd dimension {d} (over {MAX_DIM})", path=str(path)
            )
    if 0 in dims:
        return 0
    total = 1
    for d in dims:
        total *= d  # type: ignore[operator]  # every d is an int, checked above
        if total > MAX_ELEMENTS:
            raise ArtifactFormatError(f"{what} has an absurd element count", path=str(path))
    return total


@dataclass(slots=True)
class Budget:
    """Bytes, items and seconds one scan or parse may spend (``spend`` raises past any)."""

    what: str
    """What is being read, for messages (``compiled library``, ``tar archive``)."""
    path: str
    max_bytes: int
    max_items: int
    seconds: float
    bytes_label: str = "reading it would take"
    """How a byte overrun is described (``parsing it would take`` for memory estimates)."""
    used_bytes: int = 0
    used_items: int = 0
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.seconds

    def spend(self, nbytes: int = 0, items: int = 0) -> None:
        """Account for ``nbytes`` and ``items``; refuse the file once a limit is passed."""
        self.used_bytes += nbytes
        self.used_items += items
        if self.used_bytes > self.max_bytes:
            raise UnsafeArtifactError(
                f"{self.what}: {self.bytes_label} over {self.max_bytes} bytes (planner's limit)",
                path=self.path,
            )
        if self.used_items > self.max_items:
            raise UnsafeArtifactError(
                f"{self.what}: more than {self.max_items} items to read (planner's limit)",
                path=self.path,
            )
        if time.monotonic() > self._deadline:
            raise UnsafeArtifactError(
                f"{self.what}: reading it took over {self.seconds:g} s (planner's limit)",
                path=self.path,
            )
