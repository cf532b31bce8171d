"""What the CPU arena keeps of a prompt's activations, per token (a mechanism probe, not a test).

The onnxruntime model (``planner.runtimes.onnxruntime.model.block_live_floats``) counts, per
prompt token, the fp32 values each kind of decoder block leaves in the CPU arena. This script
measures that term directly: it builds builder-layout models with ``tests/onnx_factory.py``
(GroupQueryAttention with packed QKV and rotary, SiLU-gated MLP, MatMulNBits int4 block 32
accuracy level 4) varying one dimension at a time — intermediate size, KV heads, hidden size,
layers — runs each in a fresh onnxruntime-genai process (``planner.runtimes.onnxruntime.measure``)
with a prompt of P tokens and max_length P + 64 (at least the sliding window + 64), and reports

    (anonymous RSS growth of the prompt phase − the prompt's logits P × vocab × 4) / P / 4

next to the count. With ``--builds`` it does the same for existing model folders (e.g. the
onnxruntime-genai builder exports of the accuracy benchmark's fit split).

``--logits-ops BUILD`` measures what ops after the lm_head cost: it writes two variants of an
exported folder (the weights file hard-linked) whose graph appends a ``Mul`` (a logits scale) or
``Div, Tanh, Mul`` (a softcap) to the lm_head, and prints each variant's prompt-phase anonymous
growth in units of the logits (tokens × vocab × 4).

``--bias-fusion BUILD`` measures the lm_head's bias Add: onnxruntime's MatMulNBitsFusion
(core/optimizer/matmul_nbits_fusion.cc, a level-2 CPU transformer) moves an Add of a constant
[N] bias into a MatMulNBits' bias input, so the lm_head writes the logits itself. The probe runs
the build and a copy whose bias initializer is declared [1, N] (same bytes, same result; the
selector only takes a rank-1 bias, so the Add stays a node of its own), and prints each one's
prompt-phase anonymous growth in units of the logits; with ``--dump-graph`` it also writes the
optimized graph of each (plain onnxruntime session) and lists the lm_head's nodes.

    python benchmarks/ort_arena_probe.py --python VENV/bin/python [--work DIR] [--builds DIR ...]
                                         [--out benchmarks/results/ort_arena_probe.json]
    python benchmarks/ort_arena_probe.py --python VENV/bin/python --logits-ops BUILD
    python benchmarks/ort_arena_probe.py --python VENV/bin/python --bias-fusion BUILD [BUILD ...]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from onnx_factory import GenaiOptions, ModelConfig, build_genai  # noqa: E402

from planner.registry import read_model  # noqa: E402
from planner.runtimes.onnxruntime.measure import measure  # noqa: E402
from planner.runtimes.onnxruntime.prompt import block_live_floats  # noqa: E402

BASE = {
    "layers": 4,
    "hidden": 1024,
    "heads": 16,
    "kv_heads": 4,
    "head_dim": 64,
    "intermediate": 2816,
    "vocab": 4096,
    "context": 8192,
}
VARIANTS: dict[str, dict[str, int]] = {
    "base": {},
    "intermediate 1408": {"intermediate": 1408},
    "intermediate 5632": {"intermediate": 5632},
    "kv heads 1": {"kv_heads": 1},
    "kv heads 16": {"kv_heads": 16},
    "hidden 2048": {"hidden": 2048, "heads": 32},
    "layers 8": {"layers": 8},
}
PROMPTS = (512, 2048)


def probe(
    folder: Path, python: str, vocab: int, prompt: int, window: int
) -> tuple[float, dict[str, Any]]:
    # genai refuses a windowed cache shorter than the window
    context = max(prompt, window) + 64
    m = measure(folder, context=context, prefill=prompt, decode_tokens=1, python=python)
    phases = {p.name: p for p in m.phases}
    after, before = phases["prefill"].rss_anon_bytes, phases["generator"].rss_anon_bytes
    if after is None or before is None:
        raise SystemExit("needs Linux (/proc/self/status RssAnon)")
    grown = after - before
    floats = (grown - prompt * vocab * 4) / prompt / 4
    return floats, {"prompt": prompt, "anon_growth_bytes": grown, "versions": dict(m.versions)}


def logits_variants(build: Path, work: Path) -> dict[str, Path]:
    """The build, plus copies whose logits pass through a Mul / a Div-Tanh-Mul softcap."""
    import os
    import shutil

    import onnx
    from onnx import TensorProto, helper

    out = {"none": build}
    for name, ops in (("mul", ["Mul"]), ("softcap", ["Div", "Tanh", "Mul"])):
        folder = work / f"{build.name}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        for item in build.iterdir():
            target = folder / item.name
            if target.exists() or item.name == "model.onnx":
                continue
            if item.name.endswith(".data"):
                os.link(item, target)  # onnxruntime refuses data outside the folder
            else:
                shutil.copy(item, target)
        model = onnx.load(str(build / "model.onnx"), load_external_data=False)
        head = next(n for n in model.graph.node if "logits" in n.output)
        head.output[0] = "logits_raw"
        model.graph.initializer.append(helper.make_tensor("cap", TensorProto.FLOAT, [], [30.0]))
        current = "logits_raw"
        for i, op in enumerate(ops):
            result = "logits" if i == len(ops) - 1 else f"logits_{i}"
            inputs = [current] if op == "Tanh" else [current, "cap"]
            model.graph.node.append(helper.make_node(op, inputs, [result], name=f"post_{i}"))
            current = result
        onnx.save(model, str(folder / "model.onnx"))
        out[name] = folder
    return out


def unfused_bias(build: Path, work: Path) -> Path:
    """A copy of ``build`` whose lm_head bias is declared [1, N]: MatMulNBitsFusion skips it."""
    import os
    import shutil

    import onnx

    folder = work / f"{build.name}-bias-1xN"
    folder.mkdir(parents=True, exist_ok=True)
    for item in build.iterdir():
        target = folder / item.name
        if target.exists() or item.name == "model.onnx":
            continue
        if item.name.endswith(".data"):
            os.link(item, target)
        else:
            shutil.copy(item, target)
    model = onnx.load(str(build / "model.onnx"), load_external_data=False)
    head_add = next(n for n in model.graph.node if "logits" in n.output and n.op_type == "Add")
    consts = {t.name: t for t in model.graph.initializer}
    bias = next(consts[i] for i in head_add.input if i in consts)
    bias.dims[:] = [1, *bias.dims]
    onnx.save(model, str(folder / "model.onnx"))
    return folder


def dump_head(folder: Path, python: str) -> str:
    """The lm_head's nodes in onnxruntime's optimized graph (op, inputs, output)."""
    import subprocess
    import tempfile

    code = (
        "import sys, onnx, onnxruntime as ort\n"
        "so = ort.SessionOptions(); so.optimized_model_filepath = sys.argv[2]\n"
        "so.add_session_config_entry("
        "'session.optimized_model_external_initializers_file_name', 'opt.data')\n"
        "ort.InferenceSession(sys.argv[1], so, providers=['CPUExecutionProvider'])\n"
        "m = onnx.load(sys.argv[2], load_external_data=False)\n"
        "print(ort.__version__, '; '.join(f'{n.op_type}({len(n.input)} inputs) -> {n.output[0]}'"
        " for n in m.graph.node if 'lm_head' in n.name))\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [python, "-c", code, str(folder / "model.onnx"), str(Path(tmp) / "opt.onnx")],
            capture_output=True,
            text=True,
            check=True,
        )
    return out.stdout.strip()


def bias_fusion(builds: list[Path], python: str, work: Path, dump: bool) -> None:
    print("| build | lm_head bias | prompt | anon growth / logits |")
    print("|---|---|---:|---:|")
    for build in builds:
        for label, folder in (("[N] (as built)", build), ("[1, N]", unfused_bias(build, work))):
            if dump:
                print(f"<!-- {build.name} {label}: {dump_head(folder, python)} -->", flush=True)
            spec = read_model(folder)
            for prompt in PROMPTS:
                _, run = probe(folder, python, spec.vocab_size, prompt, 0)
                ratio = run["anon_growth_bytes"] / (prompt * spec.vocab_size * 4)
                print(f"| {build.name} | {label} | {prompt} | {ratio:.2f} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", required=True, help="interpreter with onnxruntime-genai")
    ap.add_argument("--work", type=Path, default=ROOT / "bench-work" / "arena-probe")
    ap.add_argument("--builds", type=Path, nargs="*", default=[])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--logits-ops", type=Path, help="an exported folder to append ops to")
    ap.add_argument("--bias-fusion", type=Path, nargs="*", help="exported folders with a bias")
    ap.add_argument("--dump-graph", action="store_true", help="with --bias-fusion")
    args = ap.parse_args(argv)
    if args.bias_fusion:
        bias_fusion(args.bias_fusion, args.python, args.work, args.dump_graph)
        return 0
    if args.logits_ops is not None:
        print("| ops after the lm_head | prompt | anon growth / logits |")
        print("|---|---:|---:|")
        for name, folder in logits_variants(args.logits_ops, args.work).items():
            spec = read_model(folder)
            for prompt in PROMPTS:
                _, run = probe(folder, args.python, spec.vocab_size, prompt, 0)
                ratio = run["anon_growth_bytes"] / (prompt * spec.vocab_size * 4)
                print(f"| {name} | {prompt} | {ratio:.2f} |", flush=True)
        return 0
    rows: list[dict[str, Any]] = []
    cases: list[tuple[str, Path]] = []
    for name, change in VARIANTS.items():
        folder = args.work / name.replace(" ", "-")
        if not (folder / "genai_config.json").exists():
            build_genai(folder, ModelConfig(**{**BASE, **change}), GenaiOptions(precision="int4"))
        cases.append((f"synthetic {name}", folder))
    cases += [(f"build {b.name}", b) for b in args.builds]
    print("| model | counted floats/token | measured P=512 | P=2048 | measured / counted |")
    print("|---|---:|---:|---:|---:|")
    for label, folder in cases:
        spec = read_model(folder)
        block = spec.quantization.group_size if spec.quantization.bits else None
        counted = sum(n for _, n in block_live_floats(spec, block))
        measured = []
        runs = []
        for prompt in PROMPTS:
            floats, run = probe(
                folder, args.python, spec.vocab_size, prompt, spec.sliding_window or 0
            )
            measured.append(floats)
            runs.append(run)
        ratio = measured[-1] / counted
        print(
            f"| {label} | {counted} | {measured[0]:.0f} | {measured[1]:.0f} | {ratio:.2f} |",
            flush=True,
        )
        rows.append(
            {
                "model": label,
                "counted_floats_per_token": counted,
                "blocks": dict(block_live_floats(spec, block)),
                "measured_floats_per_token": dict(zip(PROMPTS, measured, strict=True)),
                "runs": runs,
            }
        )
    if args.out:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
