"""HTML reports: structure, escaping, self-containment, and rendering in a real headless browser.

The browser test runs Chromium when it is installed (``apt-get install chromium``) and is
skipped otherwise; the structural tests need nothing but the standard library.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.checks import CheckOptions, ModelReports, Status, check_device
from planner.cli.app import app
from planner.plot import memory_curve
from planner.render.html import render_check_html, render_plan_html
from planner.settings import Runtime, RuntimeSettings
from planner.suggest import suggest

REPO = Path(__file__).resolve().parent.parent
LLAMA = REPO / "examples" / "hf-llama-3.2-1b"
VOID = {
    "meta",
    "br",
    "link",
    "img",
    "input",
    "hr",
    "col",
    "source",
    "wbr",
    "area",
    "base",
    "embed",
    "param",
    "track",
}
SVG_EMPTY = {"rect", "line", "polygon", "polyline", "path", "circle"}


class Structure(HTMLParser):
    """Checks that every element is closed in order, and collects tags and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Structure:
    s = Structure()
    s.feed(html)
    s.close()
    assert not s.errors, s.errors[:5]
    assert not s.stack, f"unclosed: {s.stack}"
    return s


@pytest.fixture(scope="module")
def check_page(spec_of, device) -> tuple[str, list]:  # type: ignore[no-untyped-def]
    spec = spec_of("llama-3.2-1b")
    settings = RuntimeSettings(
        runtime=Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024
    )
    devices = [device("pixel-8"), device("iphone-12")]
    reports = [check_device(spec, settings, d, CheckOptions()) for d in devices]
    curve = memory_curve(spec, settings, devices, points=12)
    runs = [ModelReports("models/llama-3.2-1b", tuple(reports))]
    return render_check_html(runs, [curve]), reports


def test_check_page_structure(check_page) -> None:  # type: ignore[no-untyped-def]
    html, reports = check_page
    s = parse(html)
    tags = [t for t, _ in s.tags]
    assert tags.count("svg") == 1 and tags.count("figure") == 1
    check_rows = [a for t, a in s.tags if t == "tr" and "check" in (a.get("class") or "")]
    assert len(check_rows) == sum(len(r.checks) for r in reports)
    text = " ".join(s.text)
    for r in reports:
        assert r.device.name in text
        for c in r.checks:
            assert c.title in text and c.source in text
    # Every component of the budget is listed with its formula.
    for c in reports[0].budget.components:
        assert c.label in text and c.formula in text


def test_check_page_is_self_contained(check_page) -> None:  # type: ignore[no-untyped-def]
    html, _ = check_page
    s = parse(html)
    assert "script" not in {t for t, _ in s.tags}
    for tag, attrs in s.tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            assert value is None or value.startswith("#"), (tag, key, value)
    assert "@import" not in html and "url(" not in html


def test_check_page_summary_counts_failures(check_page, spec_of, device) -> None:  # type: ignore[no-untyped-def]
    html, reports = check_page
    failed = sum(1 for r in reports if r.status is Status.FAIL)
    if failed:
        assert f"{failed} of {len(reports)} device check(s) failed" in html
    else:
        assert f"all {len(reports)} device check(s) passed" in html
    assert html == render_check_html(
        [ModelReports("models/llama-3.2-1b", tuple(reports))],
        [
            memory_curve(
                spec_of("llama-3.2-1b"),
                RuntimeSettings(
                    runtime=Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024
                ),
                [device("pixel-8"), device("iphone-12")],
                points=12,
            )
        ],
    )  # deterministic


def test_untrusted_names_are_escaped(spec_of, device) -> None:  # type: ignore[no-untyped-def]
    spec = replace(spec_of("qwen2.5-0.5b"), name='<img src=x onerror="alert(1)">')
    settings = RuntimeSettings(runtime=Runtime.ONNXRUNTIME, quantization="int4", context=1024)
    d = device("pixel-8")
    report = check_device(spec, settings, d, CheckOptions())
    html = render_check_html(
        [ModelReports('<b onclick="x">model</b>', (report,))],
        [memory_curve(spec, settings, [d], points=4)],
    )
    s = parse(html)
    assert "img" not in {t for t, _ in s.tags} and "b" not in {t for t, _ in s.tags}
    assert "&lt;img src=x" in html and "&lt;b onclick=" in html


def test_plan_page(spec_of, device) -> None:  # type: ignore[no-untyped-def]
    spec = spec_of("llama-3.2-1b")
    d = device("iphone-15")
    plan = suggest(spec, RuntimeSettings(runtime=Runtime.MLC), [d])
    assert plan.chosen is not None
    curve = memory_curve(spec, plan.chosen.settings(plan.base), [d], points=8)
    s = parse(render_plan_html(plan, curve))
    text = " ".join(s.text)
    assert f"Chosen: {plan.chosen.quantization}" in text
    assert "mlc_llm compile" in text and "mlc-package-config.json" in text
    for r in plan.runners_up:
        assert r.quantization in text
    pres = [t for t, _ in s.tags if t == "pre"]
    assert len(pres) == 2


def test_plan_page_when_nothing_fits(spec_of, device) -> None:  # type: ignore[no-untyped-def]
    plan = suggest(
        spec_of("llama-3.1-8b"), RuntimeSettings(runtime=Runtime.MLC), [device("iphone-12")]
    )
    assert plan.chosen is None
    s = parse(render_plan_html(plan, None))
    assert "No plan fits" in " ".join(s.text)
    assert "svg" not in {t for t, _ in s.tags}


def test_cli_html_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "check.html"
    res = runner.invoke(app, ["check", str(LLAMA), "-d", "pixel-8", "-f", "html", "-o", str(out)])
    assert res.exit_code in (0, 1), res.stderr
    parse(out.read_text(encoding="utf-8"))
    res = runner.invoke(
        app, ["--quiet", "suggest", str(LLAMA), "-d", "pixel-8", "-r", "onnxruntime", "-f", "html"]
    )
    assert res.exit_code == 0 and res.stderr == ""
    s = parse(res.stdout)
    assert "onnxruntime_genai.models.builder" in " ".join(s.text)


# ----------------------------------------------------------------------------- real browser

CHROMIUM = next(
    (
        shutil.which(n)
        for n in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
        if shutil.which(n)
    ),
    None,
)


def chromium(args: list[str], page: Path) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                *args,
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium installed")
def test_report_renders_in_a_headless_browser(check_page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html, reports = check_page
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    dom = chromium(["--dump-dom"], page)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    rendered = dom.stdout.decode("utf-8")
    # The browser built the document we wrote: the chart, every device section, every check.
    assert "<svg" in rendered and "polygon" in rendered
    for r in reports:
        assert f'id="device-{r.device.id}"' in rendered
    assert rendered.count('class="check ') == sum(len(r.checks) for r in reports)

    shot = tmp_path / "report.png"
    res = chromium([f"--screenshot={shot}", "--window-size=1100,1400"], page)
    assert res.returncode == 0 and shot.is_file(), res.stderr.decode(errors="replace")[-2000:]
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    blank_shot = tmp_path / "blank.png"
    chromium([f"--screenshot={blank_shot}", "--window-size=1100,1400"], blank)
    assert png_size(shot.read_bytes()) == (1100, 1400)
    # A page with a chart, tables and text compresses far worse than an empty one.
    assert shot.stat().st_size > 10 * blank_shot.stat().st_size
