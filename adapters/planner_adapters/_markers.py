"""The file names the built-in adapters recognise an artifact by, with nothing to import.

Shared by the entry-point modules (``sniff``, loaded on every run) and the readers they import
in ``read`` (``_mlc_read``, ``_hf_read``), so that neither imports the other.
"""

from __future__ import annotations

from pathlib import Path

CHAT_CONFIG = "mlc-chat-config.json"
"""MLC: what ``mlc_llm gen_config`` writes."""
CACHE_FILES = ("tensor-cache.json", "ndarray-cache.json")
"""MLC: the tensor cache (``ndarray-cache.json`` before mlc-llm 91d95f9)."""
LIB_SUFFIXES = (".so", ".dylib", ".dll", ".tar", ".wasm")
"""What ``mlc_llm compile --output`` produces (the suffix picks the format)."""

CONFIG = "config.json"
INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"
OTHER_RUNTIME_MARKERS = ("mlc-chat-config.json", "genai_config.json")
"""Folders carrying these belong to the MLC / onnxruntime-genai adapters."""


def folder_of(path: Path) -> Path:
    """The model folder: ``path`` itself, or the folder of a file in it."""
    return path if path.is_dir() else path.parent
