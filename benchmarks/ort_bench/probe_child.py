"""Child process of probe_mechanisms.py: one run, memory broken down by mapping after every phase.

Started by path in a fresh interpreter of a benchmark venv; reads one JSON request on stdin, prints
``PROBE_RESULT <json>``. Like planner's _measure_child.py it records RSS / peak / anon / file after each phase
and resets the peak after the imports, and in addition it splits the resident set by mapping
(``/proc/self/smaps``): ``model_data`` (``*.onnx.data``), ``model_onnx`` (``*.onnx``),
``libonnxruntime`` (``libonnxruntime*.so``: the runtime's code and data), ``libgenai``,
``other_file`` and ``anon`` (heap, anonymous mappings), with ``Private_Dirty`` of the anonymous part.

Request keys: ``mode`` = ``genai`` (og.Model / og.Generator / append_tokens / decode) or
``ort`` (onnxruntime.InferenceSession only, with ``session_config`` entries, ``arena`` and an
optional ``optimized_model_path`` to save the optimized graph with external initializers);
``model_dir``, ``prefill``, ``context``, ``decode_tokens``.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

MARKER = "PROBE_RESULT "


def status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def smaps() -> dict[str, int]:
    cats = {
        "model_data": 0,
        "model_onnx": 0,
        "libonnxruntime": 0,
        "libgenai": 0,
        "other_file": 0,
        "anon": 0,
        "anon_private_dirty": 0,
    }
    current = "anon"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(None, 1)[0]
        if "-" in first and not first.endswith(":"):
            parts = line.split(None, 5)
            path = parts[5].strip() if len(parts) > 5 else ""
            if not path or path.startswith("["):
                current = "anon"
            elif path.endswith(".onnx.data") or path.endswith(".onnx_data"):
                current = "model_data"
            elif path.endswith(".onnx"):
                current = "model_onnx"
            elif "libonnxruntime-genai" in path or "onnxruntime_genai" in path:
                current = "libgenai"
            elif "libonnxruntime" in path or "onnxruntime_pybind" in path:
                current = "libonnxruntime"
            else:
                current = "other_file"
        elif line.startswith("Rss:"):
            cats[current] += int(line.split()[1]) * 1024
        elif line.startswith("Private_Dirty:") and current == "anon":
            cats["anon_private_dirty"] += int(line.split()[1]) * 1024
    return cats


def snap(name: str, t0: float) -> dict[str, Any]:
    s = status()
    return {
        "name": name,
        "rss": s["VmRSS"],
        "peak": s["VmHWM"],
        "anon": s.get("RssAnon"),
        "file": s.get("RssFile"),
        "smaps": smaps(),
        "seconds": round(time.monotonic() - t0, 3),
    }


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def run(req: dict[str, Any]) -> dict[str, Any]:
    t0 = time.monotonic()
    mode = req["mode"]
    import numpy as np
    import onnxruntime as ort

    og = None
    if mode == "genai":
        import onnxruntime_genai as og
    phases = [snap("import", t0)]
    reset_peak()
    phases[0] = snap("import", t0)
    model_dir = Path(req["model_dir"])
    extra: dict[str, Any] = {}
    if mode == "ort":
        options = ort.SessionOptions()
        options.enable_cpu_mem_arena = bool(req.get("arena", True))
        for key, value in (req.get("session_config") or {}).items():
            options.add_session_config_entry(key, str(value))
        if req.get("optimized_model_path"):
            options.optimized_model_filepath = req["optimized_model_path"]
            options.add_session_config_entry(
                "session.optimized_model_external_initializers_file_name",
                Path(req["optimized_model_path"]).name + ".data",
            )
            options.add_session_config_entry(
                "session.optimized_model_external_initializers_min_size_in_bytes", "1024"
            )
        t = time.monotonic()
        session = ort.InferenceSession(
            str(model_dir / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )
        phases.append(snap("session", t))
        extra["inputs"] = len(session.get_inputs())
    else:
        config = json.loads((model_dir / "genai_config.json").read_text())
        vocab = config["model"]["vocab_size"]
        eos = config["model"].get("eos_token_id", [])
        eos = set(eos if isinstance(eos, list) else [eos])
        t = time.monotonic()
        model = og.Model(str(model_dir))
        phases.append(snap("model_load", t))
        params = og.GeneratorParams(model)
        prefill, context = req["prefill"], req["context"]
        decode = req.get("decode_tokens", 0)
        params.set_search_options(
            max_length=context, min_length=min(context, prefill + decode), batch_size=1
        )
        t = time.monotonic()
        generator = og.Generator(model, params)
        phases.append(snap("generator", t))
        rng = random.Random(req.get("seed", 0))
        ids: list[int] = []
        while len(ids) < prefill:
            tok = rng.randrange(vocab)
            if tok not in eos:
                ids.append(tok)
        if req.get("unique_tokens"):
            ids = [(i * 7 + 5) % vocab for i in range(prefill)]
        t = time.monotonic()
        generator.append_tokens(np.asarray(ids, dtype=np.int32))
        phases.append(snap("prefill", t))
        if decode:
            t = time.monotonic()
            for _ in range(decode):
                generator.generate_next_token()
            phases.append(snap("decode", t))
        extra["unique_prompt_tokens"] = len(set(ids))
    end = snap("end", t0)
    return {
        "phases": phases,
        "peak": max(p["peak"] for p in [*phases, end]),
        "baseline": phases[0]["rss"],
        "versions": {
            "onnxruntime": ort.__version__,
            "onnxruntime_genai": getattr(og, "__version__", None),
        },
        **extra,
    }


def main() -> int:
    req = json.loads(sys.stdin.read())
    try:
        result = run(req)
    except Exception as exc:  # reported to the parent
        result = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"}
    result["pid"] = os.getpid()
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
