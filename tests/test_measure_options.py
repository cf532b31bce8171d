"""``planner measure`` and the model's own session options: an untrusted genai_config.json may
only set allow-listed, memory-relevant options; thread counts are capped by the machine."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from planner.runtimes.onnxruntime import _measure_child as child

HAS_GENAI = importlib.util.find_spec("onnxruntime_genai") is not None


def test_allow_list_keeps_memory_options_and_caps_threads() -> None:
    kept, dropped = child.allowed_session_options(
        {
            "enable_cpu_mem_arena": False,
            "enable_mem_pattern": True,
            "intra_op_num_threads": 512,
            "inter_op_num_threads": 2,
            "log_id": "onnxruntime-genai",
            "graph_optimization_level": "ORT_ENABLE_ALL",
            "provider_options": [],
            "config_entries": {"session.disable_prepacking": "1"},
        },
        cpus=4,
    )
    assert kept == {
        "provider_options": [],
        "enable_cpu_mem_arena": False,
        "enable_mem_pattern": True,
        "intra_op_num_threads": 4,
        "inter_op_num_threads": 2,
        "log_id": "onnxruntime-genai",
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "config_entries": {"session.disable_prepacking": "1"},
    }
    assert dropped == ["intra_op_num_threads=512 (capped at 4)"]


@pytest.mark.parametrize(
    "options",
    [
        {"custom_ops_library": "/tmp/evil.so"},
        {"enable_profiling": "/tmp/profile"},
        {"ep_context_file_path": "../outside/ctx.onnx"},
        {"provider_options": [{"cuda": {}}]},
        {"config_entries": {"session.model_external_initializers_file_folder_path": "/x"}},
        {"config_entries": {"session.load_model_format": "ORT"}},
        {"config_entries": {"session.disable_prepacking": "../../x"}},
        {"intra_op_num_threads": -1},
        {"log_id": "../../etc/passwd"},
        {"graph_optimization_level": "ORT_ENABLE_EVERYTHING"},
        {"enable_mem_pattern": "yes"},
    ],
)
def test_allow_list_drops_paths_libraries_and_providers(options: dict[str, Any]) -> None:
    kept, dropped = child.allowed_session_options(options, cpus=4)
    assert dropped
    flat = json.dumps(kept)
    assert "/" not in flat and "cuda" not in flat and "-1" not in flat


def test_allow_list_tolerates_junk() -> None:
    assert child.allowed_session_options("not a dict", cpus=2) == ({"provider_options": []}, [])
    kept, dropped = child.allowed_session_options({1: 2, "config_entries": []}, cpus=2)
    assert kept == {"provider_options": []} and len(dropped) == 2


def test_fallback_session_options_use_the_allow_list() -> None:
    ort = pytest.importorskip("onnxruntime")
    options = child._session_options(
        ort,
        {
            "session_options": {
                "intra_op_num_threads": 100_000,
                "config_entries": {
                    "session.model_external_initializers_file_folder_path": "/outside",
                    "session.disable_prepacking": "1",
                },
            }
        },
    )
    assert options.intra_op_num_threads == child.cpu_count()
    assert options.get_session_config_entry("session.disable_prepacking") == "1"
    with pytest.raises(Exception, match=r"does not have configuration"):
        options.get_session_config_entry("session.model_external_initializers_file_folder_path")


def _threads() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


@pytest.mark.skipif(not HAS_GENAI or not sys.platform.startswith("linux"), reason="genai, Linux")
def test_genai_gets_only_allowed_options_and_few_threads(tmp_path: Path) -> None:
    import onnxruntime_genai as og

    from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai

    folder = tmp_path / "m"
    build_genai(folder, ModelConfig(), GenaiOptions())
    outside = tmp_path / "outside"
    outside.mkdir()
    cfg_path = folder / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["model"]["decoder"]["session_options"] = {
        "intra_op_num_threads": 512,
        "inter_op_num_threads": 512,
        "enable_profiling": str(outside / "profile"),
        "provider_options": [],
    }
    cfg_path.write_text(json.dumps(cfg))
    before = _threads()
    with child.allowed_model_folder(folder, cfg) as staged:
        assert staged != folder
        seen = json.loads((staged / "genai_config.json").read_text())
        options = seen["model"]["decoder"]["session_options"]
        assert options["intra_op_num_threads"] <= child.cpu_count()
        assert "enable_profiling" not in options
        model = og.Model(str(staged))
    assert not staged.exists()  # the linked copy is gone once the model is loaded
    assert _threads() - before <= 2 * child.cpu_count() + 8  # not 1,024
    assert not list(outside.iterdir())  # no profile written outside the folder
    del model


def test_folder_is_used_as_is_when_nothing_is_dropped(tmp_path: Path) -> None:
    cfg = {"model": {"decoder": {"session_options": {"log_id": "x", "provider_options": []}}}}
    with child.allowed_model_folder(tmp_path, cfg) as folder:
        assert folder == tmp_path
