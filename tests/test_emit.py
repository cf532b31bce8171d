"""Emitted fragments are valid: overrides round-trip, package entries complete, patches apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.emit import mlc, ort
from planner.errors import UsageError


def _p(**kw: object) -> mlc.MlcPlanSettings:
    base: dict[str, object] = dict(  # noqa: C408
        model_id="Llama-3.2-1B",
        source_dir="examples/hf-llama-3.2-1b",
        quantization="q4f16_1",
        context_window_size=4096,
        prefill_chunk_size=1024,
        max_batch_size=1,
        sliding_window_size=None,
        attention_sink_size=None,
        device_preset="android",
        model_type="llama",
        estimated_vram_bytes=1_234_567_890,
        conv_template="llama-3",
    )
    base.update(kw)
    return mlc.MlcPlanSettings(**base)  # type: ignore[arg-type]


def test_overrides_round_trip() -> None:
    p = _p()
    text = mlc.overrides_string(mlc.overrides(p))
    assert text == "context_window_size=4096;prefill_chunk_size=1024;max_batch_size=1"
    assert mlc.parse_overrides(text) == mlc.overrides(p)


def test_sliding_window_overrides_drop_context() -> None:
    p = _p(sliding_window_size=768, attention_sink_size=4)
    values = mlc.overrides(p)
    text = mlc.overrides_string(values)
    assert "context_window_size" not in text  # -1 is dropped, as mlc_llm package does
    assert mlc.parse_overrides(text) == {k: v for k, v in values.items() if v != -1}


def test_parse_overrides_rejects_unknown_keys() -> None:
    with pytest.raises(UsageError):
        mlc.parse_overrides("context_window_size=1;bogus=2")


def test_package_entry_has_required_fields() -> None:
    doc = json.loads(mlc.package_config([_p(), _p(model_id="Other")]))
    assert doc["device"] == "android"
    # Each entry names the library its compile command wrote, so package does not recompile.
    libs = doc["model_lib_path_for_prepare_libs"]
    assert {e["model_lib"] for e in doc["model_list"]} == set(libs)
    for entry in doc["model_list"]:
        # mlc-llm interface/package.py reads these with plain key lookups.
        for key in ("model", "model_id", "estimated_vram_bytes"):
            assert key in entry
        assert isinstance(entry["estimated_vram_bytes"], int)
        assert mlc.parse_overrides(mlc.overrides_string(entry["overrides"])) == entry["overrides"]


def test_package_config_refuses_desktop_target() -> None:
    with pytest.raises(UsageError):
        mlc.package_config([_p(device_preset="cuda")])


def test_commands_carry_plan_values() -> None:
    cmds = mlc.commands(_p())
    assert [c[1] for c in cmds] == ["convert_weight", "gen_config", "-p", "compile"]
    assert cmds[2] == ["mkdir", "-p", "dist/libs"]  # compile -o does not create folders
    gen = cmds[1]
    assert gen[gen.index("--context-window-size") + 1] == "4096"
    assert gen[gen.index("--prefill-chunk-size") + 1] == "1024"
    assert gen[gen.index("--conv-template") + 1] == "llama-3"
    comp = cmds[3]
    assert comp[comp.index("--device") + 1] == "android"
    assert comp[comp.index("--system-lib-prefix") + 1] == "Llama_3_2_1B_q4f16_1_"
    assert mlc.parse_overrides(comp[comp.index("--overrides") + 1])["prefill_chunk_size"] == 1024
    assert comp[-1].endswith(".tar")


def test_builder_command_int4() -> None:
    p = ort.OrtPlanSettings(
        source_dir="hf",
        output_dir="out",
        precision="int4-bs128-asym",
        max_length=2048,
        tied_embeddings=True,
        ios=False,
    )
    argv = ort.builder_command(p)
    assert argv[argv.index("-p") + 1] == "int4"
    assert argv[argv.index("-e") + 1] == "cpu"
    extra = argv[argv.index("--extra_options") + 1 :]
    assert "block_size=128" in extra and "is_symmetric=false" in extra


def test_genai_patch_applies_to_builder_config() -> None:
    # genai_config.json as the 0.18.0 builder writes it (research onnx-runtime.md §1.3).
    builder_cfg = {
        "model": {
            "context_length": 2048,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": []},
                "filename": "model.onnx",
                "head_size": 64,
                "num_key_value_heads": 2,
                "num_hidden_layers": 4,
            },
            "type": "llama",
        },
        "search": {"max_length": 2048, "past_present_share_buffer": True, "num_beams": 1},
    }
    p = ort.OrtPlanSettings(
        source_dir="hf",
        output_dir="out",
        precision="fp32",
        max_length=1024,
        tied_embeddings=False,
        ios=True,
    )
    merged = ort.merge_patch(builder_cfg, ort.config_patch(p))
    assert merged["search"]["max_length"] == 1024
    assert merged["search"]["num_beams"] == 1  # untouched keys survive
    so = merged["model"]["decoder"]["session_options"]
    assert so["log_id"] == "onnxruntime-genai"
    # 0.11+ read flat keys; a nested config_entries object is refused ("Unknown value").
    assert so["session.disable_prepacking"] == "1"
    assert "config_entries" not in so
    assert so["enable_cpu_mem_arena"] is False


def test_genai_patch_applies_to_the_example_builder_output(tmp_path: Path) -> None:
    # The bundled example is in the onnxruntime-genai builder's layout; patch a copy and read
    # it back through the adapter: the planned max_length is what the runtime will allocate.
    import shutil

    from planner_adapters.onnx_adapter import OnnxAdapter

    src = Path(__file__).resolve().parent.parent / "examples" / "onnx-genai-tiny-llama"
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    cfg_path = dst / "genai_config.json"
    original = json.loads(cfg_path.read_text())
    p = ort.OrtPlanSettings(
        source_dir="hf",
        output_dir="out",
        precision="int4",
        max_length=96,
        tied_embeddings=False,
        ios=False,
    )
    cfg_path.write_text(json.dumps(ort.merge_patch(original, ort.config_patch(p))))
    spec = OnnxAdapter().read(dst)
    assert spec.settings.max_length == 96
    assert spec.settings.past_present_share_buffer is True
    arena = dict(spec.settings.session_options).get("enable_cpu_mem_arena")
    assert arena in ("false", "False", "0")
