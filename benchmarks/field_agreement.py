"""planner's verdicts against what happened on real devices (not a test: run it and record the
output in BENCHMARKS.md; ``tests/test_field.py`` asserts on the same numbers).

For every report in ``tests/field/reports.yaml`` this runs the ``planner check`` the report
implies (``planner.field``: device, model config, runtime, settings) and prints the verdict
next to the outcome, with the binding rule and its margin, then agreement tables: tune vs
holdout, clear vs partial, by platform and by runtime, and what was skipped and why.

    python benchmarks/field_agreement.py [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import yaml

from planner.field import Agreement, Verdict, agreement, evaluate_all, platform

REPO = Path(__file__).resolve().parents[1]
FIELD = REPO / "tests/field"


def stage(tmp: Path) -> dict[str, Path]:
    """Each models/*.json as the config.json of its own folder (a Hugging Face folder)."""
    folders: dict[str, Path] = {}
    for path in sorted((FIELD / "models").glob("*.json")):
        folder = tmp / path.stem
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(json.loads(path.read_text())))
        folders[f"models/{path.name}"] = folder
    return folders


def _verdict_text(passes: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: "—"}[passes]


def _row(v: Verdict) -> str:
    r = v.report
    if v.skipped:
        return f"| {r.id} | {r.split} | {r.clarity} | {r.outcome} | skipped: {v.skipped} | | | |"
    cells = []
    for c in v.cases:
        rule = "—"
        if c.tightest is not None:
            rule = c.tightest.id
            if c.tightest.status.value != "pass":
                rule += f" {c.tightest.status.value}"
        margin = f"{c.margin_mib:+,.0f}" if c.margin_mib is not None else "—"
        cells.append(
            f"{c.device} ({c.device_kind}), {Path(c.model).stem}, {c.settings}: "
            f"{_verdict_text(c.passes)} [{rule} {margin} MiB]"
        )
    if not v.scored:
        mark = "not scored" + (
            f" (memory flagged: {'yes' if v.flags_memory else 'no'})"
            if r.expected is None
            else " (variants disagree)"
        )
    else:
        mark = "agree" if v.agrees else "**DISAGREE**"
    return (
        f"| {r.id} | {r.split} | {r.clarity} | {r.outcome} | {_verdict_text(v.predicted)} | "
        f"{mark} | {'<br>'.join(cells)} |"
    )


def _table(title: str, groups: Iterable[Agreement]) -> list[str]:
    lines = [
        f"| {title} | scored | agree | agreement | not scored | skipped |",
        "|---|---|---|---|---|---|",
    ]
    for a in groups:
        share = f"{a.share:.0%}" if a.share is not None else "—"
        lines.append(
            f"| {a.label} | {a.scored} | {a.agreed} | {share} | {a.unscored} | {a.skipped} |"
        )
    return lines


def report(verdicts: list[Verdict]) -> list[str]:
    """The whole printout (markdown)."""
    lines = [
        "| report | split | clarity | outcome | planner | | device, model, settings: verdict "
        "[tightest rule, margin] |",
        "|---|---|---|---|---|---|---|",
        *(_row(v) for v in verdicts),
        "",
    ]

    def pick(split: str | None = None, clarity: str | None = None) -> list[Verdict]:
        return [
            v
            for v in verdicts
            if (split is None or v.report.split == split)
            and (clarity is None or v.report.clarity == clarity)
        ]

    rows = [
        agreement(f"{split} · {clarity}", pick(split, clarity))
        for split in ("tune", "holdout")
        for clarity in ("clear", "partial")
    ]
    rows += [agreement(f"{split} · all", pick(split)) for split in ("tune", "holdout")]
    rows.append(agreement("all", verdicts))
    lines += [*_table("split · clarity", rows), ""]
    platforms = sorted({platform(v.report) for v in verdicts})
    lines += [
        *_table(
            "platform (tune / holdout)",
            [
                agreement(f"{p} · {s}", [v for v in pick(s) if platform(v.report) == p])
                for p in platforms
                for s in ("tune", "holdout")
            ],
        ),
        "",
    ]
    runtimes = sorted({v.report.runtime for v in verdicts if not v.skipped})
    lines += [
        *_table(
            "runtime (tune / holdout)",
            [
                agreement(f"{rt} · {s}", [v for v in pick(s) if v.report.runtime == rt])
                for rt in runtimes
                for s in ("tune", "holdout")
            ],
        ),
        "",
    ]
    reasons = Counter(
        (v.skipped.split(":")[0] if v.skipped.startswith("planner") else v.skipped)
        for v in verdicts
        if v.skipped
    )
    lines += ["| skipped because | reports |", "|---|---|"]
    lines += [f"| {reason} | {n} |" for reason, n in sorted(reasons.items())]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reports",
        type=Path,
        default=FIELD / "reports.yaml",
        help="reports file (default tests/field/reports.yaml; the batches collected after the "
        "model was frozen: tests/field/reports_batch2.yaml, reports_batch3.yaml, "
        "reports_batch4.yaml)",
    )
    args = parser.parse_args(argv)
    raw = yaml.safe_load(args.reports.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        verdicts = evaluate_all(raw, stage(Path(tmp)))
    print("\n".join(report(verdicts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
