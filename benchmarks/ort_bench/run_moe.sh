#!/bin/bash
# LFM2-MoE builds (build_moe.py), a family planner had never been run against: `planner measure`
# on every build at four run shapes, onnxruntime 1.32 and 1.31 (fresh process, model files
# dropped from the page cache first). The fit split was measured first, the holdout split only
# after the change it tests was committed (build_moe.py says which is which).
#
#   bash benchmarks/ort_bench/run_moe.sh [fit|holdout|holdout-2|all] [VERSIONS]
#       # planner on PATH (the dev venv); BENCH_WORK: models_moe/onnx and venv-ort1NN;
#       # VERSIONS default "132 131"; "130" runs onnxruntime 1.30 with genai 0.17.1, a pair
#       # planner plans as 1.31 (and says so)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${BENCH_WORK:-bench-work}
OUT=benchmarks/results/ort_moe
WHICH=${1:-all}
VERSIONS=${2:-132 131}
mkdir -p "$OUT"
fit="lfm2moe-fp32 lfm2moe-int4 lfm2moe-m2-fp32 lfm2moe-m2-int4 lfm2moe-m3-fp32 lfm2moe-m3-int4"
holdout="lfm2moe-b-fp32 lfm2moe-b-int4 lfm2moe-c-fp32 lfm2moe-c-int4 lfm2moe-c-int8"
holdout2="lfm2moe-d-fp32 lfm2moe-d-int4 lfm2moe-d-int8 lfm2moe-e-int4 lfm2moe-e-int8"
case "$WHICH" in
  fit) builds=$fit ;;
  holdout) builds=$holdout ;;
  holdout-2) builds=$holdout2 ;;
  *) builds="$fit $holdout $holdout2" ;;
esac
for ort in $VERSIONS; do
  py="$WORK/venv-ort$ort/bin/python"
  version="1.${ort:1:2}"
  for build in $builds; do
    for shape in "16 2048" "512 2048" "2048 4096" "4096 8192"; do
      set -- $shape
      planner --quiet measure "$WORK/models_moe/onnx/$build" -c "$2" -p "$1" --python "$py" \
        --ort-version "$version" -f json -o "$OUT/$build-$1-$2-$ort.json" >/dev/null
    done
  done
done
