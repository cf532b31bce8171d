#!/usr/bin/env bash
# Heavy benchmark environment for the ONNX Runtime accuracy benchmark (not used by tests or CI).
#
#   bash benchmarks/ort_bench/setup_env.sh            # creates bench-work/venv (git-ignored)
#
# torch is pinned to the CPU wheel (2.13.0+cpu): a plain `pip install torch` resolves to the CUDA
# build, which pulls several GB of GPU libraries the model builder never uses on the CPU EP.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${BENCH_WORK:-$repo/bench-work}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3

mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    "$py" -m venv "$work/venv"
fi
# shellcheck disable=SC1091
. "$work/venv/bin/activate"
pip install --upgrade pip wheel
# A local wheel directory (pip find-links) may hold the +cpu build; otherwise use PyTorch's CPU index.
pip install "torch==2.13.0+cpu" \
    || pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
pip install transformers "onnxruntime-genai==0.18.0" onnx-ir onnx onnxruntime tokenizers safetensors tqdm
pip install -e "$repo"
python - <<'PY'
import importlib
for name in ("torch", "transformers", "onnxruntime", "onnxruntime_genai", "onnx", "onnx_ir", "tokenizers"):
    module = importlib.import_module(name)
    print(f"{name:20s} {getattr(module, '__version__', '?')}")
import torch
assert not torch.version.cuda, f"CUDA torch installed ({torch.version.cuda}); use the CPU wheel"
PY
