"""``python -m build`` gives an sdist and a wheel that install in a fresh venv and run.

This is how the CI examples and the composite action install planner (from the repository or a
built wheel, never from a registry by name), so it is tested the same way: build both, install
each into its own new virtual environment, run ``planner --help`` and ``planner devices``
(which needs the bundled device profiles, i.e. the package data made it in).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest.importorskip("build")


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        argv, capture_output=True, text=True, check=False, env=env, timeout=600, **kw
    )


@pytest.mark.slow
def test_sdist_and_wheel_install_in_a_fresh_venv(tmp_path: Path) -> None:
    # Build from a clean copy: no stale build/ or egg-info of the working tree leaks in.
    src = tmp_path / "src"
    junk = ("build", "dist", "*.egg-info", ".venv*", "__pycache__", ".*_cache", ".hypothesis")
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", *junk))
    out = tmp_path / "dist"
    # No isolation: the build requirements come with the test extra, so nothing is fetched.
    argv = [sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "-o", str(out)]
    built = _run([*argv, str(src)])
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = next(out.glob("mlc_planner-*.whl"))
    sdist = next(out.glob("mlc_planner-*.tar.gz"))
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    py, planner = venv / "bin" / "python", venv / "bin" / "planner"
    # The wheel with its dependencies, then the sdist over it (built from source, no deps).
    for artifact, extra in ((wheel, []), (sdist, ["--force-reinstall", "--no-deps"])):
        inst = _run([str(py), "-m", "pip", "install", "--quiet", *extra, str(artifact)])
        assert inst.returncode == 0, inst.stderr[-2000:]
        helped = _run([str(planner), "--help"], cwd=tmp_path)
        assert helped.returncode == 0 and "suggest" in helped.stdout, helped.stderr
        devices = _run([str(planner), "devices"], cwd=tmp_path)
        assert devices.returncode == 0 and "iphone-15-pro" in devices.stdout, devices.stderr
