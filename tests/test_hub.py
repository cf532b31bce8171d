"""Hub ids through the real huggingface_hub client, against a loopback server (HF_ENDPOINT).

The CLI runs in a subprocess (huggingface_hub reads HF_ENDPOINT at import); the server records
every request, so the tests check that only config files and safetensors headers were read.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from hub_server import Repo, serve
    from test_hf_adapter import TINY, llama_tensors, st_bytes
except ImportError:  # pragma: no cover
    from tests.hub_server import Repo, serve
    from tests.test_hf_adapter import TINY, llama_tensors, st_bytes

pytest.importorskip("huggingface_hub")

CFG = {**TINY, "hidden_size": 256, "intermediate_size": 704, "vocab_size": 4096}
WEIGHTS = st_bytes(llama_tensors(CFG))


def _repo() -> Repo:
    return Repo(
        {
            "config.json": json.dumps(CFG).encode(),
            "model.safetensors": WEIGHTS,
            "tokenizer.json": b"{}" * 1000,
            "README.md": b"# tiny",
        }
    )


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def _env(tmp: Path, url: str, **extra: str) -> dict[str, str]:
    return {
        "HF_ENDPOINT": url,
        "HF_HOME": str(tmp / "hf-home"),
        "PLANNER_HUB_CACHE": str(tmp / "planner-hub"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "NO_PROXY": "127.0.0.1",
        **extra,
    }


def test_inspect_reads_config_and_headers_only(tmp_path: Path) -> None:
    with serve({"acme/tiny": _repo()}) as hub:
        done = run(["inspect", "acme/tiny", "--format", "json"], _env(tmp_path, hub.url))
        assert done.returncode == 0, done.stderr
        model = json.loads(done.stdout)["model"]
        assert model["name"] == "tiny" and model["source"] == "acme/tiny"
        header_len = struct.unpack("<Q", WEIGHTS[:8])[0]
        # Only the 8-byte length and the header itself came over the wire: no weight byte.
        assert hub.sent["model.safetensors"] == 8 + header_len < len(WEIGHTS)
        assert "tokenizer.json" not in hub.sent and "README.md" not in hub.sent
        assert model["weights"]["total_bytes"] == len(WEIGHTS) - 8 - header_len
    # The server is gone: offline, the cached copy answers (no network at all).
    again = run(
        ["inspect", "acme/tiny", "--format", "json"],
        _env(tmp_path, "http://127.0.0.1:9", HF_HUB_OFFLINE="1"),
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["model"]["weights"] == model["weights"]


def test_revision_and_unreachable_server_use_the_cache(tmp_path: Path) -> None:
    with serve({"acme/tiny": _repo()}) as hub:
        first = run(["estimate", "acme/tiny@v1", "--format", "json"], _env(tmp_path, hub.url))
        assert first.returncode == 0, first.stderr
        assert any("/revision/v1" in r for r in hub.requests)
    second = run(
        ["estimate", "acme/tiny@v1", "--format", "json"], _env(tmp_path, "http://127.0.0.1:9")
    )
    assert second.returncode == 0, second.stderr


def test_suggest_emits_a_download_then_the_build(tmp_path: Path) -> None:
    with serve({"acme/tiny": _repo()}) as hub:
        done = run(
            ["suggest", "acme/tiny", "-d", "pixel-8-pro", "--emit", "mlc-commands"],
            _env(tmp_path, hub.url),
        )
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stdout.splitlines() if not ln.startswith("#")]
    assert lines[0] == "hf download acme/tiny --local-dir hf-models/tiny"
    assert lines[1].startswith("mlc_llm convert_weight hf-models/tiny ")


def test_oversized_header_is_refused(tmp_path: Path) -> None:
    bad = struct.pack("<Q", 2**40) + b"{}"
    repo = Repo({"config.json": json.dumps(CFG).encode(), "model.safetensors": bad})
    with serve({"acme/bad": repo}) as hub:
        done = run(["inspect", "acme/bad"], _env(tmp_path, hub.url))
    assert done.returncode == 3
    assert "header" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_unknown_repo_is_an_input_error(tmp_path: Path) -> None:
    with serve({}) as hub:
        done = run(["inspect", "acme/missing"], _env(tmp_path, hub.url))
    assert done.returncode == 3, done.stderr


def test_without_huggingface_hub_a_hub_id_is_a_usage_error(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "huggingface_hub"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('not installed (test)')\n")
    env = {"PYTHONPATH": str(shadow.parent)}
    done = run(["inspect", "acme/tiny"], env)
    assert done.returncode == 2
    err = done.stderr.strip().splitlines()
    assert len(err) <= 2 and "huggingface_hub" in err[0]
    assert "mlc-planner[hub]" in done.stderr


def test_a_server_ignoring_range_still_gives_only_the_header(tmp_path: Path) -> None:
    repo = _repo()
    repo.ranges = False
    with serve({"acme/tiny": repo}) as hub:
        done = run(["inspect", "acme/tiny", "--format", "json"], _env(tmp_path, hub.url))
    assert done.returncode == 0, done.stderr
    header_len = struct.unpack("<Q", WEIGHTS[:8])[0]
    assert json.loads(done.stdout)["model"]["weights"]["total_bytes"] == (
        len(WEIGHTS) - 8 - header_len
    )
    cached = next((tmp_path / "planner-hub").rglob("model.safetensors"))
    assert cached.stat().st_size == len(WEIGHTS)  # the real size, as a sparse file
    assert cached.read_bytes()[8 + header_len :].count(0) == len(WEIGHTS) - 8 - header_len


def test_package_config_with_an_hf_model_is_checked_through_the_hub(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "mlc-qwen2.5-0.5b-q4f16_1"
    files = {n: (example / n).read_bytes() for n in ("mlc-chat-config.json", "tensor-cache.json")}
    files["params_shard_0.bin"] = b"\0" * 64
    config = {
        "device": "android",
        "model_list": [
            {
                "model": "HF://mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC",
                "model_id": "qwen",
                "estimated_vram_bytes": 3_000_000_000,
                "overrides": {"context_window_size": 2048, "prefill_chunk_size": 128},
            }
        ],
    }
    path = tmp_path / "mlc-package-config.json"
    path.write_text(json.dumps(config))
    with serve({"mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC": Repo(files)}) as hub:
        done = run(["check", str(path), "-d", "pixel-8-pro", "-f", "json"], _env(tmp_path, hub.url))
        assert "params_shard_0.bin" not in hub.sent  # weights are never fetched
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["results"][0]
    report = result["devices"][0]
    assert report["settings"]["context"] == 2048 and report["settings"]["prefill"] == 128
    rule = {c["id"]: c for c in report["checks"]}["declared-estimate"]
    assert rule["status"] == "pass"
