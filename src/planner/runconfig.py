"""``planner.yaml``: a CI matrix of models × devices × settings (the only YAML run config).

Read through ``planner.io`` like every untrusted file: bounded in size, strict YAML (no aliases,
only core tags, bounded in values and depth), and validated strictly: unknown keys are errors
naming the file, numbers are range-checked (token counts are integers up to
``planner.io.limits.MAX_TOKENS``), strings may not hold control characters, a job's repeated
devices are dropped, a job repeating an earlier one is an error, and the matrix is capped at
``MAX_CHECKS`` model × device checks. Relative paths are relative to the config file's folder.
Schema (docs/reference.md#planneryaml)::

    version: 1
    profiles: [my-devices/]          # optional extra profile folders
    defaults: {runtime: mlc, context: 4096, ...}   # optional, any job key below
    jobs:
      - model: examples/hf-llama-3.2-1b
        devices: [pixel-8-pro, iphone-15-pro]
        quantization: q4f16_1
        entitlement: true
        platform: android-arm64      # onnxruntime: plan for this platform (default: each device's)
        ort_version: "1.32"          # onnxruntime version (default: the newest measured)
        calibration: cal.json        # fixed terms from `planner measure --calibration-out`
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.calibration import Calibration, load_calibration
from planner.errors import ConfigFileError, UsageError
from planner.io.files import read_text
from planner.io.limits import MAX_BATCH, MAX_TOKENS
from planner.io.yamlio import load_yaml
from planner.request import PlanRequest
from planner.settings import CheckOptions, Runtime

MAX_CONFIG_BYTES = 1024 * 1024
MAX_JOBS = 10_000
MAX_CHECKS = 200_000
"""Model × device checks one config may ask for (after repeated devices are dropped): results
stream to the reports, so memory stays flat; the cap only refuses an absurd matrix (a 1 MiB
config can name a million)."""
MAX_TEXT_CHARS = 4096
"""Longest string value (a path is at most 4096 bytes)."""
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_TOKEN_KEYS = ("context", "prefill", "sliding_window", "attention_sink")
JOB_KEYS = {
    "model": str,
    "devices": list,
    "runtime": str,
    "quantization": str,
    "context": int,
    "prefill": int,
    "batch": int,
    "kv_dtype": str,
    "sliding_window": int,
    "attention_sink": int,
    "draft": str,
    "entitlement": bool,
    "ram_fraction": float,
    "adapter": str,
    "name": str,
    "platform": str,
    "ort_version": str,
    "calibration": str,
}


@dataclass(frozen=True, slots=True)
class RunConfig:
    """A parsed planner.yaml."""

    jobs: tuple[PlanRequest, ...]
    profile_dirs: tuple[Path, ...]


def _fail(path: Path, msg: str) -> ConfigFileError:
    return ConfigFileError(msg, path=str(path))


def _check_value(path: Path, where: str, key: str, value: Any) -> Any:
    want = JOB_KEYS[key]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if (want is int and isinstance(value, bool)) or not isinstance(value, want):
        raise _fail(path, f"{where}: {key} must be {want.__name__}, got {type(value).__name__}")
    if key == "runtime" and value not in ("mlc", "onnxruntime"):
        raise _fail(path, f"{where}: runtime must be mlc or onnxruntime, got {value!r}")
    if key == "platform" and isinstance(value, str):
        from planner.runtimes.onnxruntime.platforms import PLATFORMS

        if value not in PLATFORMS:
            raise _fail(path, f"{where}: platform must be one of {', '.join(PLATFORMS)}")
    if key == "ort_version" and isinstance(value, str):
        from planner.runtimes.onnxruntime.versions import parse_version

        try:
            parse_version(value)
        except UsageError as exc:
            raise _fail(path, f"{where}: {exc}") from None
    if key == "ram_fraction" and isinstance(value, float) and not 0.05 <= value <= 1.0:
        raise _fail(path, f"{where}: ram_fraction must be between 0.05 and 1.0, got {value}")
    if isinstance(value, int) and not isinstance(value, bool):
        _check_count(path, where, key, value)
    if key == "devices" and (
        not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
    ):
        raise _fail(path, f"{where}: devices must be a non-empty list of device names")
    texts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    for text in texts:
        _check_text(path, where, key, text)
    return value


def _check_count(path: Path, where: str, key: str, value: int) -> None:
    """Token counts and the batch are positive (a sink may be 0) and bounded."""
    if key in ("context", "prefill", "batch", "sliding_window") and value <= 0:
        raise _fail(path, f"{where}: {key} must be positive, got {value}")
    if key in _TOKEN_KEYS and not 0 <= value <= MAX_TOKENS:
        shown = str(value) if abs(value) < 10**12 else f"a {len(str(value))}-digit number"
        raise _fail(path, f"{where}: {key} must be between 0 and {MAX_TOKENS} tokens, got {shown}")
    if key == "batch" and value > MAX_BATCH:
        raise _fail(path, f"{where}: batch must be at most {MAX_BATCH}, got {value}")


def _check_text(path: Path, where: str, key: str, text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise _fail(path, f"{where}: {key} is longer than {MAX_TEXT_CHARS} characters")
    if _CONTROL.search(text):
        raise _fail(path, f"{where}: {key} contains control characters")


def _calibration(base: Path, name: str | None, seen: dict[Path, Calibration]) -> Calibration | None:
    """The calibration file a job names (relative to the config), read once per run."""
    if name is None:
        return None
    path = base / name
    if path not in seen:
        seen[path] = load_calibration(path)
    return seen[path]


def _unique_devices(names: list[str]) -> tuple[str, ...]:
    """The device names in order, each once (compared without case and extra spaces)."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(" ".join(name.split()).casefold(), name)
    return tuple(seen.values())


def load_run_config(path: Path) -> RunConfig:
    """Read and validate a planner.yaml."""
    text = read_text(path, MAX_CONFIG_BYTES, "config file", ConfigFileError)
    doc = load_yaml(text, str(path), ConfigFileError)
    if not isinstance(doc, dict):
        raise _fail(path, "config must be a mapping with a 'jobs' list")
    unknown = set(doc) - {"version", "profiles", "defaults", "jobs"}
    if unknown:
        raise _fail(
            path,
            f"unknown top-level key(s): {', '.join(sorted(map(str, unknown)))}; "
            "allowed: version, profiles, defaults, jobs",
        )
    if doc.get("version", 1) != 1:
        shown = repr(doc.get("version"))[:40]
        raise _fail(path, f"unsupported config version {shown} (expected 1)")
    base = path.parent
    profiles = doc.get("profiles") or []
    if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
        raise _fail(path, "profiles must be a list of folder paths")
    for folder in profiles:
        _check_text(path, "profiles", "a folder", folder)
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise _fail(path, "defaults must be a mapping")
    for k, v in defaults.items():
        if k not in JOB_KEYS or k in ("model", "name"):
            raise _fail(path, f"defaults: unknown key {str(k)[:80]!r}")
        _check_value(path, "defaults", k, v)
    jobs_raw = doc.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise _fail(path, "jobs must be a non-empty list")
    if len(jobs_raw) > MAX_JOBS:
        raise _fail(path, f"jobs lists {len(jobs_raw)} jobs; planner runs at most {MAX_JOBS}")
    jobs: dict[PlanRequest, int] = {}
    calibrations: dict[Path, Calibration] = {}
    checks = 0
    for i, raw in enumerate(jobs_raw, 1):
        where = f"jobs[{i}]"
        if not isinstance(raw, dict):
            raise _fail(path, f"{where} must be a mapping")
        for k in raw:
            if k not in JOB_KEYS:
                allowed = ", ".join(sorted(JOB_KEYS))
                raise _fail(path, f"{where}: unknown key {str(k)[:80]!r}; allowed: {allowed}")
        merged = {**defaults, **raw}
        for k, v in merged.items():
            _check_value(path, where, k, v)
        if "model" not in merged or "devices" not in merged:
            raise _fail(path, f"{where} needs 'model' and 'devices'")
        model = base / merged.pop("model")
        draft = merged.pop("draft", None)
        label = merged.pop("name", None) or str(Path(raw["model"]))
        runtime = merged.pop("runtime", None)
        calibration = _calibration(base, merged.pop("calibration", None), calibrations)
        version = merged.pop("ort_version", None)
        options = CheckOptions(
            ram_fraction=merged.pop("ram_fraction", CheckOptions().ram_fraction),
            entitlement=merged.pop("entitlement", False),
        )
        job = PlanRequest(
            model=model,
            devices=_unique_devices(merged.pop("devices")),
            label=label,
            draft=base / draft if draft else None,
            runtime=Runtime(runtime) if runtime else None,
            options=options,
            calibration=calibration,
            runtime_version=version,
            **merged,
        )
        if job in jobs:
            first = jobs[job]
            raise _fail(path, f"{where} repeats jobs[{first}] (same model, devices and settings)")
        checks += len(job.devices)
        if checks > MAX_CHECKS:
            raise _fail(
                path,
                f"the jobs ask for over {MAX_CHECKS} model × device checks; split the matrix",
            )
        jobs[job] = i
    return RunConfig(tuple(jobs), tuple(dict.fromkeys(base / p for p in profiles)))
