#!/usr/bin/env bash
# Environments of the v2 benchmark: one virtualenv per onnxruntime version, same everything else.
#
#   BENCH_WORK=/work/bench-work bash benchmarks/ort_bench/setup_envs_v2.sh
#
# creates $BENCH_WORK/venv-ort132 (onnxruntime 1.32.0, what pip picks today for
# onnxruntime-genai 0.18.0) and $BENCH_WORK/venv-ort131 (onnxruntime 1.31.1, the previous minor).
# onnxruntime-genai 0.18.0 requires onnxruntime>=1.31.0 and loads the libonnxruntime.so of the
# installed onnxruntime package (onnxruntime_genai/_dll_directory.py), so swapping onnxruntime swaps
# the runtime under the same genai. torch must be the CPU wheel (2.13.0+cpu from a local wheel
# directory or PyTorch's CPU index): a plain `pip install torch` pulls the CUDA build. planner
# itself is not installed: the scripts run planner's measuring child by path (standard library only).
set -euo pipefail
work="${BENCH_WORK:?set BENCH_WORK, e.g. /work/bench-work}"
py="${PYTHON:-python3.11}"
mkdir -p "$work/logs"
# venv-ort130 (onnxruntime 1.30.0 with onnxruntime-genai 0.17.1: 0.18.0 needs >= 1.31) measures the
# set v2-ort130, a version pair planner has no terms for; only the measuring child runs there.
for pair in "ort132 1.32.0 0.18.0" "ort131 1.31.1 0.18.0" "ort130 1.30.0 0.17.1"; do
    set -- $pair
    venv="$work/venv-$1"
    [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
    "$venv/bin/pip" install --upgrade pip wheel
    "$venv/bin/pip" install "torch==2.13.0"
    "$venv/bin/pip" install transformers "onnxruntime-genai==$3" "onnxruntime==$2" onnx-ir onnx \
        tokenizers safetensors tqdm
    "$venv/bin/python" - <<'PY'
import importlib
for name in ("torch", "transformers", "onnxruntime", "onnxruntime_genai", "onnx", "onnx_ir",
             "tokenizers", "numpy"):
    print(f"{name:20s} {getattr(importlib.import_module(name), '__version__', '?')}")
import torch
assert not torch.version.cuda, f"CUDA torch installed ({torch.version.cuda}); use the CPU wheel"
PY
done
