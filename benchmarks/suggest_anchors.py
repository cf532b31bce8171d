"""suggest's choice next to MLC's own shipped choice, per model and phone (not a test: run it and
record the output in BENCHMARKS.md).

MLC's iOS and Android MLCChat apps ship one quantization, context and prefill chunk per model
(``tests/data/anchors/mlc_shipped.json``, with sources). For each, this runs ``planner suggest``
on the same model's published config and MLC's target phone and prints both side by side, with
the expected perplexity loss (``planner.quality``), the tightest limit's spare share, and, when
planner's plan is not at least as good, the reason in numbers.

    python benchmarks/suggest_anchors.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from planner import api
from planner.request import PlanRequest
from planner.settings import CheckOptions
from planner.suggest.anchors import compare
from planner.suggest.objective import DEFAULT_MARGIN

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    doc = json.loads((REPO / "tests/data/anchors/mlc_shipped.json").read_text())
    print(
        "| app | model | phone | MLC ships | its loss % / spare | planner chooses | "
        "loss % / spare | at least as good | why not |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    good = 0
    with tempfile.TemporaryDirectory() as tmp:
        for a in doc["anchors"]:
            folder = Path(tmp) / f"{a['app']}-{a['model']}"
            folder.mkdir()
            cfg = json.loads((REPO / "tests/field/models" / f"{a['model']}.json").read_text())
            (folder / "config.json").write_text(json.dumps(cfg))
            options = CheckOptions(entitlement=a["entitlement"])
            request = PlanRequest(model=folder, devices=(a["device"],), options=options)
            models = api.read(request)
            (device,) = api.devices(request)
            plan = api.suggest(request, models=models)
            r = compare(
                plan,
                models.spec,
                models.settings,
                device,
                options,
                quantization=a["quantization"],
                context=a["context"],
                prefill=a["prefill"],
                sliding_window=a["sliding_window"],
                margin=DEFAULT_MARGIN,
            )
            c = plan.chosen
            ours = "none"
            ours_q = ""
            if c is not None and c.scores is not None:
                window = f", window {c.sliding_window}" if c.sliding_window else ""
                ours = f"{r.ours}{window}"
                ours_q = f"{c.scores.quality_loss_pct:.1f} / {c.scores.headroom:.0%}"
            spare = "fails" if r.their_headroom is None else f"{r.their_headroom:.0%}"
            good += r.at_least_as_good
            print(
                f"| {a['app']} | {a['model']} | {a['device']} | {r.theirs} | "
                f"{r.their_loss_pct:.1f} / {spare} | {ours} | {ours_q} | "
                f"{'yes' if r.at_least_as_good else 'no'} | {r.reason} |"
            )
    print(f"\nat least as good on {good} of {len(doc['anchors'])}; margin {DEFAULT_MARGIN:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
