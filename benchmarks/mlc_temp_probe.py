"""MLC temporary buffer: planner's replay of the memory planner vs what WebLLM's totals imply.

For each case of ``mlc_reference_public.json`` it prints the temp buffer from
``planner.runtimes.mlc.temp`` next to the implied one (published total - parameters - KV cache, with
KV = 2 x layers x kv_heads x head_dim x dtype bytes x context), and the error that remains on
the total. Not a test: run it and record the output.

    python benchmarks/mlc_temp_probe.py [--reference ../shared/data/mlc_reference_public.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from planner.quant import dtype_bytes, mlc_scheme
from planner.runtimes.mlc.temp import mlc_temp_buffer
from planner.runtimes.mlc.weights import mlc_weight_bytes
from planner_adapters.hf_config import spec_from_hf_config

MIB = 2**20
DEFAULT_REF = Path(__file__).resolve().parents[2] / "shared" / "data" / "mlc_reference_public.json"

# max_batch_size is a lib build setting (the lib metadata carries it). WebLLM's libs built before
# mlc-llm PR #2917 (2024-09) used 80; the later ones (Llama-3.2, SmolLM2, Qwen3) 128. It only
# moves batch_prefill/batch_decode, which set the max for none of these cases but Phi-3.5 q4f32_1.
BATCH_128 = ("Llama-3.2", "SmolLM2", "Qwen3")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REF)
    args = ap.parse_args(argv)
    doc = json.loads(args.reference.read_text())
    print(
        "| case | ctx | implied temp MiB | planner temp MiB | set by | total err MiB "
        "| total err % |"
    )
    print("|---|---:|---:|---:|---|---:|---:|")
    worst = 0.0
    for case in doc["cases"]:
        spec = spec_from_hf_config(
            case["hf_config"], source=case["id"], path=args.reference, name=case["id"]
        )
        scheme = mlc_scheme(case["quantization"])
        ctx = case["context_window_size"]
        params = mlc_weight_bytes(spec, scheme).total_bytes
        kv = spec.kv_bytes_per_token_unit * int(dtype_bytes(scheme.kv_dtype)) * ctx
        mbs = 128 if case["id"].startswith(BATCH_128) else 80
        temp = mlc_temp_buffer(
            spec,
            scheme,
            prefill_chunk=case["prefill_chunk_size"],
            max_batch_size=mbs,
        )
        expected = case["expected_total_mib"]
        implied = expected - (params + kv) / MIB
        err = (params + kv + temp.max_bytes) / MIB - expected
        worst = max(worst, abs(err))
        print(
            f"| {case['id']} | {ctx} | {implied:.2f} | {temp.max_bytes / MIB:.2f} | "
            f"{temp.max_function} | {err:+.2f} | {err / expected * 100:+.3f} |"
        )
    print(f"\nworst abs error on the total: {worst:.2f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
