"""Every genai_config.json patch planner emits loads in the real onnxruntime-genai and generates.

The models are genai-builder-layout ONNX folders from tests/onnx_factory.py; each emitted patch
(iPhone fp32 with ``session.disable_prepacking``, iPhone/Android int4, a quantized-KV plan) is
merged into the folder's genai_config.json, then ``og.Config`` → ``og.Model`` → a generator
produces tokens. The CLI path (``planner suggest … --emit genai-config``) is run as well.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli.app import app
from planner.emit import ort

try:
    from onnx_factory import GenaiOptions, ModelConfig, build_genai
except ImportError:  # pragma: no cover
    from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai

og = pytest.importorskip("onnxruntime_genai")
np = pytest.importorskip("numpy")

CFG = ModelConfig(layers=2, hidden=64, heads=4, kv_heads=2, head_dim=16, vocab=256, context=512)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for precision in ("fp32", "int4"):
        folder = tmp_path_factory.mktemp(f"genai-{precision}")
        build_genai(folder, CFG, GenaiOptions(precision=precision))
        out[precision] = folder
    return out


def _generate(folder: Path, tokens: int = 3) -> int:
    model = og.Model(og.Config(str(folder)))
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=32)
    gen = og.Generator(model, params)
    gen.append_tokens(np.array([[1, 5, 6, 7]], dtype=np.int32))
    for _ in range(tokens):
        gen.generate_next_token()
    return len(gen.get_sequence(0))


def _patched(src: Path, dst: Path, patch: dict[str, object]) -> Path:
    shutil.copytree(src, dst)
    cfg_path = dst / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg_path.write_text(json.dumps(ort.merge_patch(cfg, patch)))
    return dst


def _settings(precision: str, ios: bool, kv: str | None = None) -> ort.OrtPlanSettings:
    return ort.OrtPlanSettings(
        source_dir="hf",
        output_dir="out",
        precision=precision,
        max_length=256,
        tied_embeddings=False,
        ios=ios,
        kv_quant=kv,
    )


@pytest.mark.parametrize(
    ("precision", "ios"),
    [("fp32", True), ("fp32", False), ("int4", True), ("int4", False)],
    ids=["iphone-fp32", "android-fp32", "iphone-int4", "android-int4"],
)
def test_emitted_patch_loads_and_generates(
    models: dict[str, Path], tmp_path: Path, precision: str, ios: bool
) -> None:
    patch = ort.config_patch(_settings(precision, ios))
    folder = _patched(models[precision], tmp_path / "m", patch)
    so = json.loads((folder / "genai_config.json").read_text())["model"]["decoder"][
        "session_options"
    ]
    if ios and precision == "fp32":
        assert so["session.disable_prepacking"] == "1"  # flat key, a string
    assert _generate(folder) == 4 + 3


def test_quantized_kv_patch_leaves_the_builders_share_buffer(
    models: dict[str, Path], tmp_path: Path
) -> None:
    # The builder writes past_present_share_buffer=false for a quantized KV cache on CPU; the
    # patch must not turn it back on. (Loaded on a float-KV model: the keys it sets all load.)
    patch = ort.config_patch(_settings("int4", True, "int8_per_channel"))
    assert "past_present_share_buffer" not in patch["search"]
    assert _generate(_patched(models["int4"], tmp_path / "m", patch)) == 7


def test_nested_config_entries_is_what_onnxruntime_genai_refuses(
    models: dict[str, Path], tmp_path: Path
) -> None:
    # The form planner used to emit: 0.11+ rejects it at load ("Unknown value config_entries").
    patch = {
        "model": {
            "decoder": {"session_options": {"config_entries": {"session.disable_prepacking": "1"}}}
        }
    }
    with pytest.raises(Exception, match="config_entries"):
        _generate(_patched(models["fp32"], tmp_path / "m", patch))


@pytest.mark.parametrize("device", ["iphone-15-pro", "pixel-8-pro"])
def test_cli_patch_for_the_model_itself_loads(
    models: dict[str, Path], tmp_path: Path, device: str
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "suggest",
            str(models["fp32"]),
            "-d",
            device,
            "-r",
            "onnxruntime",
            "-q",
            "fp32",
            "--context",
            "256",
            "--emit",
            "genai-config",
        ],
    )
    assert result.exit_code == 0, result.output
    patch = json.loads(result.stdout)
    assert patch["search"]["max_length"] == 256
    folder = _patched(models["fp32"], tmp_path / "m", patch)
    assert _generate(folder) == 7
