"""Hugging Face folder adapter: ``config.json`` plus safetensors headers (before conversion).

Lets a user plan an MLC or ONNX deployment from the model as published, before
``mlc_llm convert_weight`` ever runs. Reads:

- ``config.json`` through ``spec_from_hf_config`` (families MLC supports, GPTQ/AWQ blocks);
- safetensors headers only (never tensor bytes): ``model.safetensors.index.json`` and the
  shards its ``weight_map`` names, else ``model.safetensors``, else ``model-*-of-*.safetensors``.
  Exact bytes per dtype come from the headers, checked against the real file sizes.

A folder with only ``config.json`` yields a spec with ``weights=None`` and a note.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planner_adapters._markers import CONFIG, INDEX, OTHER_RUNTIME_MARKERS, folder_of

if TYPE_CHECKING:
    from planner.spec import ModelSpec


class HfAdapter:
    """Reads a Hugging Face model folder (``config.json`` [+ safetensors]).

    This module is the entry point every ``planner`` run loads to sniff; the reader
    (``_hf_read``: safetensors headers, model families) is imported by ``read``.
    """

    name = "hf"

    def sniff(self, path: Path) -> int:
        """50 for a folder (or file in one) with config.json; 20 when MLC/ONNX markers exist."""
        try:
            folder = folder_of(path)
            if not (folder / CONFIG).is_file():
                return 0
            if path.is_file() and not (
                path.name in (CONFIG, INDEX) or path.suffix == ".safetensors"
            ):
                return 0
            if any((folder / m).exists() for m in OTHER_RUNTIME_MARKERS):
                return 20
            if any(folder.glob("*.onnx")):
                return 20
        except OSError:
            return 0
        return 50

    def read(self, path: Path) -> ModelSpec:
        """Read the folder (or the folder of a config/safetensors file)."""
        from planner_adapters._hf_read import HfReader

        return HfReader().read(path)


__all__ = ["HfAdapter"]
