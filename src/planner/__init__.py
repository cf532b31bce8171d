"""planner: memory planning for on-device LLM deployment with MLC-LLM and ONNX Runtime.

Adapters read artifacts into a ``ModelSpec``; everything after that is pure functions:
budget estimation, device checks, plan search and emitters.
"""

from planner.errors import ExitCode, PlannerError
from planner.spec import ModelSpec

__all__ = ["ExitCode", "ModelSpec", "PlannerError"]
__version__ = "0.1.0"
