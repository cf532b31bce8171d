#!/usr/bin/env python3
"""Render the pictures in docs/images/ so a reviewer can look rather than read.

Writes, from the example artifacts in examples/ and the bundled device profiles:

* ``terminal-check.svg`` / ``.png``   — ``planner check`` in a colour terminal (rich's SVG export);
* ``terminal-suggest.svg`` / ``.png`` — ``planner suggest`` with the commands to copy;
* ``chart.svg``                       — ``planner plot -o chart.svg`` (hand-written SVG);
* ``chart.png``                       — ``planner plot -o chart.png`` (matplotlib, the plot extra);
* ``report.png``                      — ``planner check --format html`` in headless Chromium.

PNGs of SVG and HTML need a Chromium (``apt-get install chromium``); ``chart.png`` needs
matplotlib (``pip install 'mlc-planner[plot]'``). What cannot be drawn is skipped with a note.

Usage: ``python scripts/render_screenshots.py [--out docs/images]``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import RenderableType

REPO = Path(__file__).resolve().parent.parent
LLAMA = Path("examples") / "hf-llama-3.2-1b"  # relative: paths in the pictures stay short
WIDTH = 100
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_binary() -> str | None:
    return next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)


def screenshot(page: Path, out: Path, width: int, height: int) -> bool:
    """Screenshot a local page with headless Chromium (fresh profile, no network services)."""
    binary = chromium_binary()
    if binary is None:
        print(f"skip {out.name}: no Chromium (apt-get install chromium)", file=sys.stderr)
        return False
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                f"--screenshot={out}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
    if result.returncode != 0 or not out.is_file():
        print(
            f"skip {out.name}: Chromium failed: {result.stderr.decode(errors='replace')[-500:]}",
            file=sys.stderr,
        )
        return False
    return True


def trim_bottom(png: Path, margin: int = 24) -> None:
    """Cut the empty (white) rows below the content, when Pillow is available."""
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return
    with Image.open(png) as img:
        rgb = img.convert("RGB")
        bbox = ImageChops.difference(rgb, Image.new("RGB", rgb.size, (255, 255, 255))).getbbox()
        if bbox is None:
            return
        rgb.crop((0, 0, rgb.width, min(rgb.height, bbox[3] + margin))).save(png, optimize=True)


def svg_size(svg: str) -> tuple[int, int]:
    m = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)
    if not m:
        return 1000, 800
    return int(float(m.group(1))) + 1, int(float(m.group(2))) + 1


def svg_to_png(svg_path: Path, png_path: Path) -> bool:
    svg = svg_path.read_text(encoding="utf-8")
    w, h = svg_size(svg)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><style>html,body{margin:0;"
            f"background:#fff}}svg{{display:block;width:{w}px;height:{h}px}}</style></head>"
            f"<body>{svg}</body></html>",
            encoding="utf-8",
        )
        return screenshot(page, png_path, w, h)


def terminal_svg(renderables: Sequence[RenderableType], title: str, out: Path) -> None:
    from planner.render.terminal import recording_console

    console = recording_console(WIDTH)
    for r in renderables:
        console.print(r)
    out.write_text(console.export_svg(title=title), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render docs/images/.")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    os.chdir(REPO)
    out.mkdir(parents=True, exist_ok=True)

    from planner.api import check_devices, load_profiles, resolve_devices
    from planner.checks import CheckOptions, ModelReports
    from planner.plot import memory_curve
    from planner.registry import read_model
    from planner.render.html import render_check_html
    from planner.render.svg_chart import render_svg
    from planner.render.terminal import TextStyle, check_view, plan_view
    from planner.settings import Runtime, RuntimeSettings
    from planner.suggest import suggest

    profiles = load_profiles()
    spec = read_model(LLAMA)
    style = TextStyle(WIDTH, True)
    options = CheckOptions()
    written: list[Path] = []

    # planner check examples/hf-llama-3.2-1b -q q0f16 -c 8192 -p 1024 -d pixel-8 -d iphone-12
    # (float16 weights: fits the Pixel, not the 4 GB iPhone, so both outcomes show)
    settings = RuntimeSettings(
        runtime=Runtime.MLC, quantization="q0f16", context=8192, prefill=1024
    )
    devices = resolve_devices(["pixel-8", "iphone-12"], profiles)
    reports = check_devices(spec, settings, devices, options)
    label = "examples/hf-llama-3.2-1b"
    terminal_svg(
        check_view([(label, reports)], False, style),
        "planner check examples/hf-llama-3.2-1b -q q0f16 -c 8192 -p 1024 -d pixel-8 -d iphone-12",
        out / "terminal-check.svg",
    )
    written.append(out / "terminal-check.svg")

    # planner suggest examples/hf-llama-3.2-1b -d iphone-15
    plan = suggest(
        spec,
        RuntimeSettings(runtime=Runtime.MLC),
        resolve_devices(["iphone-15"], profiles),
        options,
    )
    terminal_svg(
        plan_view(plan, style),
        "planner suggest examples/hf-llama-3.2-1b -d iphone-15",
        out / "terminal-suggest.svg",
    )
    written.append(out / "terminal-suggest.svg")

    # planner plot examples/hf-llama-3.2-1b -q q0f16 -c 8192 -p 1024 -d pixel-8 -d iphone-12
    curve = memory_curve(spec, settings, devices, options)
    (out / "chart.svg").write_text(render_svg(curve), encoding="utf-8")
    written.append(out / "chart.svg")
    try:
        from planner.render.png_chart import render_png

        (out / "chart.png").write_bytes(render_png(curve))
        written.append(out / "chart.png")
    except ImportError:
        print("skip chart.png: matplotlib is not installed", file=sys.stderr)
    except Exception as exc:  # MissingDependencyError
        print(f"skip chart.png: {exc}", file=sys.stderr)

    written.extend(
        out / f"{name}.png"
        for name in ("terminal-check", "terminal-suggest")
        if svg_to_png(out / f"{name}.svg", out / f"{name}.png")
    )

    # planner check ... --format html
    html = render_check_html([ModelReports(label, tuple(reports))], [curve])
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        if screenshot(page, out / "report.png", 1100, 8000):
            trim_bottom(out / "report.png")
            written.append(out / "report.png")

    for p in written:
        print(f"wrote {p.relative_to(REPO) if p.is_relative_to(REPO) else p}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
