"""Terminal output: golden files at 100 columns without colour, colour rules, widths, --quiet.

The goldens are the CLI's real output for the example artifacts (examples/). When a change to
the budget, the checks or the layout is intended, regenerate them with
``pytest tests/test_render_text.py --update-goldens`` and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli.app import app
from planner.render.terminal import MAX_WIDTH, MIN_WIDTH, TextStyle, choose_style

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

LLAMA = "examples/hf-llama-3.2-1b"
QWEN = "examples/mlc-qwen2.5-0.5b-q4f16_1"
TINY = "examples/onnx-genai-tiny-llama"

CASES = {
    "inspect_mlc_qwen": ["inspect", QWEN],
    "inspect_onnx_tiny": ["inspect", TINY],
    "estimate_onnx_tiny": ["estimate", TINY],
    "estimate_mlc_qwen": ["estimate", QWEN, "-c", "4096", "-p", "1024"],
    "check_llama_ort_pass": [
        "check",
        LLAMA,
        "-r",
        "onnxruntime",
        "-q",
        "int4",
        "-c",
        "4096",
        "-d",
        "pixel-8",
        "-d",
        "iphone-15",
    ],
    "check_llama_mlc_fail": [
        "check",
        LLAMA,
        "-q",
        "q0f16",
        "-c",
        "8192",
        "-p",
        "2048",
        "-d",
        "iphone-12",
        "-d",
        "pixel-8-pro",
    ],
    "suggest_llama_ort": ["suggest", LLAMA, "-r", "onnxruntime", "-d", "iphone-15"],
    "suggest_llama_mlc": ["suggest", LLAMA, "-r", "mlc", "-d", "pixel-8", "--min-context", "4096"],
}


@pytest.fixture()
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment CI and pipes have: no colour variables, 100 columns, repo as cwd."""
    for var in ("NO_COLOR", "FORCE_COLOR", "PLANNER_QUIET"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.chdir(REPO)


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / f"{name}.txt"
    if update:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"missing golden {path}; run pytest --update-goldens"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{name}: output differs from {path}; if the change is intended, "
        "run pytest tests/test_render_text.py --update-goldens and review"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_output(name: str, plain_env: None, update_goldens: bool) -> None:
    code, out, _ = run(CASES[name])
    assert code in (0, 1), out
    assert not ANSI.search(out), "piped output must not carry colour codes"
    if "fail" in name:
        assert code == 1 and "FAIL" in out
    elif name.startswith("check"):
        assert code == 0 and "FAIL" not in out
    check_golden(name, out, update_goldens)


def test_goldens_have_no_orphans() -> None:
    names = {p.stem for p in GOLDEN.glob("*.txt")}
    assert names == set(CASES), "every golden file belongs to a case (delete stale ones)"


def test_lines_fit_the_width(plain_env: None) -> None:
    """Tables wrap within 100 columns; only copyable command lines may run longer."""
    for args in CASES.values():
        _, out, _ = run(args)
        for line in out.splitlines():
            if len(line) > 100:
                assert line.startswith("  ") and (
                    "mlc_llm" in line or "builder" in line or '"' in line
                ), line


def test_commands_are_never_wrapped(plain_env: None) -> None:
    _, out, _ = run(CASES["suggest_llama_mlc"])
    compile_lines = [line for line in out.splitlines() if "mlc_llm compile" in line]
    assert len(compile_lines) == 1
    assert "--overrides" in compile_lines[0] and "-o dist/libs/" in compile_lines[0]


def test_budget_bars_mark_every_device_limit(plain_env: None) -> None:
    _, out, _ = run(CASES["check_llama_ort_pass"])
    # One lettered marker per limit of each device: 70% RAM for both, lmkd for the Pixel,
    # the per-app limit for the iPhone.
    legend = [line for line in out.splitlines() if line.startswith("  ┆")]
    assert len(legend) == 4
    assert any("Google Pixel 8: Android foreground budget" in line for line in legend)
    assert any("Apple iPhone 15: iOS per-app limit" in line for line in legend)
    limits_row = next(line for line in out.splitlines() if line.startswith("limits"))
    assert sorted(re.findall(r"[a-d]", limits_row[60:])) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("width", [MIN_WIDTH, 100, MAX_WIDTH])
def test_any_width_renders(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", str(width))
    for args in (CASES["check_llama_mlc_fail"], CASES["inspect_mlc_qwen"]):
        code, out, _ = run(args)
        assert code in (0, 1)
        table_lines = [ln for ln in out.splitlines() if "mlc_llm" not in ln]
        assert max(len(ln) for ln in table_lines) <= width


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert choose_style(to_tty=True, to_file=False, env={}, columns=120) == TextStyle(120, True)
    assert not choose_style(to_tty=True, to_file=False, env={"NO_COLOR": "1"}, columns=120).color
    # NO_COLOR set but empty does not count (no-color.org).
    assert choose_style(to_tty=True, to_file=False, env={"NO_COLOR": ""}, columns=None).color
    assert not choose_style(to_tty=False, to_file=False, env={}, columns=None).color
    assert choose_style(to_tty=False, to_file=False, env={"FORCE_COLOR": "1"}, columns=None).color
    assert not choose_style(
        to_tty=False, to_file=True, env={"FORCE_COLOR": "1"}, columns=None
    ).color

    def piped_width(columns_env: str) -> int:
        return choose_style(
            to_tty=False, to_file=False, env={"COLUMNS": columns_env}, columns=None
        ).width

    assert piped_width("90") == 90
    assert piped_width("x") == 100
    assert choose_style(to_tty=True, to_file=False, env={}, columns=20).width == MIN_WIDTH
    assert choose_style(to_tty=True, to_file=False, env={}, columns=500).width == MAX_WIDTH


def test_force_color_colours_stdout_but_not_files(
    plain_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(CASES["check_llama_ort_pass"])
    assert ANSI.search(out)
    # Same text once the codes are stripped.
    monkeypatch.delenv("FORCE_COLOR")
    _, plain, _ = run(CASES["check_llama_ort_pass"])
    assert ANSI.sub("", out) == plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    target = tmp_path / "report.txt"
    run([*CASES["check_llama_ort_pass"], "-o", str(target)])
    assert not ANSI.search(target.read_text(encoding="utf-8"))
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(CASES["check_llama_ort_pass"])
    assert not ANSI.search(out)


def test_renderers_ignore_the_environment(plain_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pure renderers draw what the style says, whatever COLUMNS or FORCE_COLOR say."""
    from planner.registry import read_model
    from planner.render.text import render_spec

    spec = read_model(REPO / QWEN)
    expected = render_spec(spec)
    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert render_spec(spec) == expected
    assert ANSI.search(render_spec(spec, TextStyle(100, True)))


def test_quiet_silences_hints_not_errors(plain_env: None) -> None:
    code, out, err = run(["suggest", LLAMA, "-r", "onnxruntime", "-d", "iphone-15"])
    assert code == 0 and "searching plans" in err
    code, out2, err = run(["--quiet", "suggest", LLAMA, "-r", "onnxruntime", "-d", "iphone-15"])
    assert code == 0 and err == "" and out2 == out
    code, _, err = run(["--quiet", "check", LLAMA, "-d", "no-such-phone"])
    assert code == 2 and err.startswith("error:")


def test_quiet_from_the_environment(plain_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANNER_QUIET", "1")
    code, _, err = run(["suggest", LLAMA, "-r", "onnxruntime", "-d", "iphone-15"])
    assert code == 0 and err == ""


def test_progress_off_a_terminal_is_one_hint_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from planner.cli.output import STATE
    from planner.cli.progress import activity, progress, track

    monkeypatch.setattr(STATE, "quiet", False)
    assert list(track([1, 2, 3], "checking 3 models…")) == [1, 2, 3]
    with progress("drawing…") as advance:
        advance(1, 2)
    with activity("searching…"):
        pass
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["checking 3 models…", "drawing…", "searching…"]
    assert list(track(["only"], "not shown")) == ["only"]
    monkeypatch.setattr(STATE, "quiet", True)
    assert list(track([1, 2], "quiet")) == [1, 2]
    with activity("quiet"):
        pass
    assert capsys.readouterr().err == ""
