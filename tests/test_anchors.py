"""suggest against MLC's own shipped app configs: on each model and phone MLC ships for, the plan
is at least as good (no larger expected quality loss, no shorter context) — or planner says why
not with numbers, and the reason is MLC's own choice keeping less than the margin spare."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner import api
from planner.request import PlanRequest
from planner.settings import CheckOptions
from planner.suggest.anchors import compare
from planner.suggest.objective import DEFAULT_MARGIN

REPO = Path(__file__).resolve().parent.parent
ANCHORS = json.loads((REPO / "tests/data/anchors/mlc_shipped.json").read_text())["anchors"]


def _folder(tmp_path: Path, model: str) -> Path:
    folder = tmp_path / model
    folder.mkdir()
    cfg = json.loads((REPO / "tests/field/models" / f"{model}.json").read_text())
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


@pytest.mark.parametrize("anchor", ANCHORS, ids=[f"{a['app']}-{a['model']}" for a in ANCHORS])
def test_suggest_matches_or_beats_mlc_shipped_choice(
    tmp_path: Path, anchor: dict[str, Any]
) -> None:
    options = CheckOptions(entitlement=anchor["entitlement"])
    request = PlanRequest(
        model=_folder(tmp_path, anchor["model"]), devices=(anchor["device"],), options=options
    )
    models = api.read(request)
    (device,) = api.devices(request)
    plan = api.suggest(request, models=models)
    assert plan.chosen is not None, plan.advice
    # Precision by target: a phone GPU has f16, so no f32-activation scheme is chosen.
    assert "f32" not in plan.chosen.quantization
    assert plan.chosen.scores is not None and plan.chosen.scores.headroom >= DEFAULT_MARGIN - 1e-9
    result = compare(
        plan,
        models.spec,
        models.settings,
        device,
        options,
        quantization=anchor["quantization"],
        context=anchor["context"],
        prefill=anchor["prefill"],
        sliding_window=anchor["sliding_window"],
        margin=DEFAULT_MARGIN,
    )
    if not result.at_least_as_good:
        # The only acceptable reason: MLC's own choice does not keep the margin on this phone.
        assert result.their_headroom is None or result.their_headroom < DEFAULT_MARGIN, result
        assert "margin" in result.reason and "%" in result.reason
