"""The memory-against-context chart: its data, the hand-written SVG, PNG via matplotlib, the CLI."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.budget import CATEGORIES
from planner.checks import CheckOptions, check_device
from planner.cli.app import app
from planner.errors import ExitCode, MissingDependencyError
from planner.plot import memory_curve
from planner.render.png_chart import render_png
from planner.render.svg_chart import nice_step, render_svg
from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings

REPO = Path(__file__).resolve().parent.parent
LLAMA = REPO / "examples" / "hf-llama-3.2-1b"
SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def curve_inputs(spec_of, device):  # type: ignore[no-untyped-def]
    spec = spec_of("llama-3.2-1b")
    settings = RuntimeSettings(runtime=Runtime.ONNXRUNTIME, quantization="int4", context=4096)
    return spec, settings, [device("pixel-8"), device("iphone-15")]


def test_curve_matches_the_budget_engine(curve_inputs) -> None:  # type: ignore[no-untyped-def]
    spec, settings, devices = curve_inputs
    curve = memory_curve(spec, settings, devices, points=16)
    assert curve.categories == CATEGORIES
    contexts = [p.context for p in curve.points]
    assert contexts == sorted(set(contexts)) and contexts[0] == 1
    assert curve.x_max == spec.max_context  # 131072: the range max_context searches
    base = estimate(spec, settings)
    for p in curve.points[::5]:
        from dataclasses import replace

        b = estimate(spec, replace(settings, context=p.context, prefill=base.settings.prefill))
        assert p.category_bytes == tuple(b.category_bytes(c) for c in CATEGORIES)
        assert p.total_bytes == b.total_bytes
    kv = [p.category_bytes[CATEGORIES.index("kv_cache")] for p in curve.points]
    assert kv == sorted(kv) and kv[-1] > kv[0]  # KV grows with context, never shrinks


def test_curve_marks_the_checks_largest_context(curve_inputs) -> None:  # type: ignore[no-untyped-def]
    spec, settings, devices = curve_inputs
    curve = memory_curve(spec, settings, devices, points=8)
    for fit, d in zip(curve.devices, devices, strict=True):
        report = check_device(spec, settings, d, CheckOptions())
        assert fit.max_context == report.max_context
        assert fit.device_id == d.id
        # Every limit drawn is a limit some check of this report compares against.
        limits = {(c.id, c.limit_bytes) for c in report.checks}
        assert {(lim.check_id, lim.limit_bytes) for lim in fit.limits} <= limits
        assert fit.limits and not fit.fits_whole_range
    # The iPhone's per-app limit is drawn; the Pixel (Android) has no such line.
    assert "ios-app-limit" in {lim.check_id for lim in curve.devices[1].limits}
    assert "ios-app-limit" not in {lim.check_id for lim in curve.devices[0].limits}
    # The curve is sampled at the marks, so the chart shows exactly where it stops fitting.
    contexts = {p.context for p in curve.points}
    assert all(f.max_context in contexts for f in curve.devices)


def test_curve_reports_progress(curve_inputs) -> None:  # type: ignore[no-untyped-def]
    spec, settings, devices = curve_inputs
    seen: list[tuple[int, int]] = []
    memory_curve(spec, settings, devices, points=10, on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and len(seen) >= 10
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_svg_is_well_formed_and_complete(curve_inputs) -> None:  # type: ignore[no-untyped-def]
    spec, settings, devices = curve_inputs
    curve = memory_curve(spec, settings, devices, points=12)
    svg = render_svg(curve)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    areas = root.findall(f".//{SVG_NS}polygon[@class='area']")
    assert [a.get("data-category") for a in areas] == list(CATEGORIES)
    limits = root.findall(f".//{SVG_NS}line[@class='limit']")
    assert len(limits) == sum(len(d.limits) for d in curve.devices)
    fits = root.findall(f".//{SVG_NS}line[@class='fit']")
    assert {f.get("data-device") for f in fits} == {"pixel-8", "iphone-15"}
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert "iPhone 15" in texts and "context length (tokens)" in texts
    assert render_svg(curve) == svg  # deterministic


def test_svg_escapes_names_from_artifacts(curve_inputs) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    spec, settings, devices = curve_inputs
    evil = replace(spec, name='<script>alert("x")</script>&')
    svg = render_svg(memory_curve(evil, settings, devices[:1], points=4))
    ET.fromstring(svg)  # still well-formed
    assert "<script>" not in svg and "&lt;script&gt;" in svg


@pytest.mark.parametrize(
    ("span", "ticks", "step"), [(10, 5, 2), (131072, 6, 25000), (7.3, 5, 2), (0.9, 5, 0.2)]
)
def test_nice_steps(span: float, ticks: int, step: float) -> None:
    assert nice_step(span, ticks) == pytest.approx(step)
    assert span / nice_step(span, ticks) <= ticks  # never more intervals than asked


def test_png_needs_matplotlib(curve_inputs, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    spec, settings, devices = curve_inputs
    curve = memory_curve(spec, settings, devices, points=4)
    # A None entry in sys.modules makes `import matplotlib` fail as if it were not installed.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError) as info:
        render_png(curve)
    assert "mlc-planner[plot]" in (info.value.hint or "")


def test_cli_png_without_matplotlib_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    target = tmp_path / "chart.png"
    result = CliRunner().invoke(app, ["plot", str(LLAMA), "-d", "pixel-8", "-o", str(target)])
    assert result.exit_code == ExitCode.USAGE
    assert "pip install 'mlc-planner[plot]'" in result.stderr
    assert not target.exists()


def test_png_with_matplotlib(curve_inputs) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("matplotlib")
    spec, settings, devices = curve_inputs
    png = render_png(
        memory_curve(spec, settings, devices, points=8), width_in=6, height_in=4, dpi=50
    )
    assert png.startswith(PNG_MAGIC)
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert (width, height) == (300, 200)


def test_cli_writes_svg_and_html(tmp_path: Path) -> None:
    runner = CliRunner()
    svg = runner.invoke(
        app, ["--quiet", "plot", str(LLAMA), "-d", "pixel-8", "-d", "iphone-15", "--points", "8"]
    )
    assert svg.exit_code == 0 and svg.stderr == ""
    ET.fromstring(svg.stdout)
    out = tmp_path / "chart.html"
    html = runner.invoke(
        app, ["plot", str(LLAMA), "-d", "iphone-15", "-o", str(out), "--points", "8"]
    )
    assert html.exit_code == 0, html.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text and "iOS per-app limit" in text


def test_cli_writes_png_with_matplotlib(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "chart.png"
    res = CliRunner().invoke(
        app, ["plot", str(LLAMA), "-d", "pixel-8", "-o", str(png), "--points", "6"]
    )
    assert res.exit_code == 0, res.stderr
    assert png.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "chart.png", "--format", "svg"], "does not match"),
        (["--format", "png"], "give a file with -o"),
    ],
)
def test_cli_format_errors(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["plot", str(LLAMA), "-d", "pixel-8", *args])
    assert result.exit_code == ExitCode.USAGE and message in result.stderr
