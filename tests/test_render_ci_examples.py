"""The CI integrations in examples/ and the pre-commit hook run real planner commands.

Every ``planner`` command line in the GitHub Actions workflow, the GitLab job and
.pre-commit-hooks.yaml is run here against examples/planner.yaml, so an option renamed in
the CLI breaks this test rather than a user's pipeline.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from planner.cli.app import app
from planner.runconfig import load_run_config

REPO = Path(__file__).resolve().parent.parent
MATRIX = REPO / "examples" / "planner.yaml"
GITHUB = REPO / "examples" / "ci" / "github-actions.yml"
GITLAB = REPO / "examples" / "ci" / "gitlab-ci.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def planner_lines(script: str) -> list[str]:
    """The ``planner …`` commands of a shell script, without shell plumbing around them."""
    out = []
    for raw in script.splitlines():
        line = raw.strip()
        if line.startswith("NO_COLOR=1 "):
            line = line[len("NO_COLOR=1 ") :]
        if not line.startswith("planner "):
            continue
        for stop in (" || ", " >> ", " | "):
            line = line.split(stop, 1)[0]
        out.append(line)
    return out


def run_line(line: str, tmp_path: Path) -> int:
    argv = shlex.split(line)[1:]
    argv = [str(MATRIX) if a == "planner.yaml" else a for a in argv]
    for i, a in enumerate(argv[:-1]):
        if a in ("-o", "--output"):
            argv[i + 1] = str(tmp_path / Path(argv[i + 1]).name)
    result = CliRunner().invoke(app, argv)
    assert result.exit_code in (0, 1), (line, result.stderr)
    return result.exit_code


def test_sample_matrix_loads_and_passes(tmp_path: Path) -> None:
    config = load_run_config(MATRIX)
    assert len(config.jobs) >= 3
    assert {j.runtime for j in config.jobs} >= {"mlc", "onnxruntime"}
    for job in config.jobs:
        assert job.model.exists(), job.model
    assert run_line("planner check --config planner.yaml", tmp_path) == 0


def test_github_workflow_runs_check_and_uploads_the_report(tmp_path: Path) -> None:
    wf = load(GITHUB)
    jobs = wf["jobs"]
    steps = jobs["plan"]["steps"]
    scripts = "\n".join(s.get("run", "") for s in steps)
    lines = planner_lines(scripts)
    assert any("--format html" in ln for ln in lines)
    assert any("--format github" in ln for ln in lines)
    for line in lines:
        run_line(line, tmp_path)
    assert (tmp_path / "planner-report.html").is_file()
    assert (tmp_path / "planner-junit.xml").is_file()
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert "planner-report.html" in upload["with"]["path"]
    assert jobs["build"]["needs"] == "plan"  # the build waits for the check


def test_gitlab_job_runs_check_before_the_build(tmp_path: Path) -> None:
    ci = load(GITLAB)
    job = ci["planner-check"]
    assert ci["stages"].index(job["stage"]) < ci["stages"].index(ci["build-app"]["stage"])
    lines = planner_lines("\n".join(job["script"]))
    assert lines
    assert all(ln.startswith("planner --quiet check --config planner.yaml") for ln in lines)
    for line in lines:
        run_line(line, tmp_path)
    assert job["artifacts"]["when"] == "always"
    assert job["artifacts"]["reports"]["junit"] == "planner-junit.xml"
    assert (tmp_path / "planner-junit.xml").is_file()


@pytest.mark.parametrize("hook", load(HOOKS), ids=lambda h: h["id"])
def test_pre_commit_hooks(hook: dict[str, Any], tmp_path: Path) -> None:
    import re

    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for touched in (
        "planner.yaml",
        "app/models/mlc-chat-config.json",
        "m/genai_config.json",
        "model.onnx",
    ):
        assert files.search(touched), touched
    assert not files.search("README.md")
    assert run_line(hook["entry"], tmp_path) == 0
