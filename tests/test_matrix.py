"""`planner check --config` as a streaming matrix: every job validated up front, bad jobs as
error cases in every report (never a lost report), several outputs from one run, worker
processes, one progress line per job, documented exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import jsonschema
import pytest

from planner import api
from planner.checks import JobOutcome
from planner.matrix import run, validate
from planner.render.formats import StreamFormat
from planner.render.stream import StreamWriter
from planner.request import PlanRequest
from tests.conftest import REPO

EXAMPLES = REPO / "examples"
SCHEMAS = REPO / "src" / "planner" / "schemas"


def _config(tmp_path: Path, jobs: list[dict[str, object]]) -> Path:
    import yaml

    path = tmp_path / "planner.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))
    return path


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


GOOD = {"name": "good", "model": str(EXAMPLES / "hf-llama-3.2-1b"), "devices": ["pixel-8"]}
MISSING = {"name": "missing", "model": "/no/such/model", "devices": ["pixel-8"]}
TYPO = {
    "name": "typo",
    "model": str(EXAMPLES / "hf-llama-3.2-1b"),
    "devices": ["pixle-8", "iphone-15"],
    "quantization": "q9f99",
}


def test_every_problem_is_found_before_the_run() -> None:
    requests = [
        PlanRequest(model=EXAMPLES / "hf-llama-3.2-1b", devices=("pixel-8",), label="good"),
        PlanRequest(model=Path("/no/such"), devices=("pixle-8",), label="both"),
    ]
    problems = validate(requests, api.profiles())
    assert list(problems) == [2]
    message = problems[2].message
    assert "not found" in message and "pixle-8" in message


def test_bad_jobs_become_error_cases_in_every_report(tmp_path: Path) -> None:
    cfg = _config(tmp_path, [GOOD, MISSING, TYPO])
    out = {f: tmp_path / f"report.{f}" for f in ("jsonl", "junit", "sarif", "github", "summary")}
    proc = _cli(
        "check", "--config", str(cfg), *(x for f, p in out.items() for x in (f"--{f}", str(p)))
    )
    assert proc.returncode == 3, proc.stderr  # a job could not be planned
    # All problems up front, one line each, with the job's name.
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: jobs[")]
    assert [e.split(" (")[0] for e in errors] == ["error: jobs[2]", "error: jobs[3]"]
    assert "(typo)" in errors[1] and "q9f99" in errors[1]
    lines = [json.loads(x) for x in out["jsonl"].read_text().splitlines()]
    job_schema = json.loads((SCHEMAS / "check-job.schema.json").read_text())
    for line in lines[:-1]:
        jsonschema.validate(line, job_schema)
    assert [x["status"] for x in lines[:-1]] == ["pass", "error", "error"]
    assert lines[-1]["kind"] == "check-summary"
    junit = xml.dom.minidom.parse(str(out["junit"]))
    root = junit.documentElement
    assert root.getAttribute("errors") == "2"
    sarif = json.loads(out["sarif"].read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["planner-error"] * 2
    assert out["github"].read_text().count("::error") == 2
    assert "missing" in out["summary"].read_text()


def test_progress_line_per_job_and_one_run_for_several_outputs(tmp_path: Path) -> None:
    cfg = _config(tmp_path, [GOOD, {**GOOD, "name": "good-ios", "devices": ["iphone-15"]}])
    junit, sarif = tmp_path / "j.xml", tmp_path / "s.sarif"
    proc = _cli("check", "--config", str(cfg), "--junit", str(junit), "--sarif", str(sarif))
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert [p.split()[0] for p in progress] == ["[1/2]", "[2/2]"]
    assert all(" PASS " in p and p.endswith(" ms") for p in progress)
    assert junit.is_file() and sarif.is_file()
    # stdout is the compact summary: one row per job, not a table per device.
    rows = proc.stdout.splitlines()
    assert rows[0].startswith("status") and len(rows) == 4


def test_workers_give_the_same_reports(tmp_path: Path) -> None:
    cfg = _config(tmp_path, [GOOD, {**GOOD, "name": "two", "devices": ["iphone-15-pro"]}, MISSING])
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    _cli("check", "--config", str(cfg), "--jsonl", str(one))
    _cli("check", "--config", str(cfg), "--jsonl", str(two), "-j", "2")

    def strip(path: Path) -> list[dict[str, object]]:
        return [
            {k: v for k, v in json.loads(x).items() if k != "seconds"}
            for x in path.read_text().splitlines()
        ]

    assert strip(one) == strip(two)


def test_a_failed_run_leaves_the_previous_report(tmp_path: Path) -> None:
    cfg = _config(tmp_path, [GOOD])
    report = tmp_path / "report.xml"
    report.write_text("previous")
    proc = _cli("check", "--config", str(cfg), "--junit", str(tmp_path / "nope" / "r.xml"))
    assert proc.returncode == 3 and "output folder does not exist" in proc.stderr
    assert report.read_text() == "previous"


def test_streamed_memory_does_not_hold_results() -> None:
    # The run yields results one by one; a writer only keeps counters.
    requests = [PlanRequest(model=EXAMPLES / "hf-llama-3.2-1b", devices=("pixel-8",))] * 3
    sink = io.StringIO()
    writer = StreamWriter(StreamFormat.summary, sink)
    writer.begin()
    count = 0
    for result in run(requests, api.profiles(), [StreamFormat.summary]):
        assert result.run is None  # nothing kept unless asked for
        writer.add(dict(result.fragments)[StreamFormat.summary])
        count += 1
    writer.end("done")
    assert count == 3 and sink.getvalue().count("PASS") == 3


@pytest.mark.parametrize("fmt", ["junit", "sarif", "github"])
def test_primary_format_streams_too(tmp_path: Path, fmt: str) -> None:
    cfg = _config(tmp_path, [GOOD, MISSING])
    target = tmp_path / f"out.{fmt}"
    proc = _cli("check", "--config", str(cfg), "--format", fmt, "-o", str(target))
    assert proc.returncode == 3
    text = target.read_text()
    assert ("planner-error" in text) or ("::error" in text) or ('errors="1"' in text)


def test_job_outcome_status() -> None:
    outcome = JobOutcome(1, "x", "x", None, "boom")
    assert outcome.status_text(False) == "error"
