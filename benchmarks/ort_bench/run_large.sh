#!/bin/bash
# The larger models of build_large.py (0.85 B parameters, larger than any v2 build),
# measured after the onnxruntime model's last change was committed: `planner measure` at three
# run shapes, onnxruntime 1.32 and 1.31 (fresh process, model files dropped from the page cache
# first). About 20 minutes on 2 cores.
#
#   bash benchmarks/ort_bench/run_large.sh   # planner on PATH (the dev venv); BENCH_WORK:
#                                            # models_large/onnx and venv-ort131/132
#   BUILDS="llama-2k-int8-acc1 qwen3-1k5-int8-acc1" bash benchmarks/ort_bench/run_large.sh
#                                            # only these builds (the int8 accuracy-level-1
#                                            # ones were added, and measured, later)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${BENCH_WORK:-bench-work}
OUT=benchmarks/results/ort_large
mkdir -p "$OUT"
for ort in 132 131; do
  py="$WORK/venv-ort$ort/bin/python"
  version="1.${ort:1:2}"
  for build in ${BUILDS:-llama-2k-int4 qwen3-1k5-int4 llama-2k-fp32}; do
    for shape in "16 2048" "1024 4096" "4096 8192"; do
      set -- $shape
      planner --quiet measure "$WORK/models_large/onnx/$build" -c "$2" -p "$1" --python "$py" \
        --ort-version "$version" -f json -o "$OUT/$build-$1-$2-$ort.json" >/dev/null
    done
  done
done
