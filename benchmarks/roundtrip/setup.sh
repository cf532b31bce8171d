#!/usr/bin/env bash
# The round-trip benchmark's own environment: the onnxruntime-genai 0.18 builder needs torch,
# transformers and onnx-ir (torch 2.13.0 resolves to the local CPU wheel here; never a bare
# `torch`, which would pull a CUDA build), plus planner itself.
set -euo pipefail
VENV=${VENV:-/work/bench-work/venv-roundtrip}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet torch==2.13.0 transformers==5.24.0 onnx-ir==1.1.0 onnx==1.23.2 \
  onnxruntime==1.32.0 onnxruntime-genai==0.18.0 safetensors numpy
"$VENV/bin/pip" install --quiet "$REPO"
