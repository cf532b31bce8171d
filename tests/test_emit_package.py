"""mlc-package-config.json as input (``planner check``) and output (``suggest --update``),
end to end through the real CLI (typer's CliRunner), with several models in one file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from planner.cli.app import app
from planner.emit.mlc_facts import PACKAGE_ENTRY_REQUIRED

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def invoke(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def reports(out: str) -> dict[str, dict[str, Any]]:
    """model_id → the first device's report, from check's JSON."""
    doc = json.loads(out)
    return {r["model"].split(": ", 1)[1]: r["devices"][0] for r in doc["results"]}


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """An app folder with two models and a package config listing them (and a third, HF://)."""
    shutil.copytree(EXAMPLES / "mlc-qwen2.5-0.5b-q4f16_1", tmp_path / "models" / "qwen")
    shutil.copytree(EXAMPLES / "hf-llama-3.2-1b", tmp_path / "models" / "llama")
    doc = {
        "device": "iphone",
        "model_list": [
            {
                "model": "models/qwen",
                "model_id": "qwen-q4f16_1",
                "estimated_vram_bytes": 3_000_000_000,
                "bundle_weight": True,
                "overrides": {"context_window_size": 2048, "prefill_chunk_size": 128},
                "custom": "kept",
            },
            {
                "model": "models/llama",
                "model_id": "llama-q4f16_1",
                "estimated_vram_bytes": 100_000_000,
                "bundle_weight": True,
                "overrides": {
                    "context_window_size": 1024,
                    "prefill_chunk_size": 128,
                    "max_batch_size": 1,
                },
            },
        ],
        "zzz_user_key": [1, 2, 3],
    }
    (tmp_path / "mlc-package-config.json").write_text(json.dumps(doc, indent=2))
    return tmp_path


def test_check_plans_every_entry_and_fails_a_low_declared_estimate(app_dir: Path) -> None:
    code, out, err = invoke(
        "check", str(app_dir / "mlc-package-config.json"), "-d", "iphone-15-pro", "-f", "json"
    )
    assert code == 1, err
    by_id = reports(out)
    assert list(by_id) == ["qwen-q4f16_1", "llama-q4f16_1"]
    qwen, llama = by_id["qwen-q4f16_1"], by_id["llama-q4f16_1"]
    # Each entry is planned with its own overrides.
    assert qwen["settings"]["context"] == 2048 and qwen["settings"]["prefill"] == 128
    assert llama["settings"]["context"] == 1024
    assert llama["settings"]["max_batch_size"] == 1
    rule = {c["id"]: c for c in llama["checks"]}["declared-estimate"]
    assert rule["status"] == "fail" and "below" in rule["message"]
    assert {c["id"]: c for c in qwen["checks"]}["declared-estimate"]["status"] == "pass"


def test_check_fails_a_declared_estimate_above_the_device_limit(app_dir: Path) -> None:
    path = app_dir / "mlc-package-config.json"
    doc = json.loads(path.read_text())
    doc["model_list"] = doc["model_list"][:1]
    doc["model_list"][0]["estimated_vram_bytes"] = 7_000_000_000  # over iPhone 15's 3.3 GiB
    path.write_text(json.dumps(doc))
    code, out, _ = invoke("check", str(path), "-d", "iphone-15-pro", "-f", "json")
    assert code == 1
    checks = reports(out)["qwen-q4f16_1"]["checks"]
    rule = {c["id"]: c for c in checks}["declared-estimate"]
    assert rule["status"] == "fail" and rule["limit_bytes"] < 7_000_000_000


def test_suggest_update_writes_the_plan_in_place(app_dir: Path) -> None:
    path = app_dir / "mlc-package-config.json"
    before = json.loads(path.read_text())
    code, _, err = invoke(
        "suggest",
        str(app_dir / "models" / "llama"),
        "-d",
        "iphone-15-pro",
        "--context",
        "2048",
        "--update",
        str(path),
    )
    assert code == 0, err
    after = json.loads(path.read_text())
    assert list(after) == list(before)  # key order kept
    assert after["zzz_user_key"] == [1, 2, 3]
    assert after["model_list"][0] == before["model_list"][0]  # the other entry untouched
    llama = after["model_list"][1]
    assert llama["model"] == "models/llama" and llama["model_id"] == "llama-q4f16_1"
    assert llama["overrides"]["context_window_size"] == 2048
    assert llama["estimated_vram_bytes"] > before["model_list"][1]["estimated_vram_bytes"]
    # The updated file now passes its own check for that entry.
    code, out, _ = invoke("check", str(path), "-d", "iphone-15-pro", "-f", "json")
    rule = {c["id"]: c for c in reports(out)["llama-q4f16_1"]["checks"]}["declared-estimate"]
    assert rule["status"] == "pass"


def test_suggest_update_adds_new_models_with_their_libraries(app_dir: Path) -> None:
    path = app_dir / "mlc-package-config.json"
    shutil.copytree(EXAMPLES / "hf-llama-3.2-1b", app_dir / "other")
    code, _, err = invoke(
        "suggest",
        str(app_dir / "other"),
        "-d",
        "iphone-15-pro",
        "--context",
        "1024",
        "--update",
        str(path),
    )
    assert code == 0, err
    doc = json.loads(path.read_text())
    added = doc["model_list"][-1]
    assert added["model"] == "dist/other-" + added["model"].split("-", 1)[1]
    assert added["bundle_weight"] is True  # a local model must be bundled (package.py)
    libs = doc["model_lib_path_for_prepare_libs"]
    assert libs[added["model_lib"]].startswith("dist/libs/") and libs[added["model_lib"]].endswith(
        ".tar"
    )
    for key in PACKAGE_ENTRY_REQUIRED:
        assert key in added


def test_with_model_writes_several_models_into_one_file(app_dir: Path) -> None:
    code, out, err = invoke(
        "suggest",
        str(app_dir / "models" / "llama"),
        "--with-model",
        str(app_dir / "models" / "qwen"),
        "-d",
        "iphone-15-pro",
        "--context",
        "1024",
        "--emit",
        "mlc-package-config",
    )
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["model_list"]) == 2
    assert len(set(doc["model_lib_path_for_prepare_libs"])) == 2  # one library each


def test_genai_config_update_is_a_merge_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(EXAMPLES / "onnx-genai-tiny-llama", folder)
    cfg = folder / "genai_config.json"
    before = json.loads(cfg.read_text())
    code, _, err = invoke(
        "suggest",
        str(folder),
        "-d",
        "iphone-15-pro",
        "-q",
        "fp32",
        "--context",
        "256",
        "--update",
        str(cfg),
    )
    assert code == 0, err
    after = json.loads(cfg.read_text())
    assert list(after) == list(before)
    assert after["search"]["max_length"] == 256
    so = after["model"]["decoder"]["session_options"]
    assert so["session.disable_prepacking"] == "1"
    assert so["log_id"] == before["model"]["decoder"]["session_options"]["log_id"]


def test_update_refuses_a_mismatched_device(app_dir: Path) -> None:
    code, _, err = invoke(
        "suggest",
        str(app_dir / "models" / "llama"),
        "-d",
        "pixel-8-pro",
        "--update",
        str(app_dir / "mlc-package-config.json"),
    )
    assert code == 2 and "device" in err


def test_an_entry_whose_folder_is_not_built_yet_is_one_clear_error(app_dir: Path) -> None:
    path = app_dir / "mlc-package-config.json"
    doc = json.loads(path.read_text())
    doc["model_list"][0]["model"] = "dist/not-converted-yet-MLC"
    path.write_text(json.dumps(doc))
    code, _, err = invoke("check", str(path), "-d", "iphone-15-pro")
    assert code == 3
    assert "model_list[0].model 'dist/not-converted-yet-MLC'" in err
    assert "convert_weight" in err  # the hint says how to get there


def test_update_with_several_models_at_once(app_dir: Path) -> None:
    path = app_dir / "mlc-package-config.json"
    before = json.loads(path.read_text())
    code, _, err = invoke(
        "suggest",
        str(app_dir / "models" / "llama"),
        "--with-model",
        str(app_dir / "models" / "qwen"),
        "-d",
        "iphone-15-pro",
        "--context",
        "2048",
        "--update",
        str(path),
    )
    assert code == 0, err
    after = json.loads(path.read_text())
    assert [e["model"] for e in after["model_list"]] == ["models/qwen", "models/llama"]
    for old, new in zip(before["model_list"], after["model_list"], strict=True):
        assert new["overrides"]["context_window_size"] == 2048
        assert new["model_id"] == old["model_id"]
    assert after["model_list"][0]["custom"] == "kept"
