#!/usr/bin/env bash
# The whole v2 pipeline, one step at a time (the machine is shared): build every model, then
# measure every build with both onnxruntime versions. Resumable: finished builds and runs are skipped.
#
#   BENCH_WORK=/work/bench-work nohup bash benchmarks/ort_bench/run_all_v2.sh \
#       > /work/bench-work/logs/run_all_v2.log 2>&1 &
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export BENCH_WORK="${BENCH_WORK:-$repo/bench-work}"
cd "$repo"
"$BENCH_WORK/venv-ort132/bin/python" benchmarks/ort_bench/build_models_v2.py "$@"
"$BENCH_WORK/venv-ort132/bin/python" benchmarks/ort_bench/build_models_v2.py --restat
python3 benchmarks/ort_bench/run_measure_v2.py
