"""planner suggest: the plan fits, its emitted settings pass `planner check`, long contexts
get advice."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli.app import app
from planner.emit.mlc import parse_overrides
from tests.conftest import REPO

runner = CliRunner()
EXAMPLES = REPO / "examples"

CASES = [
    ("hf-llama-3.2-1b", "pixel-8-pro", "mlc"),
    ("hf-llama-3.2-1b", "iphone-15-pro", "mlc"),
    ("hf-llama-3.2-1b", "galaxy-s24", "onnxruntime"),
    ("mlc-qwen2.5-0.5b-q4f16_1", "iphone-13", "mlc"),
    ("mlc-qwen2.5-0.5b-q4f16_1", "pixel-8", "mlc"),
    ("onnx-genai-tiny-llama", "pixel-8-pro", "onnxruntime"),
    ("onnx-genai-tiny-llama", "raspberry-pi-5-8gb", "onnxruntime"),
]


def _run(args: list[str]) -> tuple[int, str]:
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout


@pytest.mark.parametrize(("example", "device", "runtime"), CASES)
def test_suggested_plan_passes_check_with_emitted_settings(
    example: str, device: str, runtime: str
) -> None:
    model = str(EXAMPLES / example)
    code, out = _run(["suggest", model, "-d", device, "--runtime", runtime, "--format", "json"])
    assert code == 0, out
    plan = json.loads(out)
    chosen = plan["chosen"]
    assert chosen["fits"] is True
    if runtime == "mlc":
        # Take the settings from the emitted fragments, not from the plan's fields.
        code, text = _run(["suggest", model, "-d", device, "--emit", "mlc-overrides"])
        assert code == 0
        overrides = parse_overrides(text.strip())
        code, cmds = _run(["suggest", model, "-d", device, "--emit", "mlc-commands"])
        gen = next(shlex.split(line) for line in cmds.splitlines() if " gen_config " in line)
        quant = gen[gen.index("--quantization") + 1]
        args = [
            "check",
            model,
            "-d",
            device,
            "--runtime",
            "mlc",
            "-q",
            quant,
            "--context",
            str(overrides["context_window_size"]),
            "--prefill",
            str(overrides["prefill_chunk_size"]),
        ]
    else:
        code, text = _run(
            ["suggest", model, "-d", device, "--runtime", "onnxruntime", "--emit", "genai-config"]
        )
        assert code == 0
        patch = json.loads(text)
        code, builder = _run(["suggest", model, "-d", device, "--emit", "ort-builder"])
        argv = shlex.split(builder)
        precision = argv[argv.index("-p") + 1]
        extra = argv[argv.index("--extra_options") + 1 :] if "--extra_options" in argv else []
        block = next((e.split("=")[1] for e in extra if e.startswith("block_size=")), "32")
        quant = (
            precision
            if precision in ("fp32", "fp16") or block == "32"
            else f"{precision}-bs{block}"
        )
        if any(e == "shared_embeddings=true" for e in extra):
            quant += "-embq"
        args = [
            "check",
            model,
            "-d",
            device,
            "--runtime",
            "onnxruntime",
            "-q",
            quant,
            "--context",
            str(patch["search"]["max_length"]),
            "--prefill",
            str(chosen["prefill"]),
        ]
    code, report = _run(args)
    assert code == 0, report


def test_pinned_quantization_is_respected() -> None:
    code, out = _run(
        [
            "suggest",
            str(EXAMPLES / "hf-llama-3.2-1b"),
            "-d",
            "pixel-8-pro",
            "-q",
            "q4f16_1",
            "--format",
            "json",
        ]
    )
    assert code == 0
    plan = json.loads(out)
    assert plan["chosen"]["quantization"] == "q4f16_1"
    assert all(r["quantization"] == "q4f16_1" for r in plan["runners_up"])


def test_quality_first_on_a_roomy_device() -> None:
    # A 1B model on a 16 GB laptop keeps full fp16 precision; on a 4 GB-limit phone it cannot.
    code, out = _run(
        [
            "suggest",
            str(EXAMPLES / "hf-llama-3.2-1b"),
            "-d",
            "macbook-air-m2-16gb",
            "--format",
            "json",
        ]
    )
    assert code == 0 and json.loads(out)["chosen"]["quantization"] in ("q0f32", "q0f16")
    code, out = _run(
        ["suggest", str(EXAMPLES / "hf-llama-3.2-1b"), "-d", "iphone-12", "--format", "json"]
    )
    assert code == 0
    assert json.loads(out)["chosen"]["quantization"].startswith(("q4", "q3"))


def test_long_context_gives_largest_fit_and_sliding_window(tmp_path: Path) -> None:
    cfg = json.loads((REPO / "tests/data/hf_configs/mistral-7b-v0.3.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    code, out = _run(
        [
            "suggest",
            str(tmp_path),
            "-d",
            "iphone-15-pro",
            "--entitlement",
            "increased-memory-limit",
            "--min-context",
            "32768",
            "--format",
            "json",
        ]
    )
    plan = json.loads(out)
    # Full attention over 32k tokens does not fit an 8 GB iPhone; a sliding window with attention
    # sinks (which Mistral's MLC config takes) is searched as a real option, with its quality cost.
    chosen = plan["chosen"]
    assert code == 0 and chosen is not None
    assert chosen["context"] == 32768
    assert chosen["sliding_window"] is not None and chosen["sliding_window"] < 32768
    assert chosen["attention_sink"] == 4
    assert any("sliding window" in b for b in chosen["scores"]["quality_basis"])
    assert chosen["scores"]["headroom"] >= 0.10


def test_emit_writes_file(tmp_path: Path) -> None:
    out = tmp_path / "mlc-package-config.json"
    code, _ = _run(
        [
            "suggest",
            str(EXAMPLES / "hf-llama-3.2-1b"),
            "-d",
            "iphone-15-pro",
            "--emit",
            "mlc-package-config",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["device"] == "iphone"
    entry = doc["model_list"][0]
    assert {"model", "model_id", "estimated_vram_bytes", "overrides"} <= set(entry)


def test_package_config_for_several_models(tmp_path: Path) -> None:
    out = tmp_path / "mlc-package-config.json"
    code, _ = _run(
        [
            "suggest",
            str(EXAMPLES / "hf-llama-3.2-1b"),
            "-d",
            "pixel-8-pro",
            "--with-model",
            str(EXAMPLES / "mlc-qwen2.5-0.5b-q4f16_1"),
            "--emit",
            "mlc-package-config",
            "--output",
            str(out),
        ]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["device"] == "android"
    ids = [e["model_id"] for e in doc["model_list"]]
    assert len(ids) == 2 and ids[0].startswith("hf-llama-3.2-1b-") and "qwen2.5" in ids[1]
    for entry in doc["model_list"]:
        assert (
            parse_overrides(";".join(f"{k}={v}" for k, v in entry["overrides"].items()))[
                "context_window_size"
            ]
            > 0
        )


def test_with_model_refuses_a_single_model_fragment() -> None:
    result = runner.invoke(
        app,
        [
            "suggest",
            str(EXAMPLES / "hf-llama-3.2-1b"),
            "-d",
            "pixel-8",
            "--with-model",
            str(EXAMPLES / "hf-llama-3.2-1b"),
            "--emit",
            "mlc-overrides",
        ],
    )
    assert result.exit_code == 2
