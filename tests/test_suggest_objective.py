"""suggest as an expert decides: on every artifact (bare ONNX of any precision, Optimum exports),
with a margin on every limit, f16 activations on phone GPUs, the objective's trade-offs, contexts
capped at the model's maximum, and several models planned together."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planner import api
from planner.request import PlanRequest
from planner.settings import CheckOptions, Runtime, RuntimeSettings
from planner.suggest import Constraints, Objective
from planner.suggest.objective import Scores, pareto, utility
from tests.conftest import REPO
from tests.onnx_factory import GenaiOptions, ModelConfig, OptimumOptions, build_genai, build_optimum

SMALL = ModelConfig(
    layers=4,
    hidden=256,
    heads=8,
    kv_heads=2,
    head_dim=32,
    intermediate=512,
    vocab=1000,
    context=2048,
)
LLAMA_1B = REPO / "examples" / "hf-llama-3.2-1b"


def _suggest_cli(*args: str) -> tuple[int, dict[str, object], str]:
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "suggest", *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, json.loads(proc.stdout) if proc.stdout else {}, proc.stderr


@pytest.mark.parametrize("precision", ["int4", "int8", "fp32"])
@pytest.mark.parametrize("device", ["pixel", "iphone", "galaxy"])
def test_bare_builder_onnx_file_gets_a_plan(tmp_path: Path, precision: str, device: str) -> None:
    # A plain single-file export: no genai_config.json, no config.json (the mission's phrase).
    built = build_genai(tmp_path, SMALL, GenaiOptions(precision=precision, write_config=False))
    assert not (tmp_path / "genai_config.json").exists()
    code, plan, err = _suggest_cli(str(built.model_path), "--device", device)
    assert code == 0, err
    chosen = plan["chosen"]
    assert isinstance(chosen, dict)
    # Re-quantizing needs the source model: the artifact's own precision is planned.
    assert chosen["quantization"] == precision
    assert chosen["needs_source_model"] is False
    assert chosen["context"] <= SMALL.context


def test_bare_optimum_export_gets_a_plan(tmp_path: Path) -> None:
    built = build_optimum(tmp_path, SMALL, OptimumOptions(write_config=False))
    code, plan, err = _suggest_cli(str(built.model_path), "--device", "pixel")
    assert code == 0, err
    assert isinstance(plan["chosen"], dict) and plan["chosen"]["quantization"] == "fp32"


def test_largest_context_is_capped_at_the_model_maximum(tmp_path: Path) -> None:
    # A model trained for 256 tokens never gets "4,096 tokens" as its largest context.
    cfg = json.loads((LLAMA_1B / "config.json").read_text())
    cfg["max_position_embeddings"] = 256
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    request = PlanRequest(model=tmp_path, devices=("pixel-8-pro",))
    result = api.check(request)
    (report,) = result.reports
    assert report.max_context == 256
    assert not report.max_context_is_lower_bound
    plan = api.suggest(request)
    assert plan.chosen is not None and plan.chosen.context <= 256


def test_unknown_maximum_is_reported_as_a_lower_bound(tmp_path: Path) -> None:
    built = build_optimum(tmp_path, SMALL, OptimumOptions(write_config=False))
    request = PlanRequest(model=built.model_path, devices=("macbook-air-m2-16gb",))
    (report,) = api.check(request).reports
    assert report.max_context_is_lower_bound and report.max_context is not None


def test_chosen_plan_keeps_the_margin_and_tight_plans_are_runners_up() -> None:
    request = PlanRequest(model=LLAMA_1B, devices=("iphone-12",))
    strict = api.suggest(request, constraints=Constraints(margin=0.30))
    loose = api.suggest(request, constraints=Constraints(margin=0.0))
    for plan, margin in ((strict, 0.30), (loose, 0.0)):
        if plan.chosen is not None:
            assert plan.chosen.scores is not None
            assert plan.chosen.scores.headroom >= margin - 1e-9
    tight = [c for c in strict.runners_up if not c.within_margin]
    assert all(c.warnings and "spare" in c.warnings[0] for c in tight)


def test_phone_gpus_get_f16_activations_and_webgpu_like_cpu_paths_may_get_f32() -> None:
    for device in ("iphone-15-pro", "pixel-8-pro", "galaxy-s24"):
        plan = api.suggest(PlanRequest(model=LLAMA_1B, devices=(device,)))
        names = {c.quantization for c in plan.candidates}
        assert not any("f32" in n for n in names), (device, names)


def test_objectives_trade_differently() -> None:
    request = PlanRequest(model=LLAMA_1B, devices=("pixel-8-pro",))
    quality = api.suggest(request, objective=Objective.quality)
    speed = api.suggest(request, objective=Objective.speed)
    assert quality.chosen is not None and speed.chosen is not None
    assert quality.chosen.scores is not None and speed.chosen.scores is not None
    assert quality.chosen.scores.quality_loss_pct <= speed.chosen.scores.quality_loss_pct
    assert (speed.chosen.scores.decode_tokens_per_s or 0) >= (
        quality.chosen.scores.decode_tokens_per_s or 0
    )
    # The chosen plan is never dominated on every axis by another candidate that fits.
    balanced = api.suggest(request)
    assert balanced.chosen is not None and balanced.chosen in balanced.pareto


def test_balanced_prefers_usable_speed_over_float16_on_a_phone() -> None:
    # Llama-3.2-1B on a Pixel 8 Pro: float16 decodes ~7 tokens/s, 4-bit ~3x faster.
    plan = api.suggest(PlanRequest(model=LLAMA_1B, devices=("pixel-8-pro",)))
    assert plan.chosen is not None and plan.chosen.quantization == "q4f16_1"
    assert any("q0f16" in w for w in plan.why)


def test_min_tokens_per_s_and_min_context_are_hard_constraints() -> None:
    request = PlanRequest(model=LLAMA_1B, devices=("pixel-8-pro",))
    plan = api.suggest(request, constraints=Constraints(min_tokens_per_s=1000.0))
    assert plan.chosen is None
    assert any("tokens/s" in why for _, why in plan.rejected)
    plan = api.suggest(request, constraints=Constraints(min_context=8192))
    assert plan.chosen is not None and plan.chosen.context >= 8192


def test_onnxruntime_searches_kv_quantization_with_its_cost() -> None:
    plan = api.suggest(
        PlanRequest(model=LLAMA_1B, devices=("iphone-15",), runtime=Runtime.ONNXRUNTIME)
    )
    kvs = {c.kv_dtype for c in plan.candidates}
    assert "int8" in kvs and None in kvs
    for c in plan.candidates:
        if c.kv_dtype == "int8":
            assert c.scores is not None
            assert any("KV int8" in b for b in c.scores.quality_basis)


def test_phone_apps_compile_for_one_sequence() -> None:
    plan = api.suggest(PlanRequest(model=LLAMA_1B, devices=("iphone-15-pro",)))
    assert plan.chosen is not None and plan.chosen.max_batch_size == 1
    assert plan.chosen.budget.settings.max_batch_size == 1


def test_several_models_resident_together_fit_their_sum(tmp_path: Path) -> None:
    first = PlanRequest(model=LLAMA_1B, devices=("iphone-15-pro",))
    second = PlanRequest(model=REPO / "examples" / "mlc-qwen2.5-0.5b-q4f16_1", devices=())
    together = api.suggest_many([first, second], co_resident=True)
    assert together.fits and together.combined
    (report,) = together.combined
    # The combined budget holds both models' weights.
    labels = [c.label for c in report.budget.components]
    assert any(label.startswith("mlc-qwen2.5") for label in labels)
    apart = api.suggest_many([first, second], co_resident=False)
    assert apart.fits and not apart.combined and len(apart.switch_seconds) == 2
    totals = [p.chosen.budget.total_bytes for p in together.plans if p.chosen]
    assert sum(totals) >= report.budget.total_bytes * 0.5


def test_with_model_package_config_lists_each_estimate(tmp_path: Path) -> None:
    out = tmp_path / "mlc-package-config.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "planner",
            "suggest",
            str(LLAMA_1B),
            "-d",
            "iphone-15-pro",
            "--with-model",
            str(REPO / "examples" / "mlc-qwen2.5-0.5b-q4f16_1"),
            "--co-resident",
            "--emit",
            "mlc-package-config",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    estimates = [e["estimated_vram_bytes"] for e in doc["model_list"]]
    assert len(estimates) == 2 and all(isinstance(e, int) and e > 0 for e in estimates)


def test_pareto_and_utility_are_consistent() -> None:
    a = Scores(5.0, ("x",), 30.0, None, 4096, 0.3)
    b = Scores(0.0, ("y",), 10.0, None, 4096, 0.2)
    c = Scores(6.0, ("z",), 20.0, None, 4096, 0.1)  # worse than a everywhere
    assert pareto([a, b, c]) == [0, 1]
    assert utility(a, 4096) > utility(c, 4096)


def test_runtime_settings_pass_through_pinned_values() -> None:
    base = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", prefill=256)
    plan = api.suggest(
        PlanRequest(model=LLAMA_1B, devices=("pixel-8",), quantization="q4f16_1", prefill=256)
    )
    assert plan.chosen is not None and plan.chosen.prefill == 256
    assert base.quantization == plan.chosen.quantization
    assert CheckOptions().ram_fraction == 0.70


def test_time_to_first_token_from_the_device_compute() -> None:
    from planner.device_tiers.compute import prefill_flops

    plan = api.suggest(PlanRequest(model=LLAMA_1B, devices=("iphone-15-pro",)))
    assert plan.chosen is not None and plan.chosen.scores is not None
    ttft = plan.chosen.scores.ttft_s
    assert ttft is not None and ttft > 0
    (report,) = plan.chosen.reports
    flops = prefill_flops(report.device)
    assert flops is not None and flops.source
    # 512 prompt tokens at 2 FLOPs per parameter per token cannot beat the device's rate.
    assert ttft >= 2 * 1.2e9 * 512 / flops.value * 0.9
    slow = api.suggest(
        PlanRequest(model=LLAMA_1B, devices=("iphone-15-pro",)),
        constraints=Constraints(max_ttft_s=ttft / 10),
    )
    assert slow.chosen is None or (slow.chosen.scores and slow.chosen.scores.ttft_s <= ttft / 10)
