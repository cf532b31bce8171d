"""Built-in adapters for planner (ONNX, MLC, Hugging Face), registered through entry points."""
