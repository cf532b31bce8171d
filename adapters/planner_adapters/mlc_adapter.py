"""MLC-LLM adapter: ``mlc-chat-config.json`` + ``tensor-cache.json`` (+ a compiled library).

Reads (mlc-ai/mlc-llm 79d603f; see shared research mlc-llm.md §3, §4, §2a):

- ``mlc-chat-config.json`` as ``mlc_llm gen_config`` writes it: ``model_type``, ``quantization``,
  ``model_config`` (the model's config dataclass, HF-like keys, parsed by ``spec_from_hf_config``)
  and the top-level ``context_window_size``, ``prefill_chunk_size``, ``sliding_window_size``,
  ``attention_sink_size`` (−1 = unset); ``max_batch_size`` lives only in ``model_config``.
- ``tensor-cache.json`` (``ndarray-cache.json`` before mlc-llm 91d95f9) as TVM's
  ``dump_tensor_cache`` writes it: shards (``dataPath``, ``format: raw-shard``, ``nbytes``)
  holding records (``name``, ``shape``, ``dtype``, ``format`` raw | f32-to-bf16, ``nbytes``,
  ``byteOffset``).
  Every record's bytes must equal shape × dtype (f32-to-bf16 stores float32 as 2 bytes and TVM
  decodes it back to float32 on load). Shard files are optional (a clone without Git LFS).
- A compiled model library in the folder, or one passed explicitly: see ``_mlc_lib``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner_adapters._markers import CACHE_FILES, CHAT_CONFIG, LIB_SUFFIXES

if TYPE_CHECKING:
    from planner.spec import CompiledLibInfo, ModelSpec


class MlcAdapter:
    """Reads MLC-LLM model folders (``mlc-chat-config.json``) and compiled libraries.

    This module is the entry point every ``planner`` run loads to sniff; the reader
    (``_mlc_read``: tensor caches, compiled libraries, model families) is imported by ``read``.
    """

    name = "mlc"

    def sniff(self, path: Path) -> int:
        """90 for an MLC folder or its config; 80–85 for a cache file or library beside one."""
        try:
            if path.is_dir():
                return 90 if (path / CHAT_CONFIG).is_file() else 0
            if path.name == CHAT_CONFIG:
                return 90
            beside = (path.parent / CHAT_CONFIG).is_file()
            if path.name in CACHE_FILES and beside:
                return 85
            if path.suffix in LIB_SUFFIXES and beside:
                return 80
        except OSError:
            return 0
        return 0

    def read(self, path: Path, *, lib: Path | None = None) -> ModelSpec:
        """Read an MLC folder (or a file inside it). ``lib`` names a compiled library to read
        alongside; otherwise a single library found in the folder is used."""
        from planner_adapters._mlc_read import MlcReader

        return MlcReader().read(path, lib=lib)


def read_compiled_lib(path: Path, model_config: dict[str, Any] | None = None) -> CompiledLibInfo:
    """Metadata of a compiled MLC library (``.so``/``.dylib``/``.dll``/``.tar``/``.wasm``)."""
    from planner_adapters._mlc_lib import read_lib

    return read_lib(path, model_config)[0]


__all__ = ["MlcAdapter", "read_compiled_lib"]
