#!/bin/bash
# Phi-3 re-run shapes never measured before the arena replay was committed (out of sample):
# prompts that generate past 4097 tokens from 1024, 2048 and 3000 tokens, and 4097-token prompts
# (an equal re-run at the first step), once each on onnxruntime 1.32 and 1.31, with
# `planner measure` (fresh process, model files dropped from the page cache first).
#
#   bash benchmarks/ort_bench/run_rerun_oos.sh   # planner on PATH (the dev venv); BENCH_WORK:
#                                                # models_v2/onnx and venv-ort131/132
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${BENCH_WORK:-bench-work}
OUT=benchmarks/results/ort_rerun_oos
mkdir -p "$OUT"
for ort in 132 131; do
  py="$WORK/venv-ort$ort/bin/python"
  version="1.${ort:1:2}"
  while read -r build prompt context decode; do
    planner measure "$WORK/models_v2/onnx/$build" -c "$context" -p "$prompt" --decode "$decode" \
      --python "$py" --ort-version "$version" -f json \
      -o "$OUT/$build-$prompt-$context-$decode-$ort.json"
  done <<LIST
phi3-mha-fp32 2048 8192 2050
phi3-mha-int4 3000 8192 1100
phi3-longrope-int4 2048 8192 2050
phi3-longrope-fp32 4097 8192 2
phi3-mha-int8 4097 8192 2
phi3-mha-int4-b128-acc1 1024 8192 3074
LIST
done
