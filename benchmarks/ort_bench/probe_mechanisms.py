"""Mechanism probes: measure each term of the CPU memory model directly, on a few v2 builds.

Commands (repository root, after build_models_v2.py; standard library only)::

    export BENCH_WORK=/work/bench-work
    python3 benchmarks/ort_bench/probe_mechanisms.py all            # every probe, both versions
    python3 benchmarks/ort_bench/probe_mechanisms.py prepack --ort 1.32
    python3 benchmarks/ort_bench/probe_mechanisms.py report         # print the tables only

Probes (each run is a fresh process: probe_child.py in the venv of the chosen onnxruntime):

* ``prepack``: heap (anon) growth of ``og.Model`` vs the bytes the MLAS packing functions allocate,
  computed from the graph (MatMulNBits N/K/bits/block/accuracy level; fp32 MatMul N/K), with the
  default session and with ``session.disable_prepacking=1`` (through a probe copy of the folder
  whose genai_config.json adds the entry; the weights are symlinks).
* ``arena``: prefill-phase growth vs prompt length (16 … 4096) with the CPU arena on (default),
  off (``enable_cpu_mem_arena: false``), and with genai's prefill chunking (``search.chunk_size``
  256), vs the logits size ``prompt · vocab · 4``.
* ``kv``: generator-phase growth vs max_length (1024, 4096, 16384) for fp32 / int8 / int4 KV,
  sliding-window and hybrid (conv) models, vs ``2 · layers · kv_heads · head_dim · bytes · max_length``.
* ``tied``: plain onnxruntime session with the optimized graph saved
  (``optimized_model_filepath`` + external initializers): which initializers the optimizer
  creates (the folded Transpose of a tied fp32 lm_head) and their size.
* ``pages``: file-backed resident pages of ``model.onnx.data`` after load / prefill vs the touched
  embedding rows, and the resident code of ``libonnxruntime.so`` (fixed cost).
* ``fixed``: a tiny model (2 layers, hidden 128, vocab 512, built here) — what any model adds.
* ``attn``: prefill growth at a 2048-token prompt while max_length varies (2064 … 16384), arena
  on and off.
* ``flash``: the same prompt with GroupQueryAttention's flash-attention prompt path disabled
  (``ORT_GQA_DISABLE_FLASH_ATTENTION=1``), which materializes the full score buffer.

Results: ``benchmarks/results/ort_probes_v2.json`` (all runs, with per-mapping RSS after each
phase). MECHANISMS.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = Path(os.environ.get("BENCH_WORK", REPO / "bench-work"))
ONNX = WORK / "models_v2" / "onnx"
PROBES = WORK / "probes"
OUT = REPO / "benchmarks" / "results" / "ort_probes_v2.json"
CHILD = HERE / "probe_child.py"
VENVS = {"1.32": "venv-ort132", "1.31": "venv-ort131"}
MARKER = "PROBE_RESULT "
BOOTSTRAP = (
    "import runpy, sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)
MIB = 2**20


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------------
# Running


def load_results() -> list[dict[str, Any]]:
    return json.loads(OUT.read_text()) if OUT.exists() else []


def save_results(results: list[dict[str, Any]]) -> None:
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(OUT)


def child(
    ort: str, request: dict[str, Any], timeout: float = 1200, env: dict[str, str] | None = None
) -> dict[str, Any]:
    python = str(WORK / VENVS[ort] / "bin" / "python")
    try:
        proc = subprocess.run(
            [python, "-c", BOOTSTRAP, str(CHILD)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    return {"error": f"exit {proc.returncode}: {(proc.stderr or '').strip()[-300:]}"}


def variant_dir(
    build: str, tag: str, session_options: dict[str, Any], search: dict[str, Any] | None = None
) -> Path:
    """A probe copy of a build: symlinked files, genai_config.json with extra session options
    (and search options)."""
    src = ONNX / build
    dst = PROBES / f"{build}__{tag}"
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for item in src.iterdir():
        if item.name != "genai_config.json":
            (dst / item.name).symlink_to(item)
    config = json.loads((src / "genai_config.json").read_text())
    config["model"]["decoder"].setdefault("session_options", {}).update(session_options)
    config.setdefault("search", {}).update(search or {})
    (dst / "genai_config.json").write_text(json.dumps(config, indent=1))
    return dst


def probe_run(
    results: list[dict[str, Any]],
    probe: str,
    key: dict[str, Any],
    ort: str,
    request: dict[str, Any],
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    ident = {"probe": probe, "ort": ort, **key}
    for r in results:
        if all(r.get(k) == v for k, v in ident.items()) and "error" not in r.get("result", {}):
            return r
    res = child(ort, request, env=env)
    record = {
        **ident,
        "env": env or {},
        "request": {
            k: (str(v).replace(str(WORK), "$BENCH_WORK") if isinstance(v, str) else v)
            for k, v in request.items()
        },
        "result": res,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    results.append(record)
    save_results(results)
    err = res.get("error")
    _log(
        f"{probe} {key} ort{ort}: "
        + (f"ERROR {err}" if err else f"peak +{(res['peak'] - res['baseline']) / MIB:.1f} MiB")
    )
    return record


# ------------------------------------------------------------------------------------------------
# Expected sizes from the graph (x86-64 MLAS; see MECHANISMS.md for the source files)


def graph_matmuls(build: str) -> dict[str, Any]:
    """MatMulNBits and fp32 MatMul weights of a build, read without the weights."""
    code = r"""
import json, sys, onnx
from onnx import helper
m = onnx.load(sys.argv[1], load_external_data=False)
inits = {}
for t in m.graph.initializer:
    n = 0
    for e in t.external_data:
        if e.key == "length": n = int(e.value)
    inits[t.name] = (list(t.dims), n or len(t.raw_data))
out = {"nbits": [], "matmul": [], "inits": {k: v[1] for k, v in inits.items()}}
for node in m.graph.node:
    if node.op_type == "MatMulNBits":
        a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
        out["nbits"].append({"name": node.name, "K": a["K"], "N": a["N"], "bits": a["bits"],
            "block": a["block_size"], "acc": a.get("accuracy_level", 0),
            "zp": len(node.input) > 3 and bool(node.input[3]),
            "b_bytes": inits.get(node.input[1], (0, 0))[1],
            "s_bytes": inits.get(node.input[2], (0, 0))[1]})
    elif node.op_type == "MatMul" and node.input[1] in inits:
        dims, n = inits[node.input[1]]
        if len(dims) == 2:
            out["matmul"].append({"name": node.name, "K": dims[0], "N": dims[1], "bytes": n,
                                  "init": node.input[1]})
print(json.dumps(out))
"""
    python = str(WORK / "venv-ort132" / "bin" / "python")
    proc = subprocess.run(
        [python, "-c", code, str(ONNX / build / "model.onnx")],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def expected_prepack(build: str) -> dict[str, Any]:
    """Bytes MLAS allocates for packed weights on x86-64 (AVX2/AVX512), per the packing code."""
    g = graph_matmuls(build)
    packed = 0
    file_bytes = 0
    unpacked_largest = 0
    for n in g["nbits"]:
        kb = math.ceil(n["K"] / n["block"])
        blob = n["block"] * n["bits"] // 8
        file_bytes += n["b_bytes"] + n["s_bytes"]
        comp_int8 = n["acc"] == 4
        if n["bits"] == 8 and not comp_int8:
            # no SQ8 CompFp32 variant: not prepacked; every call dequantizes B to a K*N fp32 buffer
            unpacked_largest = max(unpacked_largest, n["K"] * n["N"] * 4)
            continue
        data = n["N"] * kb * blob
        if comp_int8:
            packed += data + 63 + n["N"] * kb * 4 + math.ceil(n["N"] / 16) * 16 * kb * 4 + 63
        else:
            packed += data
    for mm in g["matmul"]:
        file_bytes += mm["bytes"]
        packed += mm["K"] * math.ceil(mm["N"] / 16) * 16 * 4
    return {
        "expected_packed_bytes": packed,
        "quantized_plus_fp32_matmul_file_bytes": file_bytes,
        "unpacked_dequant_largest_bytes": unpacked_largest,
        "matmulnbits_nodes": len(g["nbits"]),
        "matmul_nodes": len(g["matmul"]),
        "largest_matmul_weight_bytes": max([m["bytes"] for m in g["matmul"]] or [0]),
    }


# ------------------------------------------------------------------------------------------------
# Probes

PREPACK_BUILDS = [
    "llama-gqa-fp32",
    "llama-gqa-int8",
    "llama-gqa-int8-acc1",
    "llama-gqa-int4",
    "llama-gqa-int4-b128",
    "llama-gqa-int4-acc1",
    "llama-gqa-int4-b128-acc1",
    "qwen2-tied-fp32",
    "qwen2-tied-int4",
    "gemma-fp32",
    "gemma-int4",
    "gemma3-270m-int8",
    "phi2-fp32",
]
ARENA_BUILDS = ["llama-gqa-int4", "qwen2-tied-int4"]
ARENA_PROMPTS = [16, 128, 512, 1024, 2048, 4096]
KV_BUILDS = [
    "llama-gqa-int4",
    "llama-gqa-int4-kv8",
    "llama-gqa-int4-kv4",
    "phi3-mha-int4",
    "gemma2-int4",
    "gemma3-270m-int4",
    "gemma3-270m-int4-kv8",
    "lfm2-int4",
]
KV_LENGTHS = [1024, 4096, 16384]
TIED_BUILDS = [
    "llama3-tied-fp32",
    "qwen2-tied-fp32",
    "gemma-fp32",
    "llama-gqa-fp32",
    "llama3-tied-int8",
    "llama3-tied-int4",
    "qwen2-tied-int8",
]
PAGES_BUILD = "llama-gqa-fp32"


def have(build: str) -> bool:
    return (ONNX / build / "genai_config.json").exists()


def probe_prepack(results: list[dict[str, Any]], orts: list[str]) -> None:
    for build in PREPACK_BUILDS:
        if not have(build):
            continue
        off = variant_dir(build, "noprepack", {"session.disable_prepacking": "1"})
        for ort in orts:
            for tag, folder in (("default", ONNX / build), ("disable_prepacking", off)):
                probe_run(
                    results,
                    "prepack",
                    {"build": build, "variant": tag},
                    ort,
                    {
                        "mode": "genai",
                        "model_dir": str(folder),
                        "prefill": 16,
                        "context": 2048,
                        "decode_tokens": 8,
                    },
                )


def probe_arena(results: list[dict[str, Any]], orts: list[str]) -> None:
    for build in ARENA_BUILDS:
        if not have(build):
            continue
        off = variant_dir(build, "noarena", {"enable_cpu_mem_arena": False})
        chunked = variant_dir(build, "chunk256", {}, {"chunk_size": 256})
        for ort in orts:
            for tag, folder in (("arena", ONNX / build), ("no_arena", off), ("chunk256", chunked)):
                for prompt in ARENA_PROMPTS:
                    probe_run(
                        results,
                        "arena",
                        {"build": build, "variant": tag, "prefill": prompt},
                        ort,
                        {
                            "mode": "genai",
                            "model_dir": str(folder),
                            "prefill": prompt,
                            "context": 8192,
                            "decode_tokens": 4,
                        },
                    )


def probe_kv(results: list[dict[str, Any]], orts: list[str]) -> None:
    for build in KV_BUILDS:
        if not have(build):
            continue
        for ort in orts:
            for length in KV_LENGTHS:
                probe_run(
                    results,
                    "kv",
                    {"build": build, "context": length},
                    ort,
                    {
                        "mode": "genai",
                        "model_dir": str(ONNX / build),
                        "prefill": 16,
                        "context": length,
                        "decode_tokens": 0,
                    },
                )


def probe_tied(results: list[dict[str, Any]], orts: list[str]) -> None:
    for build in TIED_BUILDS:
        if not have(build):
            continue
        for ort in orts:
            out_dir = PROBES / f"{build}__optimized_ort{ort}"
            out_dir.mkdir(parents=True, exist_ok=True)
            rec = probe_run(
                results,
                "tied",
                {"build": build},
                ort,
                {
                    "mode": "ort",
                    "model_dir": str(ONNX / build),
                    "optimized_model_path": str(out_dir / "optimized.onnx"),
                },
            )
            if "new_initializers" not in rec and (out_dir / "optimized.onnx").exists():
                rec["new_initializers"] = new_initializers(build, out_dir / "optimized.onnx")
                save_results(results)
            shutil.rmtree(out_dir, ignore_errors=True)  # the optimized copy is up to 2 GB


def new_initializers(build: str, optimized: Path) -> list[dict[str, Any]]:
    code = r"""
import json, sys, onnx
def inits(p):
    m = onnx.load(p, load_external_data=False)
    out = {}
    for t in m.graph.initializer:
        n = 0
        for e in t.external_data:
            if e.key == "length": n = int(e.value)
        out[t.name] = (list(t.dims), n or len(t.raw_data), t.data_type)
    return out
a, b = inits(sys.argv[1]), inits(sys.argv[2])
new = [{"name": k, "dims": v[0], "bytes": v[1], "dtype": v[2]} for k, v in b.items() if k not in a]
new.sort(key=lambda x: -x["bytes"])
print(json.dumps(new[:10]))
"""
    python = str(WORK / "venv-ort132" / "bin" / "python")
    proc = subprocess.run(
        [python, "-c", code, str(ONNX / build / "model.onnx"), str(optimized)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def probe_pages(results: list[dict[str, Any]], orts: list[str]) -> None:
    if not have(PAGES_BUILD):
        return
    for ort in orts:
        for prompt, unique in ((16, False), (256, False), (4096, False), (4096, True)):
            probe_run(
                results,
                "pages",
                {"build": PAGES_BUILD, "prefill": prompt, "unique": unique},
                ort,
                {
                    "mode": "genai",
                    "model_dir": str(ONNX / PAGES_BUILD),
                    "prefill": prompt,
                    "context": 8192,
                    "decode_tokens": 4,
                    "unique_tokens": unique,
                },
            )


ATTN_BUILDS = ["llama-gqa-int4", "gemma3-270m-int4", "phi3-mha-int4"]
ATTN_CONTEXTS = [2064, 4096, 8192, 16384]


def probe_attn(results: list[dict[str, Any]], orts: list[str]) -> None:
    """Prefill growth at a fixed 2048-token prompt while max_length (the KV buffer length that
    GroupQueryAttention sees as the present length) varies; arena on and off."""
    for build in ATTN_BUILDS:
        if not have(build):
            continue
        off = variant_dir(build, "noarena", {"enable_cpu_mem_arena": False})
        for ort in orts:
            for tag, folder in (("arena", ONNX / build), ("no_arena", off)):
                for context in ATTN_CONTEXTS:
                    probe_run(
                        results,
                        "attn",
                        {"build": build, "variant": tag, "context": context},
                        ort,
                        {
                            "mode": "genai",
                            "model_dir": str(folder),
                            "prefill": 2048,
                            "context": context,
                            "decode_tokens": 4,
                        },
                    )


def probe_flash(results: list[dict[str, Any]], orts: list[str]) -> None:
    """GroupQueryAttention's prompt path with and without its flash-attention kernel
    (``ORT_GQA_DISABLE_FLASH_ATTENTION=1`` selects the path that materializes the full
    ``heads x prompt x KV-length`` score buffer)."""
    build = "llama-gqa-int4"
    if not have(build):
        return
    for ort in orts:
        for flag in ("0", "1"):
            for prompt in (2048, 4096):
                probe_run(
                    results,
                    "flash",
                    {"build": build, "disable_flash": flag, "prefill": prompt},
                    ort,
                    {
                        "mode": "genai",
                        "model_dir": str(ONNX / build),
                        "prefill": prompt,
                        "context": 8192,
                        "decode_tokens": 2,
                    },
                    env={"ORT_GQA_DISABLE_FLASH_ATTENTION": flag},
                )


TINY = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 512,
    "max_position_embeddings": 16384,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
    "tie_word_embeddings": False,
    "architectures": ["LlamaForCausalLM"],
}


def build_tiny() -> list[str]:
    builds = []
    hf = PROBES / "tiny-llama-hf"
    python = str(WORK / "venv-ort132" / "bin" / "python")
    if not (hf / "tokenizer.json").exists():
        code = (
            "import sys, json, torch; sys.path.insert(0, sys.argv[2]);"
            "from build_models_v2 import make_tokenizer;"
            "from transformers import AutoConfig, AutoModelForCausalLM;"
            "c = AutoConfig.for_model('llama', **json.loads(sys.argv[3])); torch.manual_seed(0);"
            "m = AutoModelForCausalLM.from_config(c); m.save_pretrained(sys.argv[1]);"
            "make_tokenizer(c.vocab_size, sys.argv[1])"
        )
        subprocess.run(
            [python, "-c", code, str(hf), str(HERE), json.dumps(TINY)],
            check=True,
            capture_output=True,
        )
    for precision in ("fp32", "int4"):
        out = ONNX.parent / "probe_onnx" / f"tiny-llama-{precision}"
        if not (out / "genai_config.json").exists():
            subprocess.run(
                [
                    python,
                    "-m",
                    "onnxruntime_genai.models.builder",
                    "-i",
                    str(hf),
                    "-o",
                    str(out),
                    "-p",
                    precision,
                    "-e",
                    "cpu",
                    "-c",
                    str(PROBES / "cache"),
                ],
                check=True,
                capture_output=True,
                env={**os.environ, "HF_HUB_OFFLINE": "1"},
            )
        builds.append(str(out))
    return builds


def probe_fixed(results: list[dict[str, Any]], orts: list[str]) -> None:
    for folder in build_tiny():
        for ort in orts:
            for prompt, length in ((16, 2048), (16, 16384), (2048, 4096)):
                probe_run(
                    results,
                    "fixed",
                    {"build": Path(folder).name, "prefill": prompt, "context": length},
                    ort,
                    {
                        "mode": "genai",
                        "model_dir": folder,
                        "prefill": prompt,
                        "context": length,
                        "decode_tokens": 8,
                    },
                )


# ------------------------------------------------------------------------------------------------
# Report


def phase(rec: dict[str, Any], name: str) -> dict[str, Any]:
    for p in rec["result"]["phases"]:
        if p["name"] == name:
            return p
    raise KeyError(name)


def report(results: list[dict[str, Any]]) -> None:
    ok = [r for r in results if "error" not in r["result"]]
    print("\n## prepack: og.Model anon growth vs expected packed bytes (MiB)")
    print(
        "| build | ort | expected packed | file (B+scales / fp32 W) | anon default | anon no-prepack"
        " | file-backed default | peak p16 default | peak p16 no-prepack |"
    )
    cache: dict[str, dict[str, Any]] = {}
    for build in PREPACK_BUILDS:
        for ort in VENVS:
            recs = {
                r["variant"]: r
                for r in ok
                if r["probe"] == "prepack" and r["build"] == build and r["ort"] == ort
            }
            if "default" not in recs:
                continue
            if build not in cache:
                cache[build] = expected_prepack(build)
            e = cache[build]

            def grow(r: dict[str, Any], key: str) -> float:
                return (phase(r, "model_load")[key] - phase(r, "import")[key]) / MIB

            d = recs["default"]
            n = recs.get("disable_prepacking")
            print(
                f"| {build} | {ort} | {e['expected_packed_bytes'] / MIB:.1f} | "
                f"{e['quantized_plus_fp32_matmul_file_bytes'] / MIB:.1f} | "
                f"{grow(d, 'anon'):.1f} | {grow(n, 'anon') if n else float('nan'):.1f} | "
                f"{grow(d, 'file'):.1f} | "
                f"{(d['result']['peak'] - d['result']['baseline']) / MIB:.1f} | "
                + (f"{(n['result']['peak'] - n['result']['baseline']) / MIB:.1f} |" if n else "- |")
            )
    print("\n## arena: prefill growth (peak after prefill - RSS after generator), MiB")
    for build in ARENA_BUILDS:
        for ort in VENVS:
            row = []
            for variant in ("arena", "no_arena", "chunk256"):
                for prompt in ARENA_PROMPTS:
                    rec = next(
                        (
                            r
                            for r in ok
                            if r["probe"] == "arena"
                            and r["build"] == build
                            and r["ort"] == ort
                            and r["variant"] == variant
                            and r["prefill"] == prompt
                        ),
                        None,
                    )
                    if rec:
                        g = (phase(rec, "prefill")["peak"] - phase(rec, "generator")["rss"]) / MIB
                        row.append(f"{variant} p{prompt}: {g:.0f}")
            if row:
                print(f"{build} ort{ort}: " + ", ".join(row))
    print("\n## attn: prefill growth at a 2048-token prompt vs max_length, MiB")
    for build in ATTN_BUILDS:
        for ort in VENVS:
            row = []
            for variant in ("arena", "no_arena"):
                for context in ATTN_CONTEXTS:
                    rec = next(
                        (
                            r
                            for r in ok
                            if r["probe"] == "attn"
                            and r["build"] == build
                            and r["ort"] == ort
                            and r["variant"] == variant
                            and r["context"] == context
                        ),
                        None,
                    )
                    if rec:
                        g = (phase(rec, "prefill")["peak"] - phase(rec, "generator")["rss"]) / MIB
                        row.append(f"{variant} c{context}: {g:.0f}")
            if row:
                print(f"{build} ort{ort}: " + ", ".join(row))
    print("\n## flash: prefill growth with GQA flash attention on (default) / off, MiB")
    for r in ok:
        if r["probe"] == "flash":
            g = (phase(r, "prefill")["peak"] - phase(r, "generator")["rss"]) / MIB
            print(
                f"{r['build']} ort{r['ort']} disable_flash={r['disable_flash']} "
                f"p{r['prefill']} c8192: {g:.0f}"
            )
    print("\n## kv: generator growth (RSS after generator - after load), MiB")
    for build in KV_BUILDS:
        for ort in VENVS:
            row = []
            for length in KV_LENGTHS:
                rec = next(
                    (
                        r
                        for r in ok
                        if r["probe"] == "kv"
                        and r["build"] == build
                        and r["ort"] == ort
                        and r["context"] == length
                    ),
                    None,
                )
                if rec:
                    g = (phase(rec, "generator")["rss"] - phase(rec, "model_load")["rss"]) / MIB
                    row.append(f"c{length}: {g:.1f}")
            if row:
                print(f"{build} ort{ort}: " + ", ".join(row))
    print("\n## tied: initializers created by the optimizer; session anon")
    for r in ok:
        if r["probe"] == "tied":
            s = phase(r, "session")
            print(
                f"{r['build']} ort{r['ort']}: anon +{(s['anon'] - phase(r, 'import')['anon']) / MIB:.1f}"
                f" MiB, new: {[(i['name'], round(i['bytes'] / MIB, 1)) for i in r.get('new_initializers', [])[:3]]}"
            )
    print("\n## pages / fixed: per-mapping RSS (MiB) after each phase")
    for r in ok:
        if r["probe"] in ("pages", "fixed"):
            cells = []
            for p in r["result"]["phases"]:
                sm = p["smaps"]
                cells.append(
                    f"{p['name']}: data {sm['model_data'] / MIB:.1f} ort "
                    f"{sm['libonnxruntime'] / MIB:.1f} genai {sm['libgenai'] / MIB:.1f} "
                    f"anon {sm['anon'] / MIB:.1f}"
                )
            print(
                f"{r['probe']} {r['build']} p{r.get('prefill')} c{r.get('context', '')} "
                f"u{r.get('unique', '')} ort{r['ort']}: peak+"
                f"{(r['result']['peak'] - r['result']['baseline']) / MIB:.1f} | "
                + " | ".join(cells)
            )


PROBE_FUNCS = {
    "prepack": probe_prepack,
    "arena": probe_arena,
    "kv": probe_kv,
    "tied": probe_tied,
    "pages": probe_pages,
    "fixed": probe_fixed,
    "attn": probe_attn,
    "flash": probe_flash,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=[*PROBE_FUNCS, "all", "report"])
    parser.add_argument("--ort", nargs="*", default=list(VENVS), choices=list(VENVS))
    args = parser.parse_args()
    results = load_results()
    if args.probe != "report":
        for name, func in PROBE_FUNCS.items():
            if args.probe in (name, "all"):
                func(results, args.ort)
    report(results)


if __name__ == "__main__":
    main()
