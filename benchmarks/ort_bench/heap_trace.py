"""What an onnxruntime-genai prompt allocates outside the CPU arena, and the heap pages it touches.

Research tool behind MECHANISMS.md §7's note on int8-compute workspaces: run a genai model under
``heap_trace.c`` (arena on, as genai runs it), then summarise the prompt phase: every request of
256 KiB or more by kind and size, and the heap (brk) pages the requests placed there cover.

    gcc -O2 -shared -fPIC -o /tmp/heap_trace.so benchmarks/ort_bench/heap_trace.c -lpthread
    MTRACE=/tmp/t.log LD_PRELOAD=/tmp/heap_trace.so VENV/bin/python \\
        benchmarks/ort_bench/heap_trace.py --child MODEL_DIR 2048 4096
    python3 benchmarks/ort_bench/heap_trace.py /tmp/t.log \
        [--workspaces HIDDEN INTERMEDIATE BLOCK PROMPT]   # growth in int8-compute workspaces
    python3 benchmarks/ort_bench/heap_trace.py --placements [--min-mib 1] /tmp/t.log   # where large requests went

Standard library only (the child needs onnxruntime-genai).
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
from pathlib import Path

HEAP_BELOW = 0x600000000000
"""x86-64 Linux: brk heap addresses sit below the mmap area (which starts near 0x7f…)."""
PAGE = 4096
MIB = 2**20

CHILD = r"""
import os, sys
import onnxruntime_genai as og
model_dir, prompt, max_length = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
trace = os.environ["MTRACE"]
def mark(phase):
    with open(trace, "a") as fh:
        fh.write(phase + "\n")
mark("LOAD")
model = og.Model(model_dir)
mark("GENERATOR")
params = og.GeneratorParams(model)
params.set_search_options(max_length=max_length)
generator = og.Generator(model, params)
mark("PROMPT")
generator.append_tokens([1] * prompt)
mark("DECODE")
for _ in range(8):
    generator.generate_next_token()
mark("END")
"""


def summarise(
    path: Path, phase: str = "PROMPT", workspaces: tuple[int, int, int, int] | None = None
) -> str:
    """Requests of ``phase`` by (kind, bytes), the heap pages they cover, and how far the heap's
    top (the highest end of a logged heap request) moved during the phase, with the bytes of
    ``operator new`` buffers (``M``) the phase placed in the heap."""
    counts: collections.Counter[tuple[str, int]] = collections.Counter()
    pages: set[int] = set()
    current = None
    top = top_before = top_after = low = new_in_heap = 0
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 1:
            if parts[0] == phase:
                top_before = top
            elif current == phase:
                top_after = top  # the phase ends: later phases' growth is not its own
            current = parts[0]
            continue
        if len(parts) < 3:
            continue
        kind, ptr, size = parts[0], int(parts[1], 16), int(parts[2])
        heap = kind != "F" and ptr < HEAP_BELOW
        if heap:
            top = max(top, ptr + size)
            low = ptr if not low else min(low, ptr)
        if current != phase:
            continue
        counts[(kind, size)] += 1
        if heap:
            pages.update(range(ptr // PAGE, (ptr + size - 1) // PAGE + 1))
            new_in_heap += size if kind == "M" else 0
    rows = [f"{path.name}: {phase}"]
    for (kind, size), n in sorted(counts.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
        rows.append(f"  {kind} {size / MIB:9.3f} MiB × {n}")
    rows.append(f"  heap pages covered by these requests: {len(pages) * PAGE / MIB:.1f} MiB")
    grown = (top_after or top) - (top_before or low)
    rows.append(
        f"  heap top grew {grown / MIB:.1f} MiB, {new_in_heap / MIB:.2f} MiB of it M buffers"
    )
    if workspaces:
        # int8-compute input workspaces (MLAS CompInt8): prompt × K × (1 + 8 / block) bytes for
        # K = intermediate (the down projection, S_i) and K = hidden (S_h)
        hidden, inter, block, prompt = workspaces
        s_i, s_h = (prompt * k * (1 + 8 / block) for k in (inter, hidden))
        rest = (grown - new_in_heap - s_i) / s_h
        rows.append(f"  beyond the M buffers: S_i ({s_i / MIB:.1f} MiB) + {rest:.1f} × S_h")
    return "\n".join(rows)


def placements(path: Path, min_bytes: int = 4 * MIB) -> str:
    """Where each phase placed its requests of ``min_bytes`` or more: (kind, MiB, heap offset
    from the phase PROMPT's first heap request, or "mapped" with the number of distinct mapped
    addresses) and how many times."""
    counts: collections.Counter[tuple[str, str, int, str]] = collections.Counter()
    mapped: dict[tuple[str, int], set[int]] = collections.defaultdict(set)
    current, base = "", None
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 1:
            current = parts[0]
            continue
        if len(parts) < 3 or parts[0] == "F" or int(parts[2]) < min_bytes:
            continue
        ptr, size = int(parts[1], 16), int(parts[2])
        if ptr < HEAP_BELOW:
            if base is None and current == "PROMPT":
                base = ptr
            where = f"heap +{(ptr - base) / MIB:.0f} MiB" if base is not None else "heap"
        else:
            mapped[(current, size)].add(ptr)
            where = "mapped"
        counts[(current, parts[0], size, where)] += 1
    rows = [f"{path.name}: requests of {min_bytes / MIB:g} MiB or more"]
    for (phase, kind, size, where), n in counts.items():
        extra = f" at {len(mapped[(phase, size)])} address(es)" if where == "mapped" else ""
        rows.append(f"  {phase:9s} {kind} {size / MIB:8.2f} MiB {where}{extra} × {n}")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("traces", nargs="*", type=Path)
    ap.add_argument("--child", nargs=3, metavar=("MODEL_DIR", "PROMPT", "MAX_LENGTH"))
    ap.add_argument(
        "--placements",
        action="store_true",
        help="list where every phase placed its requests of --min-mib or more instead",
    )
    ap.add_argument(
        "--min-mib",
        type=float,
        default=4.0,
        help="with --placements: the smallest request listed (default 4 MiB)",
    )
    ap.add_argument(
        "--workspaces",
        nargs=4,
        type=int,
        metavar=("HIDDEN", "INTERMEDIATE", "BLOCK", "PROMPT"),
        help="also print the heap top's growth beyond the M buffers in int8-compute workspaces",
    )
    args = ap.parse_args()
    if args.child:
        if "MTRACE" not in os.environ:
            print("set MTRACE and LD_PRELOAD (see the docstring)", file=sys.stderr)
            return 2
        os.execv(sys.executable, [sys.executable, "-c", CHILD, *args.child])
    for path in args.traces:
        if args.placements:
            print(placements(path, min_bytes=round(args.min_mib * MIB)))
        else:
            print(summarise(path, workspaces=args.workspaces))
    return 0


if __name__ == "__main__":
    sys.exit(main())
