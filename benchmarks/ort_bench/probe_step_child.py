"""Child of probe_logits_decode.py: one genai run, RSS and peak RSS of every phase and decode step.

Reads a JSON request on stdin (``model_dir``, ``prefill``, ``context``, ``decode_tokens``, optional
``fetch_logits``: call ``generator.get_logits()`` after the prompt), prints
``PROBE_RESULT <json>``. The peak (VmHWM) is reset before each phase, so each phase's peak is its
own; ``rss_before`` is the resident set when the phase starts.
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
MIB = 1024 * 1024


def status() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(rest.split()[0]) * 1024
    return out


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def phase(name: str, fn: Any, phases: list[dict[str, Any]]) -> Any:
    before = status()["VmRSS"]
    reset_peak()
    t = time.monotonic()
    out = fn()
    s = status()
    phases.append(
        {
            "name": name,
            "rss_before_mib": round(before / MIB, 1),
            "rss_mib": round(s["VmRSS"] / MIB, 1),
            "peak_mib": round(s["VmHWM"] / MIB, 1),
            "anon_mib": round(s["RssAnon"] / MIB, 1),
            "seconds": round(time.monotonic() - t, 2),
        }
    )
    return out


def run(req: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import onnxruntime_genai as og

    phases: list[dict[str, Any]] = []
    model_dir = Path(req["model_dir"])
    config = json.loads((model_dir / "genai_config.json").read_text())
    vocab = config["model"]["vocab_size"]
    eos = config["model"].get("eos_token_id", [])
    eos = set(eos if isinstance(eos, list) else [eos])
    model = phase("model_load", lambda: og.Model(str(model_dir)), phases)
    params = og.GeneratorParams(model)
    prefill, context = req["prefill"], req["context"]
    decode = req.get("decode_tokens", 0)
    params.set_search_options(
        max_length=context, min_length=min(context, prefill + decode), batch_size=1
    )
    generator = phase("generator", lambda: og.Generator(model, params), phases)
    rng = random.Random(0)
    ids: list[int] = []
    while len(ids) < prefill:
        tok = rng.randrange(vocab)
        if tok not in eos:
            ids.append(tok)
    phase("prefill", lambda: generator.append_tokens(np.asarray(ids, dtype=np.int32)), phases)
    if req.get("fetch_logits"):
        phase("get_logits", lambda: generator.get_logits(), phases)
    for step in range(decode):
        phase(f"decode{step + 1}", generator.generate_next_token, phases)
    return {"phases": phases, "pid": os.getpid()}


def main() -> int:
    req = json.loads(sys.stdin.read())
    try:
        result = run(req)
    except Exception as exc:  # reported to the parent
        result = {"error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}"}
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
