"""Emitters: build flags and config fragments for MLC-LLM and onnxruntime-genai."""
