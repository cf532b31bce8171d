"""The ONNX adapter's historical import path (the code lives in ``planner_adapters.onnx``)."""

from __future__ import annotations

from planner_adapters.onnx import OnnxAdapter

__all__ = ["OnnxAdapter"]
