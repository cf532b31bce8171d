"""The onnxruntime CPU model's platform and version handling, calibration files and the
measured-versus-estimated side of ``planner measure`` (benchmarks/ort_accuracy.py has the
accuracy against real runs)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from planner.budget import MemoryBudget
from planner.calibration import Calibration, CalibrationSample, load_calibration
from planner.checks import check_device
from planner.device import DeviceProfile
from planner.errors import ArtifactFormatError, ConfigFileError, UsageError
from planner.registry import read_model
from planner.runconfig import load_run_config
from planner.runtimes import estimate, model_for
from planner.runtimes.onnxruntime.calibrate import calibration_sample, side_by_side
from planner.runtimes.onnxruntime.measure import Measurement, PhaseMemory
from planner.runtimes.onnxruntime.model import fixed_bytes
from planner.runtimes.onnxruntime.platforms import (
    PLATFORMS,
    detect_platform,
    platform_for_device,
)
from planner.runtimes.onnxruntime.versions import VERSIONS, parse_version, version_terms
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec, QuantInfo
from planner_adapters.hf_config import spec_from_hf_config

try:
    from conftest import hf_spec
    from onnx_factory import GenaiOptions, ModelConfig, build_genai
except ImportError:  # pragma: no cover
    from tests.conftest import hf_spec
    from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai

REPO = Path(__file__).resolve().parents[1]
MIB = 2**20
HAS_GENAI = importlib.util.find_spec("onnxruntime_genai") is not None


def ort(spec: ModelSpec, **kw: object) -> MemoryBudget:
    base: dict[str, object] = {"quantization": "int4", "context": 2048, "prefill": 256}
    return estimate(spec, RuntimeSettings(Runtime.ONNXRUNTIME, **{**base, **kw}))  # type: ignore[arg-type]


def comp(b: MemoryBudget, prefix: str) -> int:
    return sum(c.bytes for c in b.components if c.label.startswith(prefix))


# -- platforms ----------------------------------------------------------------------------------


def test_devices_map_to_their_platform(device: Callable[[str], DeviceProfile]) -> None:
    assert platform_for_device(device("iphone-12")) == "ios-arm64"
    assert platform_for_device(device("pixel-8")) == "android-arm64"
    assert platform_for_device(device("raspberry-pi-5-8gb")) == "linux-arm64"
    # Cortex-A72: no dot product, so no KleidiAI and no int8-compute NEON kernels
    assert platform_for_device(device("raspberry-pi-4-4gb")) == "linux-arm64-nodotprod"
    assert platform_for_device(device("macbook-air-m2-16gb")) == "macos-arm64"


def test_measurements_name_their_platform() -> None:
    assert detect_platform("Linux", "x86_64") == "linux-x86_64"
    assert detect_platform("linux", "aarch64", True) == "linux-arm64"
    assert detect_platform("linux", "aarch64", False) == "linux-arm64-nodotprod"
    assert detect_platform("darwin", "arm64") == "macos-arm64"
    assert detect_platform("darwin", "x86_64") is None
    assert detect_platform("linux", "armv7l") is None


def test_only_x86_linux_is_measured_and_every_other_platform_says_so() -> None:
    # x86-64 Linux, with glibc as shipped and with its mmap threshold fixed (probe_malloc.py)
    measured = [k for k, p in PLATFORMS.items() if p.measured]
    assert measured == ["linux-x86_64", "linux-x86_64-fixedheap"]
    b = ort(hf_spec("llama-3.2-1b"), platform="android-arm64", runtime_version="1.32")
    assert any("inferred from the onnxruntime sources" in a for a in b.assumptions)


def test_estimate_without_platform_assumes_the_default_and_says_so() -> None:
    b = ort(hf_spec("llama-3.2-1b"))
    assert any("platform linux-x86_64" in a for a in b.assumptions)


def test_unknown_platform_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="known: linux-x86_64"):
        ort(hf_spec("llama-3.2-1b"), platform="beos-ppc")


def test_arm64_packs_less_than_x86_and_ios_counts_only_dirty_pages() -> None:
    spec = hf_spec("phi-3.5-mini")
    x86 = ort(spec, platform="linux-x86_64", runtime_version="1.32")
    kleidi = ort(spec, platform="ios-arm64", runtime_version="1.32")
    neon = ort(spec, platform="ios-arm64", runtime_version="1.19")
    packed = "prepacked MatMul weights"
    # x86: 24 B per 32-weight block (data + scale + block sum); KleidiAI 18 B; NEON 16 B
    assert comp(x86, packed) / comp(neon, packed) == pytest.approx(1.5, rel=0.01)
    assert comp(kleidi, packed) / comp(neon, packed) == pytest.approx(18 / 16, rel=0.01)
    assert any("predates KleidiAI" in a for a in neon.assumptions)
    # NEON leaves the fp32 scales mapped (read in place): clean, outside the iOS footprint
    clean = sum(c.bytes for c in neon.components if not c.dirty)
    assert neon.footprint_bytes == neon.total_bytes - clean
    assert comp(neon, "initializer pages read") > comp(kleidi, "initializer pages read")


def test_glibc_leftover_only_on_x86_linux() -> None:
    spec = hf_spec("qwen2.5-0.5b")
    assert comp(ort(spec, platform="linux-x86_64"), "lm_head scale copy") >= 0
    x86 = ort(spec, platform="linux-x86_64", context=16384, prefill=16)
    assert any(c.label.startswith("lm_head scale copy") for c in x86.components)
    android = ort(spec, platform="android-arm64", context=16384, prefill=16)
    assert not any(c.label.startswith("lm_head scale copy") for c in android.components)


def test_glibc_keeps_one_layers_int8_workspaces_through_the_prompt() -> None:
    """int8 compute (accuracy 4) on glibc: one layer's hidden-input workspaces (QKV, gate, up)
    and the attention output's, tokens × K × (1 + 8 / 32) each, besides the down projection's
    in the arena; nothing on an allocator that returns them, nor for fp32, nor at accuracy 1."""
    spec = hf_spec("llama-3.2-1b")  # hidden 2048, 32 × 64 attention output, gated MLP
    tokens = 1024
    held = comp(ort(spec, platform="linux-x86_64", prefill=tokens), "int8 workspaces kept")
    assert held == 4 * tokens * 2048 * (1 + 8 / 32)
    for kw in (
        {"platform": "linux-x86_64-fixedheap"},
        {"platform": "android-arm64"},
        {"platform": "linux-x86_64", "quantization": "fp32"},
    ):
        assert comp(ort(spec, prefill=tokens, **kw), "int8 workspaces kept") == 0, kw  # type: ignore[arg-type]
    # the attention output's K is heads × head_dim (Qwen3-0.6B: 2048 beside a hidden of 1024);
    # a plain MLP has one hidden-input projection; a batch multiplies the tokens
    qwen = comp(ort(hf_spec("qwen3-0.6b"), platform="linux-x86_64", prefill=tokens), "int8 work")
    assert qwen == tokens * (3 * 1024 + 2048) * (1 + 8 / 32)
    phi = spec_from_hf_config(
        {
            "architectures": ["PhiForCausalLM"],
            "model_type": "phi",
            "hidden_size": 2560,
            "intermediate_size": 10240,
            "num_attention_heads": 32,
            "num_hidden_layers": 32,
            "vocab_size": 51200,
            "max_position_embeddings": 2048,
        },
        source="phi-2",
        path=Path("phi-2/config.json"),
        name="phi-2",
    )
    plain = comp(ort(phi, platform="linux-x86_64", prefill=tokens, context=2048), "int8 work")
    assert plain == tokens * (2 * 2560 + 2560) * (1 + 8 / 32)
    two = comp(ort(spec, platform="linux-x86_64", prefill=tokens, batch=2), "int8 workspaces")
    assert two == 2 * held
    # a workspace of 32 MiB or more is mapped per call, not kept
    long = comp(ort(spec, platform="linux-x86_64", prefill=16384, context=16384), "int8 work")
    assert long == 0  # 16384 × 2048 × 1.25 = 40 MiB per call


def test_without_glibcs_retention_the_scale_copy_is_live_while_the_lm_head_packs() -> None:
    """x86 int8 compute: ComputePackBlkSum's copy of the lm_head's scales exists while that
    node packs; glibc keeps it afterwards, an allocator that returns it (-fixedheap) does not,
    but the load peak still holds it: where that peak is the total, both plans agree."""

    def load(b: MemoryBudget) -> dict[str, str]:
        found = [c for c in b.components if c.label.startswith("load transient")]
        assert found, "the load transient is the peak at 16 tokens"
        return dict(found[0].inputs)

    kw: dict[str, object] = {"context": 2048, "prefill": 16}
    for name, vocab, hidden in (("qwen2.5-0.5b", 151936, 896), ("llama-3.2-1b", 128256, 2048)):
        spec = hf_spec(name)
        glibc = ort(spec, platform="linux-x86_64", **kw)
        fixed = ort(spec, platform="linux-x86_64-fixedheap", **kw)
        assert load(fixed)["scale_copy"] == str(vocab * (hidden // 32) * 4)
        assert load(glibc)["scale_copy"] == "0"  # glibc: in the steady state instead
        assert fixed.total_bytes == glibc.total_bytes
        assert not any(c.label.startswith("lm_head scale copy") for c in fixed.components)
    # arm64 packs without that copy
    arm = ort(hf_spec("qwen2.5-0.5b"), platform="linux-arm64-fixedheap", **kw)
    assert all(dict(c.inputs).get("scale_copy", "0") == "0" for c in arm.components)


def _measured(fixed_heap: bool, backend: str = "onnxruntime-genai") -> Measurement:
    """The calibration tests' fake run, made on x86-64 Linux."""
    m = _fake_measurement(ort(hf_spec("llama-3.2-1b")), 0)
    return replace(m, arch="x86_64", dotprod=None, backend=backend, fixed_heap=fixed_heap)


def test_a_fixed_heap_run_is_planned_and_filed_on_the_fixedheap_platform() -> None:
    from planner.runtimes.onnxruntime.measure import planned_platform

    fixed, plain = _measured(True), _measured(False)
    assert planned_platform(fixed, None) == "linux-x86_64-fixedheap"
    assert planned_platform(fixed, "linux-x86_64") == "linux-x86_64-fixedheap"
    assert planned_platform(fixed, "linux-x86_64-fixedheap") == "linux-x86_64-fixedheap"
    assert planned_platform(plain, None) == "linux-x86_64"
    with pytest.raises(UsageError, match="no glibc heap"):
        planned_platform(fixed, "android-arm64")
    with pytest.raises(UsageError, match="made with --fixed-heap"):
        planned_platform(plain, "linux-x86_64-fixedheap")
    # a peak measured elsewhere may name any platform
    assert planned_platform(_measured(False, "device"), "linux-x86_64-fixedheap") == (
        "linux-x86_64-fixedheap"
    )


def test_cli_refuses_fixed_heap_with_a_device_peak() -> None:
    out = planner(
        "measure", "examples/onnx-genai-tiny-llama", "-c", "256", "-p", "16",
        "--device-peak", "1000000", "--platform", "android-arm64", "--ort-version", "1.32",
        "--fixed-heap",
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "--fixed-heap" in out.stderr and "Traceback" not in out.stderr


def test_check_plans_each_device_on_its_platform(device: Callable[[str], DeviceProfile]) -> None:
    spec = hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4", context=2048, prefill=256)
    on_iphone = check_device(spec, s, device("iphone-15-pro"))
    assert any("ios-arm64" in a for a in on_iphone.budget.assumptions)
    pinned = check_device(spec, replace(s, platform="linux-x86_64"), device("iphone-15-pro"))
    assert not any("ios-arm64" in a for a in pinned.budget.assumptions)
    mlc = RuntimeSettings(Runtime.MLC, quantization="q4f16_1")
    assert model_for(Runtime.MLC).settings_for_device(mlc, device("iphone-15-pro")) is mlc


# -- versions -----------------------------------------------------------------------------------


def test_versions_fall_back_to_the_newest_or_oldest_with_a_note() -> None:
    newest = VERSIONS[max(VERSIONS)]
    assert version_terms("1.32.0") == (newest, None)
    terms, why = version_terms(None)
    assert terms is newest and why and "not given" in why
    terms, why = version_terms("1.40.1")
    assert terms is newest and why and "newer than any measured" in why
    terms, why = version_terms("1.19.0")
    assert terms is VERSIONS[min(VERSIONS)] and why and "older" in why
    assert parse_version("v1.33.0.dev20260101") == (1, 33)
    with pytest.raises(UsageError):
        parse_version("latest")


def test_versions_differ_only_in_fixed_terms() -> None:
    spec = hf_spec("llama-3.2-1b")
    a = ort(spec, runtime_version="1.31.1", platform="linux-x86_64")
    b = ort(spec, runtime_version="1.32.0", platform="linux-x86_64")
    assert a.total_bytes - fixed_bytes(a.components) == b.total_bytes - fixed_bytes(b.components)
    # From a library read back from disk (the state an app loads it in), a 1.32 session touches
    # more code than a 1.31 one (docs/onnxruntime-model.md, versions.py)
    assert fixed_bytes(b.components) > fixed_bytes(a.components)


# -- KV cache -----------------------------------------------------------------------------------


def test_quantized_kv_grows_with_the_sequence() -> None:
    spec = hf_spec("llama-3.2-1b")
    b = ort(spec, kv_dtype="int8", context=8192, prefill=512, decode_tokens=8)
    kv = next(c for c in b.components if c.category == "kv_cache")
    assert kv.label.startswith("KV cache (grows")
    per_token = 16 * 8 * 64 * 2  # layers × kv heads × head_dim × K,V × 1 byte
    prompt = comp(b, "prompt")
    assert kv.bytes + prompt == max(2 * (512 + 8) * per_token, 512 * per_token + prompt)


def test_sliding_window_layers_hold_window_plus_16(spec_of: Callable[[str], ModelSpec]) -> None:
    spec = spec_of("gemma-2-2b")
    assert spec.layer_windows
    b = ort(spec, context=16384, prefill=16, quantization="int4")
    per_layer = spec.num_kv_heads * spec.head_dim * 2 * 4
    tokens = sum(16384 if w is None else w + 16 for w in spec.layer_windows)
    assert b.kv_cache_bytes == tokens * per_layer


def test_ops_after_the_lm_head_hold_more_logits_buffers() -> None:
    # a MatMulNBits lm_head: nothing after it fuses (the float case is tested below)
    nbits = QuantInfo("int4", 4, 32, True, "float32", details=(("op", "MatMulNBits"),))
    spec = replace(hf_spec("llama-3.2-1b"), quantization=nbits)
    plain = ort(spec, prefill=512)
    logits = 512 * spec.vocab_size * 4
    assert comp(plain, "prompt logits") == logits
    scaled = ort(replace(spec, extra=(*spec.extra, ("logits_ops", "Mul"))), prefill=512)
    assert comp(scaled, "prompt logits") == 2 * logits
    softcap = ort(replace(spec, extra=(*spec.extra, ("logits_ops", "Mul,Tanh,Div"))), prefill=512)
    assert comp(softcap, "prompt logits") == 3 * logits
    from_config = ort(
        replace(spec, extra=(*spec.extra, ("final_logit_softcapping", "30.0"))), prefill=512
    )
    assert comp(from_config, "prompt logits") == 3 * logits


def test_a_bias_add_after_a_matmulnbits_lm_head_is_fused_not_a_logits_buffer() -> None:
    # onnxruntime's MatMulNBitsFusion moves the lm_head's [vocab] bias into the MatMulNBits; a
    # float MatMul keeps its Add (ort_arena_probe.py --bias-fusion: phi2-int4 1.70 ×, blocked
    # 2.72 ×; phi2-fp32 2.71 ×).
    spec = hf_spec("llama-3.2-1b")
    logits = 512 * spec.vocab_size * 4
    nbits = QuantInfo("int4", 4, 32, True, "float32", details=(("op", "MatMulNBits"),))

    def buffers(quant: QuantInfo, ops: str) -> float:
        s = replace(spec, quantization=quant, extra=(*spec.extra, ("logits_ops", ops)))
        return comp(ort(s, prefill=512), "prompt logits") / logits

    assert buffers(nbits, "Add") == 1
    assert buffers(QuantInfo("fp32", 32), "Add") == 2
    assert buffers(replace(nbits, unquantized=("lm_head",)), "Add") == 2
    assert buffers(nbits, "Mul,Add") == 2  # only the Add next to the lm_head fuses
    assert buffers(nbits, "Add,Mul") == 3


def test_a_scalar_scale_after_a_float_matmul_lm_head_is_fused_not_a_logits_buffer() -> None:
    # onnxruntime's MatMulScaleFusion folds a scalar Mul/Div after a float32 MatMul into a
    # FusedMatMul's alpha (Granite's logits scaling: granite-fp32 was one logits buffer over);
    # a MatMulNBits lm_head keeps its Mul (granite-int4 measured with two buffers).
    spec = hf_spec("llama-3.2-1b")
    logits = 512 * spec.vocab_size * 4
    fp32 = QuantInfo("fp32", 32)
    nbits = QuantInfo("int4", 4, 32, True, "float32", details=(("op", "MatMulNBits"),))

    def buffers(quant: QuantInfo, ops: str) -> float:
        s = replace(spec, quantization=quant, extra=(*spec.extra, ("logits_ops", ops)))
        return comp(ort(s, prefill=512), "prompt logits") / logits

    assert buffers(fp32, "Mul") == 1
    assert buffers(nbits, "Mul") == 2
    assert buffers(replace(nbits, unquantized=("lm_head",)), "Mul") == 1
    # softcap: the Div fuses; Tanh writes over the MatMul's output (MayInplace), Mul writes the
    # output: 2 buffers (gemma2-fp32 measured ~2.05 × the logits beside its activations)
    assert buffers(fp32, "Mul,Tanh,Div") == 2
    # after a MatMulNBits nothing fuses: Div writes a new buffer, Tanh works over it (3.19 ×)
    assert buffers(nbits, "Mul,Tanh,Div") == 3
    assert buffers(nbits, "Mul,Tanh") == 2  # an in-place op between adds nothing
    assert buffers(nbits, "Mul,Div") == 3  # a binary op between does
    assert buffers(fp32, "Tanh") == 2  # only a scalar Mul or Div fuses


# -- calibration --------------------------------------------------------------------------------


def _sample(fixed: int) -> CalibrationSample:
    return CalibrationSample("m", 512, 2048, 400 * MIB, 390 * MIB, fixed)


def test_calibration_entries_take_the_median_and_round_trip(tmp_path: Path) -> None:
    cal = Calibration((), "")
    for fixed in (20 * MIB, 30 * MIB, 24 * MIB):
        cal = cal.with_sample("onnxruntime", "1.32.0", "linux-arm64", "cpu", _sample(fixed))
    entry = cal.find("onnxruntime", "1.32.1", "linux-arm64")
    assert entry is not None and entry.fixed_bytes == 24 * MIB and len(entry.samples) == 3
    assert cal.find("onnxruntime", "1.31.1", "linux-arm64") is None
    assert cal.find("onnxruntime", "1.32.0", "android-arm64") is None
    path = tmp_path / "cal.json"
    path.write_text(cal.dumps())
    again = load_calibration(path)
    assert again.entries == cal.entries and again.path == str(path)


@pytest.mark.parametrize(
    "doc",
    [
        {"schema": "other", "entries": []},
        {"schema": "planner-calibration/1", "entries": {}},
        {"schema": "planner-calibration/1", "entries": [{"runtime": "onnxruntime"}]},
    ],
)
def test_malformed_calibration_files_are_config_errors(tmp_path: Path, doc: object) -> None:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigFileError):
        load_calibration(path)


def test_calibration_replaces_the_fixed_terms_of_its_version_and_platform() -> None:
    spec = hf_spec("llama-3.2-1b")
    cal = Calibration((), "cal.json").with_sample(
        "onnxruntime", "1.32.0", "linux-arm64", "cpu", _sample(40 * MIB)
    )
    plain = ort(spec, platform="linux-arm64", runtime_version="1.32.0")
    calibrated = ort(spec, platform="linux-arm64", runtime_version="1.32.0", calibration=cal)
    assert comp(calibrated, "fixed terms (calibrated)") == 40 * MIB
    assert calibrated.total_bytes - plain.total_bytes == 40 * MIB - fixed_bytes(plain.components)
    other = ort(spec, platform="android-arm64", runtime_version="1.32.0", calibration=cal)
    assert any("has no entry" in a for a in other.assumptions)


def _fake_measurement(b: MemoryBudget, extra: int) -> Measurement:
    peak = b.total_bytes + extra
    base = 50 * MIB

    def phase(name: str, rss: int) -> PhaseMemory:
        return PhaseMemory(name, base + rss, base + rss, None, None, 0.0)

    return Measurement(
        model_dir="m",
        backend="onnxruntime-genai",
        context=b.settings.context,
        prefill=b.settings.prefill,
        decode_tokens=8,
        decode_steps=8,
        baseline_rss_bytes=base,
        peak_rss_bytes=base + peak,
        added_peak_bytes=peak,
        phases=(phase("import", 0), phase("model_load", 100 * MIB), phase("generator", 150 * MIB)),
        kv_mode="genai",
        peak_reset=True,
        memory_source="proc-status",
        versions={"onnxruntime": "1.32.0"},
        system="linux",
        arch="aarch64",
        dotprod=True,
    )


def test_a_calibrated_estimate_of_the_measured_run_is_the_measurement() -> None:
    spec = hf_spec("llama-3.2-1b")
    b = ort(spec, platform="linux-arm64", runtime_version="1.32.0")
    m = _fake_measurement(b, 37 * MIB)
    assert m.ort_platform == "linux-arm64"
    rows = {r.label: r for r in side_by_side(m, b)}
    assert rows["peak added"].measured == m.added_peak_bytes
    assert rows["peak added"].estimated == b.total_bytes
    assert rows["+ KV cache (og.Generator)"].estimated == b.kv_cache_bytes
    sample = calibration_sample(m, b, spec.name)
    assert sample.fixed_bytes == fixed_bytes(b.components) + 37 * MIB
    cal = Calibration((), "c").with_sample("onnxruntime", "1.32.0", "linux-arm64", "cpu", sample)
    again = ort(spec, platform="linux-arm64", runtime_version="1.32.0", calibration=cal)
    assert again.total_bytes == m.added_peak_bytes


# -- planner.yaml and the CLI -------------------------------------------------------------------


def test_run_config_takes_platform_version_and_calibration(tmp_path: Path) -> None:
    cal = Calibration((), "").with_sample(
        "onnxruntime", "1.32.0", "android-arm64", "cpu", _sample(30 * MIB)
    )
    (tmp_path / "cal.json").write_text(cal.dumps())
    (tmp_path / "planner.yaml").write_text(
        "jobs:\n"
        "  - model: m\n"
        "    devices: [pixel-8]\n"
        "    platform: android-arm64\n"
        "    ort_version: '1.32'\n"
        "    calibration: cal.json\n"
    )
    job = load_run_config(tmp_path / "planner.yaml").jobs[0]
    assert job.platform == "android-arm64" and job.runtime_version == "1.32"
    assert job.calibration is not None and job.calibration.entries == cal.entries
    (tmp_path / "bad.yaml").write_text("jobs:\n  - {model: m, devices: [x], platform: vax}\n")
    with pytest.raises(ConfigFileError, match="platform must be one of"):
        load_run_config(tmp_path / "bad.yaml")


def planner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
        check=False,
    )


def test_cli_estimate_plans_for_the_platform_asked_for() -> None:
    model = "examples/hf-llama-3.2-1b"
    out = planner("estimate", model, "-r", "onnxruntime", "--platform", "ios-arm64", "-f", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert any("ios-arm64" in a for a in doc["settings"]["defaults_applied"])
    bad = planner("estimate", model, "-r", "onnxruntime", "--platform", "vax")
    assert bad.returncode != 0 and "unknown onnxruntime platform" in bad.stderr


@pytest.mark.skipif(not HAS_GENAI or not sys.platform.startswith("linux"), reason="needs genai")
def test_measure_then_calibrate_brings_the_estimate_within_two_percent(tmp_path: Path) -> None:
    """Calibrated at one shape, within 2 % at another. The model is large enough (~100 MiB
    added at 512 tokens) that a run's own noise (1.3 MiB, seen once on a fresh install) is
    well under 2 % of it, as it was not of the ~58 MiB of a hidden-256 model."""
    folder = tmp_path / "model"
    cfg = ModelConfig(
        layers=4,
        hidden=512,
        heads=8,
        kv_heads=2,
        head_dim=64,
        intermediate=1408,
        vocab=8192,
        context=4096,
    )
    build_genai(folder, cfg, GenaiOptions(precision="int4"))
    cal = tmp_path / "cal.json"
    first = planner(
        "measure", str(folder), "-c", "1024", "-p", "256", "--calibration-out", str(cal)
    )
    assert first.returncode == 0, first.stderr
    assert "measured" in first.stdout and "planner" in first.stdout
    again = planner(
        "measure", str(folder), "-c", "2048", "-p", "512", "--calibration", str(cal), "-f", "json"
    )
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert abs(doc["calibrated_error"]) <= 0.02


def test_int4_kv_inputs_keep_the_attention_head_dim(tmp_path: Path) -> None:
    """The builder's int4 per-tensor KV packs two values per uint8: the graph's KV head dim is
    half the attention's, and genai_config.json's head_size is the real one."""
    import onnx
    from onnx import TensorProto

    cfg = ModelConfig(layers=2, hidden=64, heads=4, kv_heads=2, head_dim=16, intermediate=128)
    build_genai(tmp_path, cfg, GenaiOptions(precision="int4", symbolic_kv_dim=False))
    model = onnx.load(str(tmp_path / "model.onnx"), load_external_data=False)
    for vi in [*model.graph.input, *model.graph.output]:
        if "key" in vi.name or "value" in vi.name:
            vi.type.tensor_type.elem_type = TensorProto.UINT8
            vi.type.tensor_type.shape.dim[3].dim_value = 8
    onnx.save(model, str(tmp_path / "model.onnx"))
    spec = read_model(tmp_path)
    assert (spec.head_dim, spec.kv_dtype) == (16, "int4")
    # the same bytes per token as the packed inputs: 2 layers × K,V × 2 heads × 8 bytes
    b = estimate(spec, RuntimeSettings(Runtime.ONNXRUNTIME, context=256, prefill=16))
    assert b.kv_bytes_per_token == 2 * 2 * 2 * 8


# -- attention scores without the flash path ---------------------------------------------------


def test_score_pages_counts_the_pages_each_strided_row_writes() -> None:
    from planner.runtimes.onnxruntime.prompt import score_pages

    page = 4096
    # rows 8 KiB apart, 2 KiB written: one page each
    assert score_pages(10, 8192, 2048, page) == 10 * page
    # 12 KiB written in 8 KiB rows: capped at the row
    assert score_pages(10, 8192, 12288, page) == 10 * 8192
    # rows narrower than a page share them: the whole span
    assert score_pages(10, 2048, 1024, page) == 10 * 2048
    # rows off page boundaries count the same whole pages (a wider stride never plans less)
    assert score_pages(10, 4160 * 2, 2048, page) == 10 * page
    assert score_pages(10, 8188, 2048, page) <= score_pages(10, 8192, 2048, page)
    # Apple arm64's 16 KiB pages: a first write makes more resident
    assert score_pages(10, 65536, 2048, 16384) == 10 * 16384
    assert score_pages(0, 8192, 2048, page) == 0


def test_a_gqa_softcap_materializes_the_prompts_attention_scores(tmp_path: Path) -> None:
    """onnxruntime's CPU GroupQueryAttention leaves its flash path when ``softcap`` is set
    (Gemma-2): the adapter reads the attribute from the graph, and the budget counts the pages the
    prompt writes of heads × prompt × present_length fp32 scores, one arena chunk per distinct
    present length (full layers: max_length; sliding layers: window + 16)."""
    plain_cfg = ModelConfig(
        layers=4,
        hidden=128,
        heads=8,
        kv_heads=4,
        head_dim=16,
        intermediate=256,
        local_windows=(1024, None, 1024, None),
    )
    capped, plain = tmp_path / "capped", tmp_path / "plain"
    build_genai(capped, replace(plain_cfg, attn_softcap=50.0))
    build_genai(plain, plain_cfg)
    capped_spec, plain_spec = read_model(capped), read_model(plain)
    assert ("gqa_softcap", "50") in capped_spec.extra
    assert not any(k == "gqa_softcap" for k, _ in plain_spec.extra)

    settings = RuntimeSettings(Runtime.ONNXRUNTIME, context=4096, prefill=512)
    with_scores, without = estimate(capped_spec, settings), estimate(plain_spec, settings)
    assert comp(without, "attention scores") == 0
    rows = 8 * 512
    # full layers: rows 4096 × 4 = 16 KiB apart, 512 × 4 = 2 KiB written → one page per row;
    # sliding layers: (1024 + 16) × 4 = 4160 bytes apart: one page per row as well, but a chunk
    # of another size, so counted apart
    expected = rows * 4096 + rows * 4096
    assert comp(with_scores, "attention scores") == expected
    assert with_scores.total_bytes - without.total_bytes >= expected - 4096
    # a prompt longer than the window: the sliding layers' present is the prompt itself
    long = estimate(capped_spec, RuntimeSettings(Runtime.ONNXRUNTIME, context=4096, prefill=2048))
    rows = 8 * 2048
    assert comp(long, "attention scores") == rows * 8192 + rows * 8192


def test_a_config_with_attention_softcapping_is_planned_without_the_flash_path(
    spec_of: Callable[[str], ModelSpec],
) -> None:
    spec = spec_of("gemma-2-2b")  # attn_logit_softcapping 50.0
    assert ("attn_logit_softcapping", "50.0") in spec.extra
    b = ort(spec, context=8192, prefill=2048)
    heads = spec.num_attention_heads
    # full layers: 32 KiB rows, 8 KiB written; sliding layers (4096 + 16): 16448-byte rows,
    # 8 KiB written: two pages per row in each of the two chunks
    expected = heads * 2048 * 8192 + heads * 2048 * 8192
    assert comp(b, "attention scores") == expected
    no_cap = tuple((k, v) for k, v in spec.extra if k != "attn_logit_softcapping")
    uncapped = ort(replace(spec, extra=no_cap), context=8192, prefill=2048)
    assert comp(uncapped, "attention scores") == 0


def _rope_branch(size: str, rows: int) -> Any:
    """An If branch as the builder writes LongRoPE's: Constant nodes ``cos_cache_<size>`` and
    ``sin_cache_<size>`` holding [rows, 8] fp32 tables."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    names = [f"{kind}_cache_{size}" for kind in ("cos", "sin")]
    consts = [
        helper.make_node(
            "Constant",
            [],
            [name],
            f"/{size}/{name}/Constant",
            value=numpy_helper.from_array(np.zeros((rows, 8), np.float32), name),
        )
        for name in names
    ]
    outs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in names]
    return helper.make_graph(consts, size, [], outs)


def _with_rope_if(folder: Path, rows_small: int, rows_large: int, cfg: ModelConfig) -> None:
    """A builder package whose graph picks its rotary tables with an If, as LongRoPE's does."""
    import onnx
    from onnx import helper

    build_genai(folder, cfg)
    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    model.graph.node.append(
        helper.make_node(
            "If",
            ["/model/rope_caches_subgraph/Greater/output_0"],
            ["cos_cache", "sin_cache"],
            "/model/rope_caches_subgraph/If",
            then_branch=_rope_branch("large", rows_large),
            else_branch=_rope_branch("small", rows_small),
        )
    )
    onnx.save(model, str(folder / "model.onnx"))


def test_constant_node_tensors_in_the_graph_are_counted_twice_when_glibc_keeps_the_copy(
    tmp_path: Path,
) -> None:
    """The builder's LongRoPE cos/sin caches are Constant nodes in an If's branches, held inside
    model.onnx: onnxruntime converts each to an initializer and then makes the session's copy
    (probe_embedded.py: 2.0 × their bytes for 1 MiB tensors on glibc, 1.0 × for 10 MiB ones)."""
    small, large = tmp_path / "small", tmp_path / "large"
    _with_rope_if(small, 4096, 16384, ModelConfig())  # 128 KiB + 512 KiB tables
    _with_rope_if(large, 4096, 16384 * 32, ModelConfig())  # 16 MiB: above glibc's mmap threshold
    settings = RuntimeSettings(Runtime.ONNXRUNTIME, context=256, prefill=16)
    spec = read_model(small)
    facts = dict(spec.extra)
    held = 2 * 4096 * 8 * 4 + 2 * 16384 * 8 * 4
    # the factory's own graph holds a few shape constants (bytes) besides the two tables
    constants = int(facts["constant_bytes"])
    assert held <= constants < held + 1024
    assert int(facts["constant_largest_bytes"]) == 16384 * 8 * 4
    assert comp(estimate(spec, settings), "Constant-node tensors") == 2 * constants
    arm = estimate(spec, replace(settings, platform="android-arm64"))
    assert comp(arm, "Constant-node tensors") == constants  # bionic: the freed copy is returned
    big = read_model(large)
    held_big = 2 * 4096 * 8 * 4 + 2 * 16384 * 32 * 8 * 4
    assert held_big <= comp(estimate(big, settings), "Constant-node tensors") < held_big + 1024


def test_the_builders_longrope_if_gives_the_replay_its_rope_tables(tmp_path: Path) -> None:
    """The builder's LongRoPE graph picks cos_cache / sin_cache with an If on the sequence length
    (cos_cache_small with the original context's rows, cos_cache_large with the whole
    context's): the adapter reports both tables' bytes and the switch, and a Phi-3 run that
    re-runs at 4097 tokens replays them (the re-run's pass takes the long ones)."""
    import onnx
    from onnx import TensorProto

    from planner.runtimes.onnxruntime.prompt import prompt_shape

    folder = tmp_path / "phi3"
    _with_rope_if(folder, 4096, 16384, ModelConfig(model_type="phi3"))
    spec = read_model(folder)
    assert dict(spec.extra)["rope_switch_tables"] == f"{4096 * 32},{16384 * 32},4096"
    shape = prompt_shape(spec)
    assert shape is not None and shape.rope_caches == (4096 * 32, 16384 * 32)
    assert shape.rope_switch == 4096
    build_genai(tmp_path / "plain")
    assert "rope_switch_tables" not in dict(read_model(tmp_path / "plain").extra)

    # tables of one size, or a table kept in external data, are not a switch planner reads
    def rewrite(rows_large: int, external: bool) -> ModelSpec:
        m = onnx.load(str(folder / "model.onnx"), load_external_data=False)
        if_node = next(n for n in m.graph.node if n.op_type == "If")
        for attr in if_node.attribute:
            if attr.name == "then_branch":
                attr.g.CopyFrom(_rope_branch("large", rows_large))
                if external:
                    t = attr.g.node[0].attribute[0].t
                    t.ClearField("raw_data")
                    t.data_location = TensorProto.EXTERNAL
                    t.external_data.add(key="location", value="absent.bin")
        onnx.save(m, str(folder / "model.onnx"))
        return read_model(folder)

    assert "rope_switch_tables" not in dict(rewrite(4096, external=False).extra)
    assert "rope_switch_tables" not in dict(rewrite(16384, external=True).extra)


def test_a_quantized_kv_cache_on_a_sliding_window_model_is_flagged(tmp_path: Path) -> None:
    """onnxruntime 1.31/1.32 fail such a run ('sliding_window_cache: KV cache capacity (0) must be
    at least local_window_size'): the budget says so; a float cache or a global model does not."""
    build_genai(tmp_path / "w", ModelConfig(layers=2, local_windows=(64, None)))
    spec = read_model(tmp_path / "w")

    def refused(s: ModelSpec, kv: str) -> bool:
        b = estimate(s, RuntimeSettings(Runtime.ONNXRUNTIME, context=256, prefill=16, kv_dtype=kv))
        return any("sliding_window_cache" in n for n in b.notes)

    assert refused(spec, "int8")
    assert not refused(spec, "float32")
    build_genai(tmp_path / "g", ModelConfig(layers=2))
    assert not refused(read_model(tmp_path / "g"), "int8")


def test_a_phi3_run_that_reaches_4097_tokens_is_planned_as_a_4097_token_prompt(
    spec_of: Callable[[str], ModelSpec],
) -> None:
    """onnxruntime-genai re-runs a Phi-3 sequence from scratch when it reaches 4097 tokens (the
    long RoPE factor; generators.cpp phi3_rope_threshold_): the prompt's logits and activations
    are those of 4097 tokens then. A run that stops before says so in a note."""
    spec = spec_of("phi-3.5-mini")
    assert spec.architecture == "phi3"
    crossing = ort(spec, context=8192, prefill=4090, decode_tokens=16)
    short = ort(spec, context=8192, prefill=4090, decode_tokens=4)
    assert comp(crossing, "prompt logits") == 4097 * spec.vocab_size * 4
    assert comp(short, "prompt logits") == 4090 * spec.vocab_size * 4
    assert any("re-runs the whole sequence" in n for n in crossing.notes)
    assert any("re-run the whole sequence" in n for n in short.notes)
    # what the re-run keeps beside the first pass: a replay of the arena over both passes,
    # bounded by the first pass's arena term (4090 tokens); the note gives it in MiB
    rerun, first = comp(crossing, "re-run"), comp(short, "prompt activations")
    assert 0 < rerun <= first
    assert any(f"counts {rerun / 2**20:,.0f} MiB" in n for n in crossing.notes)
    assert comp(short, "re-run") == 0
    # a prompt of exactly 4097 tokens re-runs at the first step, as long as itself: the re-run's
    # held buffers are written into the first pass's pattern block (replayed too)
    equal = ort(spec, context=8192, prefill=4097, decode_tokens=4)
    assert comp(equal, "re-run") > 0
    assert any("writes its tensors into it" in n for n in equal.notes)
    # a short first prompt leaves a small block: the replay counts less
    tiny = ort(spec, context=8192, prefill=16, decode_tokens=4082)
    assert 0 < comp(tiny, "re-run") < rerun

    # genai_config's session_options can turn the memory pattern off: the replay then holds no
    # pattern block (less, not nothing: the longer tensors do not all fit the freed chunks); with
    # the arena off nothing is replayed
    def with_options(*options: tuple[str, str]) -> MemoryBudget:
        s = replace(spec, settings=replace(spec.settings, session_options=options))
        return ort(s, context=8192, prefill=4090, decode_tokens=16)

    quiet = with_options(("enable_mem_pattern", "false"))
    assert any("enable_mem_pattern is off" in n for n in quiet.notes)
    assert 0 < comp(quiet, "re-run") < rerun
    arena_off = with_options(("enable_cpu_mem_arena", "false"))
    assert any("enable_cpu_mem_arena is off" in n for n in arena_off.notes)
    assert comp(arena_off, "re-run") == 0
    assert comp(quiet, "prompt logits") == comp(crossing, "prompt logits")
    # a context that never reaches 4097, or a model of another family: nothing
    assert not any("whole sequence" in n for n in ort(spec, context=4096, prefill=512).notes)
    llama = ort(spec_of("llama-3.2-1b"), context=8192, prefill=4090, decode_tokens=16)
    assert not any("whole sequence" in n for n in llama.notes)


def test_short_convolution_blocks_are_read_from_the_graph_whatever_the_family(
    tmp_path: Path,
) -> None:
    """LFM2's short-convolution blocks run as the builder's com.microsoft CausalConvWithState;
    the ONNX adapter counts them (``conv_blocks``) and the prompt's arena gets their block kind
    (8 × hidden floats a token) for any family name — LFM2-MoE's genai type is ``lfm2_moe``,
    which the dense ``lfm2`` rule alone missed (benchmarks/ort_bench/build_moe.py)."""
    import onnx
    from onnx import helper

    cfg = ModelConfig(model_type="llama")  # a family name with no convolution rule
    plain, conv, named = tmp_path / "plain", tmp_path / "conv", tmp_path / "named"
    build_genai(plain, cfg)
    build_genai(conv, cfg)
    build_genai(named, replace(cfg, model_type="lfm2_moe"))
    model = onnx.load(str(conv / "model.onnx"), load_external_data=False)
    for layer in (0, 2):
        model.graph.node.append(
            helper.make_node(
                "CausalConvWithState",
                [f"/model/layers.{layer}/conv/in_proj/output_0"],
                [f"/model/layers.{layer}/conv/output_0"],
                f"/model/layers.{layer}/conv/CausalConvWithState",
                domain="com.microsoft",
            )
        )
    onnx.save(model, str(conv / "model.onnx"))
    plain_spec, conv_spec = read_model(plain), read_model(conv)
    assert dict(conv_spec.extra)["conv_blocks"] == "2"
    assert "conv_blocks" not in dict(plain_spec.extra)
    settings = RuntimeSettings(Runtime.ONNXRUNTIME, context=1024, prefill=256)
    arena = "prompt activations"
    added = comp(estimate(conv_spec, settings), arena) - comp(estimate(plain_spec, settings), arena)
    assert added == 256 * 8 * conv_spec.hidden_size * 4
    # without nodes to read (a config, or a graph the adapter cannot see them in), the family's
    # name decides: lfm2_moe has them
    named_arena = comp(estimate(read_model(named), settings), arena)
    assert named_arena - comp(estimate(plain_spec, settings), arena) == added


def _with_moe(
    folder: Path,
    op: str = "MoE",
    bits: int = 4,
    *,
    block: int = 32,
    level: int | None = None,
    zero_points: bool = False,
    external: bool = True,
) -> dict[str, int]:
    """A builder package with two MoE (fp32 experts) or QMoE (``bits``-bit experts, fp32 scales
    per ``block`` weights or per row when ``block`` is 0, fp32 biases) nodes appended, as the
    builder writes LFM2-MoE's; the experts in external data (``moe.data``) or inside
    model.onnx. Returns the bytes of each kind of expert initializer."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    build_genai(folder)
    model = onnx.load(str(folder / "model.onnx"), load_external_data=False)
    experts, hidden, inter = 4, 64, 32
    sizes = {"data": 0, "scales": 0, "zero_points": 0, "bias": 0}

    def add(name: str, shape: tuple[int, ...], dtype: type, kind: str) -> str:
        array = np.zeros(shape, dtype)
        model.graph.initializer.append(numpy_helper.from_array(array, name))
        sizes[kind] += array.nbytes
        return name

    for layer in (0, 1):
        pre = f"model.layers.{layer}.moe"
        inputs = [f"/model/layers.{layer}/norm/output_0", f"/model/layers.{layer}/router/output_0"]
        zps = []
        for fc, rows, cols in (("fc1", 2 * inter, hidden), ("fc2", hidden, inter)):
            if op == "MoE":
                inputs.append(add(f"{pre}.{fc}_w", (experts, rows, cols), np.float32, "data"))
            else:
                blocks = cols // block if block else 1
                packed = (experts, rows, cols * bits // 8)
                inputs.append(add(f"{pre}.{fc}_q", packed, np.uint8, "data"))
                inputs.append(add(f"{pre}.{fc}_s", (experts, rows, blocks), np.float32, "scales"))
                if zero_points:
                    zp = (experts, rows, max(1, blocks * bits // 8))
                    zps.append(add(f"{pre}.{fc}_zp", zp, np.uint8, "zero_points"))
            inputs.append(add(f"{pre}.{fc}_b", (experts, rows), np.float32, "bias"))
        if zps:  # slots 8-10 are fc3's; fc1 / fc2 zero points are 11 and 12
            inputs += ["", "", "", *zps]
        attrs: dict[str, int] = {"k": 2}
        if op == "QMoE":
            attrs.update(expert_weight_bits=bits, block_size=block)
            if level is not None:
                attrs["accuracy_level"] = level
        model.graph.node.append(
            helper.make_node(
                op,
                inputs,
                [f"/model/layers.{layer}/moe/output_0"],
                f"/model/layers.{layer}/moe/{op}",
                domain="com.microsoft",
                **attrs,
            )
        )
    if external:
        onnx.external_data_helper.convert_model_to_external_data(
            model, all_tensors_to_one_file=True, location="moe.data", size_threshold=0
        )
    onnx.save(model, str(folder / "model.onnx"))
    return sizes


PAGES = "initializer pages read"
MOE_HEAP = "prepacked MoE experts"


def _at_load(b: MemoryBudget) -> int:
    pages = next(c for c in b.components if c.label.startswith(PAGES))
    return int(dict(pages.inputs)["at_load"])


def test_moe_expert_weights_are_pages_the_run_reads_in_place(tmp_path: Path) -> None:
    """onnxruntime's CPU MoE kernel (fp32 experts) reads the experts from the mapped file
    (lfm2moe-fp32's file-backed RSS grows by 18.4 MiB at the first prompt for 18.0 MiB of
    experts; benchmarks/ort_bench/probe_moe.py first-prefill over benchmarks/results/ort_moe/):
    the adapter sums the initializers behind the expert inputs (not the hidden states or the
    router's probabilities), and the budget counts the external ones with the pages the run
    reads; experts inside model.onnx are already in the heap."""
    plain = tmp_path / "plain"
    build_genai(plain)
    settings = RuntimeSettings(Runtime.ONNXRUNTIME, context=1024, prefill=256)
    without = estimate(read_model(plain), settings)
    sizes = _with_moe(tmp_path / "moe")
    spec = read_model(tmp_path / "moe")
    facts = dict(spec.extra)
    assert facts["moe_nodes"] == "2"
    assert int(facts["moe_expert_bytes"]) == sizes["data"] + sizes["bias"]
    assert "moe_qpacked" not in facts
    assert (facts["moe_ops"], facts["moe_intermediate"]) == ("MoE", "32")
    from planner.render.text import render_spec

    shown = " ".join(render_spec(spec).split())
    assert "mixture of experts 2 layers (MoE), 4 experts, top-2, expert width 32" in shown
    with_moe = estimate(spec, settings)
    # a decoded token reads its top-2 of the 4 experts (decode speed's divisor)
    assert (facts["moe_experts"], facts["moe_top_k"]) == ("4", "2")
    read = with_moe.decode_read_bytes - without.decode_read_bytes
    assert read == (sizes["data"] + sizes["bias"]) * 2 // 4
    # the kernels' scratch per intra-op thread (6 × (hidden + intermediate) floats a token for
    # fp32 MoE) is not a term: the note gives it for the threads planner did not measure
    long = estimate(spec, replace(settings, context=4096, prefill=4096))
    scratch = 4096 * 6 * (spec.hidden_size + 32) * 4 / 2**20
    assert scratch > 5  # a figure the factor 6 decides (not rounded into another one)
    assert any(f"about {scratch:,.0f} MiB of scratch per intra-op thread" in n for n in long.notes)
    assert comp(with_moe, PAGES) - comp(without, PAGES) == sizes["data"] + sizes["bias"]
    assert comp(with_moe, MOE_HEAP) == 0
    # inside model.onnx: parsed into the heap with the other embedded initializers, not pages
    _with_moe(tmp_path / "inside", external=False)
    inside = estimate(read_model(tmp_path / "inside"), settings)
    assert comp(inside, PAGES) == comp(without, PAGES)
    embedded = "initializers inside model.onnx"
    assert comp(inside, embedded) - comp(without, embedded) >= sizes["data"] + sizes["bias"]
    # planned at another precision than the artifact's: refused, not planned without experts
    other = "int8" if spec.quantization.scheme != "int8" else "fp32"
    with pytest.raises(UsageError, match="MoE experts"):
        estimate(spec, replace(settings, quantization=other))


@pytest.mark.parametrize(
    ("case", "kwargs", "heap", "at_load", "at_run"),
    [
        # 4-bit, no accuracy level: fp32 compute, the data packed, scales read by the run
        ("4-bit", {"bits": 4}, ("data",), (), ("scales", "bias")),
        # 8-bit: int8 compute always: data + scales + block sums, scales mapped at load
        ("8-bit", {"bits": 8}, ("data", "scales", "scales"), ("scales",), ("bias",)),
        # 4-bit at accuracy level 4: int8 compute as well
        (
            "4-bit acc 4",
            {"bits": 4, "level": 4},
            ("data", "scales", "scales"),
            ("scales",),
            ("bias",),
        ),
        # asymmetric 4-bit: the zero points stay in the file with the scales
        (
            "4-bit zp",
            {"bits": 4, "zero_points": True},
            ("data",),
            (),
            ("scales", "zero_points", "bias"),
        ),
        # row-wise experts (no block size) are not packed: everything read in place
        ("row-wise", {"bits": 4, "block": 0}, (), (), ("data", "scales", "bias")),
    ],
)
def test_qmoe_experts_are_packed_at_load_like_matmulnbits_weights(
    tmp_path: Path,
    case: str,
    kwargs: dict[str, Any],
    heap: tuple[str, ...],
    at_load: tuple[str, ...],
    at_run: tuple[str, ...],
) -> None:
    """QMoE packs block-wise 4- and 8-bit experts at session creation as MatMulNBits weights of
    the same bits and compute type (x86-64 rules of ``packing``); measured on the LFM2-MoE
    builds, where it brings planner's "after loading" within 2 MiB of every run
    (lfm2moe-c-int8 on 1.32: 145.0 against 145.4 MiB; 62.5 before)."""
    plain = tmp_path / "plain"
    build_genai(plain)
    settings = RuntimeSettings(
        Runtime.ONNXRUNTIME, context=1024, prefill=256, platform="linux-x86_64"
    )
    base = estimate(read_model(plain), settings)
    sizes = _with_moe(tmp_path / "q", "QMoE", **kwargs)
    spec = read_model(tmp_path / "q")
    assert (facts := dict(spec.extra))["moe_intermediate"] == "32", case  # packed 8 / bits a byte
    assert (facts["moe_experts"], facts["moe_top_k"]) == ("4", "2"), case
    # parameters: the packed experts hold 8 / bits weights a byte (as fp32 MoE's would), plus
    # the biases; scales and zero points are metadata
    assert spec.weights is not None
    plain_params = read_model(plain).weights
    assert plain_params is not None
    experts = 2 * 4 * (2 * 32 * 64 + 64 * 32)
    added = spec.weights.param_count - plain_params.param_count
    assert added == experts + sizes["bias"] // 4, case
    b = estimate(spec, settings)
    assert comp(b, MOE_HEAP) == sum(sizes[k] for k in heap), case
    # a decoded token reads its top-2 of 4 experts: the packed copies or, where more, the source
    # bytes (scales and biases the packing leaves in place)
    source = sum(sizes.values())
    expected = max(comp(b, MOE_HEAP), source) * 2 // 4
    assert b.decode_read_bytes - base.decode_read_bytes == expected, case
    assert _at_load(b) - _at_load(base) == sum(sizes[k] for k in at_load), case
    read = comp(b, PAGES) - comp(base, PAGES)
    assert read == sum(sizes[k] for k in (*at_load, *at_run)), case


def test_qmoe_with_bits_onnxruntime_refuses_is_a_format_error(tmp_path: Path) -> None:
    _with_moe(tmp_path / "q3", "QMoE", 3)
    with pytest.raises(ArtifactFormatError, match="expert_weight_bits=3"):
        read_model(tmp_path / "q3")


def test_qmoe_packing_on_a_version_it_was_not_measured_on_is_said(tmp_path: Path) -> None:
    """QMoE's packing at load was measured on onnxruntime 1.31 and 1.32; 1.30 packs otherwise
    (lfm2moe-d: int4 +107 MiB after loading, int8 −114 MiB): planning 1.30 says so."""
    _with_moe(tmp_path / "q", "QMoE", 4)
    spec = read_model(tmp_path / "q")
    settings = RuntimeSettings(Runtime.ONNXRUNTIME, context=1024, prefill=256)
    said = "packing measured on onnxruntime 1.31 and 1.32 only"
    old = estimate(spec, replace(settings, runtime_version="1.30"))
    assert any(said in n for n in old.notes)
    assert not any(said in n for n in estimate(spec, settings).notes)  # 1.32 by default


# -- per-call dequantization buffers and the allocator ----------------------------------------


def _int8_acc1(tmp_path: Path, hidden: int, intermediate: int) -> ModelSpec:
    cfg = ModelConfig(
        layers=2,
        hidden=hidden,
        heads=hidden // 128,
        kv_heads=hidden // 512,
        head_dim=128,
        intermediate=intermediate,
        vocab=32000,
        context=4096,
    )
    opt = GenaiOptions(precision="int8", accuracy_level=1, block_size=32, materialize=False)
    build_genai(tmp_path, cfg, opt)
    return read_model(tmp_path)


def test_the_graph_lists_its_matmulnbits_call_sizes(tmp_path: Path) -> None:
    import onnx

    spec = _int8_acc1(tmp_path, 2048, 5632)
    model = onnx.load(str(tmp_path / "model.onnx"), load_external_data=False)
    sizes: dict[int, int] = {}
    for node in model.graph.node:
        if node.op_type == "MatMulNBits":
            a = {x.name: x.i for x in node.attribute}
            sizes[a["K"] * a["N"]] = sizes.get(a["K"] * a["N"], 0) + 1
    listed = dict(spec.extra)["nbits_call_kn"]
    assert listed == ",".join(f"{kn}:{n}" for kn, n in sorted(sizes.items()))
    # qkv (2048 × 3072), o (2048²), gate/up/down (2048 × 5632), lm_head (2048 × 32000)
    assert listed == "4194304:2,6291456:2,11534336:6,65536000:1"


def test_glibc_keeps_only_the_dequantization_buffers_below_its_mmap_limit(
    tmp_path: Path,
) -> None:
    """Buffers of 32 MiB and more (here the MLP's 44 MiB) are mmapped and unmapped on every call;
    smaller ones (qkv 24 MiB, o 16 MiB) stay in glibc's heap; Scudo keeps neither."""
    spec = _int8_acc1(tmp_path, 2048, 5632)
    kw: dict[str, object] = {"quantization": "int8", "context": 2048, "prefill": 16}
    lm_head = 4 * 2048 * 32000
    linux = ort(spec, platform="linux-x86_64", **kw)
    assert comp(linux, "per-call dequantized weight") == lm_head + 4 * (2048 * 3072 + 2048**2)
    assert any("glibc keeps the ones below 32 MiB" in n for n in linux.notes)
    # glibc with its mmap threshold fixed (measure --fixed-heap) keeps none either
    fixed = ort(spec, platform="linux-x86_64-fixedheap", **kw)
    assert comp(fixed, "per-call dequantized weight") == lm_head
    assert fixed.total_bytes == linux.total_bytes - 4 * (2048 * 3072 + 2048**2)
    android = ort(spec, platform="android-arm64", **kw)
    assert comp(android, "per-call dequantized weight") == lm_head
    assert not any("glibc keeps" in n for n in android.notes)


def test_below_the_limit_glibc_keeps_a_whole_layers_buffers(tmp_path: Path) -> None:
    spec = _int8_acc1(tmp_path, 1024, 2816)  # every layer buffer ≤ 11 MiB (the v2 llama-gqa)
    b = ort(spec, platform="linux-x86_64", quantization="int8", context=2048, prefill=16)
    layer = 1024 * (1024 + 2 * 256) + 1024**2 + 3 * 1024 * 2816
    assert comp(b, "per-call dequantized weight") == 4 * (1024 * 32000 + layer)


def test_a_config_plans_the_builders_calls_against_the_mmap_limit() -> None:
    """Llama-3.2-1B at int8 on a CPU without dot product (no int8-compute kernel: every call
    dequantizes): qkv (24 MiB) and o (16 MiB) are below glibc's limit, gate, up and down
    (64 MiB each) above it."""
    spec = hf_spec("llama-3.2-1b")
    kw: dict[str, object] = {"quantization": "int8", "context": 2048, "prefill": 16}
    pi = ort(spec, platform="linux-arm64-nodotprod", **kw)
    head = 4 * 128256 * 2048
    assert comp(pi, "per-call dequantized weight") == head + 4 * (2048 * 3072 + 2048**2)
    android = ort(spec, platform="android-arm64-nodotprod", **kw)
    assert comp(android, "per-call dequantized weight") == head


def test_a_config_fuses_q_k_v_and_splits_gate_up_as_the_builder_does() -> None:
    """Gemma-3 1B: q, k and v are separate tensors in the config's layout (fused into one
    1152 × 1536 call by the builder); gate and up are one 2 × 6912 × 1152 tensor there (61 MiB)
    but two 30 MiB calls in the builder's graph, both below the limit."""
    cfg = {
        "architectures": ["Gemma3ForCausalLM"],
        "model_type": "gemma3_text",
        "head_dim": 256,
        "hidden_size": 1152,
        "intermediate_size": 6912,
        "max_position_embeddings": 32768,
        "num_attention_heads": 4,
        "num_hidden_layers": 26,
        "num_key_value_heads": 1,
        "sliding_window": 512,
        "sliding_window_pattern": 6,
        "vocab_size": 262144,
    }
    kw: dict[str, object] = {"quantization": "int8", "context": 2048, "prefill": 16}
    spec = spec_from_hf_config(cfg, source="gemma3-1b", path=None, name="gemma3-1b")
    b = ort(spec, platform="linux-arm64-nodotprod", **kw)
    layer = 1152 * (1024 + 2 * 256) + 1024 * 1152 + 3 * 6912 * 1152
    assert comp(b, "per-call dequantized weight") == 4 * (262144 * 1152 + layer)
    # Gemma-3 4B's shape: q (20 MiB), k and v (10 MiB each) are below the limit apart, but the
    # builder's one qkv call (40 MiB) is above it; o (20 MiB) stays, the MLP (100 MiB) does not
    big = {**cfg, "hidden_size": 2560, "intermediate_size": 10240, "num_attention_heads": 8}
    big["num_key_value_heads"] = 4
    spec4 = spec_from_hf_config(big, source="gemma3-4b", path=None, name="gemma3-4b")
    b4 = ort(spec4, platform="linux-arm64-nodotprod", **kw)
    assert comp(b4, "per-call dequantized weight") == 4 * (262144 * 2560 + 2048 * 2560)


def test_a_config_and_its_builder_graph_plan_the_same_heap_term(tmp_path: Path) -> None:
    """Qwen2.5-0.5B's shape planned from its config and from a graph in the builder's layout
    (the factory: fused qkv, separate gate / up / down) on the same platform."""
    spec = hf_spec("qwen2.5-0.5b")
    cfg = ModelConfig(24, 896, 14, 2, 64, 4864, 151936, 4096)
    build_genai(tmp_path, cfg, GenaiOptions(precision="int8", materialize=False))
    graph = read_model(tmp_path)
    kw: dict[str, object] = {"quantization": "int8", "context": 2048, "prefill": 16}
    plat = "linux-arm64-nodotprod"
    from_config = comp(ort(spec, platform=plat, **kw), "per-call dequantized weight")
    from_graph = comp(ort(graph, platform=plat, **kw), "per-call dequantized weight")
    assert from_config == from_graph == 4 * (151936 * 896 + 896 * 1152 + 896**2 + 3 * 896 * 4864)


def test_a_call_of_exactly_32_mib_is_mapped_not_kept(tmp_path: Path) -> None:
    """o_proj 4096 × 2048 × 4 bytes = 32 MiB: glibc maps it (the threshold only rises to chunks
    of at most 32 MiB, and a chunk is larger than its request); qkv (48 MiB) too; the MLP's
    16 MiB calls are kept."""
    cfg = ModelConfig(2, 2048, 32, 8, 128, 2048, 4096, 4096)
    build_genai(tmp_path, cfg, GenaiOptions(precision="int8", accuracy_level=1, materialize=False))
    spec = read_model(tmp_path)
    b = ort(spec, platform="linux-x86_64", quantization="int8", context=2048, prefill=16)
    # the lm_head (4096 × 2048: 32 MiB) is the live buffer, not a heap one
    assert comp(b, "per-call dequantized weight") == 4 * (4096 * 2048 + 3 * 2048 * 2048)


def test_a_malformed_or_missing_size_list_falls_back_without_failing(tmp_path: Path) -> None:
    from dataclasses import replace as dc_replace

    from planner.runtimes.onnxruntime.dequant import layer_heap_kn, live_kn

    spec = _int8_acc1(tmp_path, 1024, 2816)
    listed = layer_heap_kn(spec, True, 0)
    bad = tuple((k, "²:8" if k == "nbits_call_kn" else v) for k, v in spec.extra)
    # a fact that cannot be read whole is not read in part: the builder's layout instead
    assert layer_heap_kn(dc_replace(spec, extra=bad), True, 0) == listed
    # no fact and no family layout: every layer buffer (the weights' K·N less the lm_head's)
    unknown = dc_replace(spec, architecture="not-a-family", extra=())
    layer = 1024 * 1536 + 1024**2 + 3 * 1024 * 2816
    assert layer_heap_kn(unknown, True, 2 * layer + 1024 * 32000) == layer
    # a size only some layers have still takes one place per layer that has it
    hybrid = dc_replace(spec, extra=(("nbits_call_kn", "1000:3,32768000:1"),))
    assert layer_heap_kn(hybrid, True, 0) == 2 * 1000
    # an lm_head below the limit (4096 × 1024: 16 MiB) is the live buffer, not a heap one
    small = dc_replace(spec, vocab_size=4096, extra=(("nbits_call_kn", "1000:2,4194304:1"),))
    assert layer_heap_kn(small, True, 0) == 1000
    # a float lm_head (no MatMulNBits of vocab × hidden): the largest MatMulNBits is the live one
    float_head = dc_replace(spec, extra=(("nbits_call_kn", "1000:2,5000:2"),))
    assert live_kn(float_head, True) == 5000
    assert live_kn(spec, True) == 32000 * 1024
