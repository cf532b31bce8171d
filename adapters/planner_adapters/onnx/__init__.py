"""The ONNX adapter: onnxruntime-genai packages, Optimum exports and single ONNX files.

Reads only the graph (protobuf) and small JSON configs; external weight files are checked
with ``os.stat`` and never opened, so planning cost does not grow with weight size.

What is read from where (shared research onnx-runtime.md §1-§4), module by module:

* ``layout``: which files make the artifact (single file, external data, genai folder, Optimum
  export); ``configs``: typed views of ``genai_config.json`` and ``config.json``.
* ``graph`` (with the subset schema ``proto``): initializer headers, nodes, graph I/O.
* ``linears``: every projection — ``MatMulNBits`` (attributes K, N, bits, block_size; its packed
  uint8 B holds K·N parameters), QDQ (``DequantizeLinear`` feeding a MatMul), integer and float
  MatMuls, com.microsoft ``Attention``'s packed QKV.
* ``structure``: KV-cache inputs, layers, embedding, lm_head, attention projections, windows.
  onnxruntime-genai sizes its KV cache from ``num_hidden_layers``/``num_key_value_heads``/
  ``head_size`` and overrides them with concrete KV input dims of the graph, so concrete graph
  dims win and the config's ``head_size`` is authoritative when the graph's KV head dim is
  symbolic (``kv_cache_dim``, builders after PR #2084).
* ``dims``: head counts, head dim, hidden, intermediate, vocabulary, context.
* ``weights`` and ``quant``: the inventory and the quantization scheme.
* ``analysis``: the ``ModelSpec``, every field's origin recorded with ``Provenance``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from planner_adapters.onnx.layout import locate, sniff

if TYPE_CHECKING:
    from planner.spec import ModelSpec


class OnnxAdapter:
    """Reads ONNX LLM artifacts into a ``ModelSpec`` (graph and configs only)."""

    name = "onnx"

    def sniff(self, path: Path) -> int:
        """Score ``path``: .onnx files, genai folders and Optimum export folders."""
        return sniff(path)

    def read(self, path: Path) -> ModelSpec:
        """Read ``path`` (a .onnx file or a model folder) without loading weight bytes."""
        # Imported here, not at the top: this package is the entry point every run loads to
        # sniff, and the graph analysis (protobuf schema, families) is most of its cost.
        from planner.text import sanitize_fields
        from planner_adapters.onnx.analysis import config_only_spec, graph_spec
        from planner_adapters.onnx.graph import parse_model, scan

        found = locate(path)
        if found.model_path is None:
            return sanitize_fields(config_only_spec(path, found))
        model, size = parse_model(found.model_path)
        graph = scan(model, found.model_path, size)
        return sanitize_fields(graph_spec(path, found, graph))  # artifact text made printable


__all__ = ["OnnxAdapter"]
