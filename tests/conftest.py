"""Shared fixtures: public HF configs as specs, bundled device profiles."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

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
