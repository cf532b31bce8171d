"""Replay an onnxruntime allocation trace through a model of its BFC arena.

The research tool behind docs/onnxruntime-model.md's account of the Phi-3 re-run: ``alloc_trace.c``
logs the exact request sequence of a run with the CPU arena off; this script replays it through
the rules of ``core/framework/bfc_arena.cc`` (requests rounded to 256 bytes; bins by power of two
of size / 256; best fit by (size, address) from the request's bin upward; a chunk split when it
is at least twice the request or would waste 128 MiB; free chunks coalesced with free
neighbours; ``kNextPowerOfTwo`` regions from 1 MiB, doubled on every extension that did not
already have to grow, up to ``max_power_of_two_extend_bytes``, 1 GiB) and counts the pages each request's bytes cover, pass by pass. A region's
pages are resident once written, and stay (BFC never returns a region).

Checked against onnxruntime 1.32's own arena (traces in benchmarks/results/alloc_traces/, taken
with the arena off; the real runs in results/ort_rerun_probe.json, arena on). The replay's
extensions equal BFC's INFO log request for request on all three builds (phi3-mha-fp32: 16, 16,
64, 64, 128, 256 MiB regions for a 4096-token prompt, then 512 MiB for the 4097-token pass's
first 44.01 MiB MLP buffer). Second-pass growth, 4096 → 4097 tokens, memory pattern off:
replay +16 / +55 / +3 MiB against measured +16 / +55 / +7 (phi3-mha, llama-gqa, phi3-longrope);
pattern on, with ``--pattern-block``: +156 / +124 / +3 against +172 / +140 / +15. First-pass
arena pages replay 8–20 MiB below the measured peaks, which also hold non-arena memory. On
MatMulNBits (int4) builds, llama-gqa-int4 and qwen3-tied-int4, the region sizes match pass by
pass but one triggering request differs: the arena-off trace also holds the MatMulNBits input
workspaces, which with the arena on are ``posix_memalign``'ed beside it (``heap_trace.py``; the
log's trigger is a 256-byte request where the replay's is a 5 MiB workspace), and the
second-pass growth replays 14–36 MiB under the measured one (+124 / +213 against +158 / +249
with the pattern; +55 / +84 against +69 / +114 without). With the pattern
on, a later pass's first large request is the pattern's block: ``--pattern-block`` leaves it
unwritten, which is right when the later prompt has another length (a slot takes a tensor of
its own size only); an equal prompt writes it (replay such traces without the flag).

    python benchmarks/ort_bench/bfc_sim.py TRACE [TRACE ...]   # the dev venv (planner's Arena)
    # a trace: gcc -O2 -shared -fPIC -o /tmp/alloc_trace.so benchmarks/ort_bench/alloc_trace.c -ldl
    #          ALLOC_TRACE=t.log LD_PRELOAD=/tmp/alloc_trace.so VENV/bin/python \\
    #              benchmarks/ort_bench/bfc_sim.py --child MODEL_DIR 4096,4097 1

The replay runs planner's model of the arena (``planner.runtimes.onnxruntime.arena.Arena``, the
one the budget uses; run it from the dev venv); the child needs only onnxruntime and numpy.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

MIB = 2**20


def replay(
    path: Path, pattern_block: bool = False
) -> list[tuple[int, float, list[tuple[int, int]]]]:
    """Per pass: tokens, resident arena MiB after it, and the extensions (request, region).
    ``pattern_block``: from the second pass on, the pass's first request of 8 MiB or more is a
    memory-pattern block and is left unwritten (right when that pass has another length: a slot
    takes a tensor of its own size only)."""
    # planner's own model of BFC (one copy of the rules); imported here so that the traced
    # child, which runs under a bench venv without planner, never needs it
    from planner.runtimes.onnxruntime.arena import Arena

    arena = Arena()
    live: dict[str, int] = {}
    out: list[tuple[int, float, list[tuple[int, int]]]] = []
    tokens, first, passes = 0, False, 0
    for line in path.read_text().splitlines():
        kind, *rest = line.split()
        if kind == "PASS":
            tokens, arena.extensions = int(rest[0]), []
            passes += 1
            first = pattern_block and passes > 1
        elif kind == "END":
            out.append((tokens, arena.resident() / MIB, arena.extensions))
        elif tokens and kind == "A":
            n = int(rest[1])
            block = first and n >= 8 * MIB
            live[rest[0]] = arena.alloc(n, write=not block)
            first = first and not block
        elif tokens and kind == "F" and rest[0] in live:
            arena.free(live.pop(rest[0]))
    return out


PROMPT_CHILD = r"""
import json, os, sys
import numpy as np
import onnxruntime as ort


def decoder_dims(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "genai_config.json")))["model"]["decoder"]
    return cfg["num_hidden_layers"], cfg["num_key_value_heads"], cfg["head_size"]


def bind_prompt(session, p, dims):
    # a p-token prompt with an empty past, every output bound to a buffer of ours as genai binds
    # its logits and KV cache: returns the binding, the inputs and the output buffers
    layers, kvh, hd = dims
    names = {i.name for i in session.get_inputs()}
    feeds = {"input_ids": np.ones((1, p), np.int64), "attention_mask": np.ones((1, p), np.int64)}
    for i in range(layers):
        for kv in ("key", "value"):
            feeds[f"past_key_values.{i}.{kv}"] = np.zeros((1, kvh, 0, hd), np.float32)
    binding = session.io_binding()
    for k, v in feeds.items():
        if k in names:
            binding.bind_cpu_input(k, v)
    outputs = []
    for o in session.get_outputs():
        shape = [1, p, o.shape[-1]] if o.name == "logits" else [1, kvh, p, hd]
        a = np.empty(shape, np.float32)
        outputs.append(a)
        binding.bind_output(o.name, "cpu", 0, np.float32, shape, a.ctypes.data)
    return binding, feeds, outputs
"""
"""Child-side source both probes run: the genai decoder's dims and one bound prompt run
(probe_rerun.py prepends it to its own child)."""

CHILD = (
    PROMPT_CHILD
    + """
model_dir, seq, pattern = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], sys.argv[3]
trace = os.environ["ALLOC_TRACE"]
dims = decoder_dims(model_dir)
so = ort.SessionOptions()
so.enable_cpu_mem_arena = False
so.enable_mem_pattern = pattern == "1"
s = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so,
                         providers=["CPUExecutionProvider"])
for p in seq:
    b, feeds, keep = bind_prompt(s, p, dims)
    with open(trace, "a") as fh:
        fh.write(f"PASS {p}\\n")
    s.run_with_iobinding(b)
    with open(trace, "a") as fh:
        fh.write(f"END {p}\\n")
    del keep, feeds, b
"""
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("traces", nargs="*", type=Path)
    ap.add_argument(
        "--pattern-block",
        action="store_true",
        help="leave a later pass's memory-pattern block unwritten (pattern on, longer prompt)",
    )
    ap.add_argument(
        "--child",
        nargs=3,
        metavar=("MODEL_DIR", "PROMPTS", "MEM_PATTERN"),
        help="run the traced child (under LD_PRELOAD=alloc_trace.so, ALLOC_TRACE set)",
    )
    args = ap.parse_args()
    if args.child:
        if "ALLOC_TRACE" not in os.environ:
            print("set ALLOC_TRACE and LD_PRELOAD (see the docstring)", file=sys.stderr)
            return 2
        os.execv(sys.executable, [sys.executable, "-c", CHILD, *args.child])
    for path in args.traces:
        for tokens, mib, ext in replay(path, args.pattern_block):
            regions = ", ".join(f"{r >> 10} KiB → {s >> 20} MiB" for r, s in ext)
            print(f"{path.name}: pass {tokens}: arena {mib:.1f} MiB; extensions: {regions or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
