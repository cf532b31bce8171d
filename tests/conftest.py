"""Shared fixtures: public HF configs as specs, bundled device profiles."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from planner.device import DeviceProfile
from planner.device_loader import load_profiles
from planner.spec import ModelSpec
from planner_adapters.hf_config import spec_from_hf_config

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parent.parent


def hf_spec(name: str) -> ModelSpec:
    """Spec of a public config from tests/data/hf_configs."""
    path = DATA / "hf_configs" / f"{name}.json"
    return spec_from_hf_config(json.loads(path.read_text()), source=name, path=path, name=name)


def bfc_sim() -> ModuleType:
    """benchmarks/ort_bench/bfc_sim.py (a script, not a package module): replays allocation
    traces through planner's model of onnxruntime's arena."""
    path = REPO / "benchmarks" / "ort_bench" / "bfc_sim.py"
    spec = importlib.util.spec_from_file_location("bfc_sim", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def logged_extensions(build: str, pattern: str) -> list[list[tuple[int, int]]]:
    """(request, region bytes) of every arena extension onnxruntime 1.32 logged, per pass, for
    ``build``'s 4096 → 4097-token prompts with the memory pattern ``on`` or ``off``
    (benchmarks/results/ort_rerun_probe.json)."""
    probe = REPO / "benchmarks" / "results" / "ort_rerun_probe.json"
    for r in json.loads(probe.read_text()):
        if (r["ort"], r["build"], r["sequence"], r.get("mem_pattern")) == (
            "1.32",
            build,
            "4096,4097",
            pattern,
        ):
            return [
                [(e["request"], e["region"]) for e in p["arena_extensions"]] for p in r["passes"]
            ]
    raise AssertionError(f"{build} {pattern}: not in {probe.name}")


@pytest.fixture(scope="session")
def spec_of() -> Callable[[str], ModelSpec]:
    return hf_spec


@pytest.fixture(scope="session")
def profiles() -> tuple[DeviceProfile, ...]:
    return load_profiles()


@pytest.fixture(scope="session")
def device(profiles: tuple[DeviceProfile, ...]) -> Callable[[str], DeviceProfile]:
    from planner.device_tiers import resolve_device

    return lambda name: resolve_device(name, profiles)


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-goldens``: rewrite tests/golden/*.txt from the current output (then review)."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite golden files in tests/golden/ instead of comparing",
    )


@pytest.fixture(scope="session")
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))
