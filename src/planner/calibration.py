"""Calibration files: a team's own measurement of a runtime's fixed terms (pure data + file I/O).

The memory models are mechanisms, but what a runtime costs before any model — its session heap,
the library code a session pages in — depends on the runtime version, the platform and the
execution provider, and was measured on one machine only. ``planner measure --calibration-out
FILE`` runs a model for real and records, per (runtime, version, platform, execution provider),
the fixed bytes that make planner's estimate of that run equal to the measurement; ``estimate``,
``check`` and ``suggest`` then use them (``--calibration FILE`` or ``calibration:`` in
planner.yaml). The file is JSON::

    {
      "schema": "planner-calibration/1",
      "entries": [
        {
          "runtime": "onnxruntime",
          "runtime_version": "1.32.0",
          "platform": "linux-x86_64",
          "execution_provider": "cpu",
          "fixed_bytes": 25690112,
          "samples": [
            {"model": "phi-3-mini-int4", "prefill": 512, "context": 2048,
             "measured_bytes": 2900000000, "estimated_bytes": 2890000000,
             "fixed_bytes": 25690112, "measured_at": "2026-12-01T12:00:00Z",
             "machine": "Linux-6.8-aarch64 (8 CPUs, 8 GiB)"}
          ]
        }
      ]
    }

``fixed_bytes`` of an entry is the median of its samples' ``fixed_bytes`` (each sample: measured
peak − the estimate's variable terms). Entries match on the runtime, the version's major.minor,
the platform and the execution provider.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planner.errors import ConfigFileError
from planner.io.jsonio import read_json

SCHEMA = "planner-calibration/1"
MAX_SAMPLES = 1000
_TEXT = 512


@dataclass(frozen=True, slots=True)
class CalibrationSample:
    """One measured run behind an entry."""

    model: str
    prefill: int
    context: int
    measured_bytes: int
    estimated_bytes: int
    """planner's estimate of the run with the uncalibrated fixed terms."""
    fixed_bytes: int
    """measured − (estimate − its fixed terms): the fixed terms this run implies."""
    measured_at: str = ""
    machine: str = ""


@dataclass(frozen=True, slots=True)
class CalibrationEntry:
    """The fixed terms of one runtime version on one platform and execution provider."""

    runtime: str
    runtime_version: str
    platform: str
    execution_provider: str
    fixed_bytes: int
    samples: tuple[CalibrationSample, ...] = ()

    def matches(self, runtime: str, version: str, platform: str, provider: str) -> bool:
        """Same runtime, major.minor version, platform and execution provider."""
        return (
            self.runtime == runtime
            and _minor(self.runtime_version) == _minor(version)
            and self.platform == platform
            and self.execution_provider == provider
        )

    @property
    def label(self) -> str:
        """``onnxruntime 1.32.0 on linux-x86_64 (cpu)``."""
        return (
            f"{self.runtime} {self.runtime_version} on {self.platform} ({self.execution_provider})"
        )


@dataclass(frozen=True, slots=True)
class Calibration:
    """A calibration file's entries (hashable: it travels inside ``RuntimeSettings``)."""

    entries: tuple[CalibrationEntry, ...]
    path: str = ""
    """The file it was read from (shown in assumptions)."""

    def find(
        self, runtime: str, version: str, platform: str, provider: str = "cpu"
    ) -> CalibrationEntry | None:
        """The entry for this runtime version, platform and execution provider, if any."""
        for entry in self.entries:
            if entry.matches(runtime, version, platform, provider):
                return entry
        return None

    def with_sample(
        self,
        runtime: str,
        version: str,
        platform: str,
        provider: str,
        sample: CalibrationSample,
    ) -> Calibration:
        """A copy with ``sample`` added to its entry (created when missing); the entry's fixed
        bytes become the median of its samples."""
        entries = list(self.entries)
        for i, entry in enumerate(entries):
            if entry.matches(runtime, version, platform, provider):
                samples = (*entry.samples, sample)[-MAX_SAMPLES:]
                entries[i] = replace(
                    entry,
                    runtime_version=version,
                    samples=samples,
                    fixed_bytes=_median(samples),
                )
                break
        else:
            entries.append(
                CalibrationEntry(
                    runtime, version, platform, provider, sample.fixed_bytes, (sample,)
                )
            )
        return Calibration(tuple(entries), self.path)

    def to_json(self) -> dict[str, Any]:
        """The file's JSON document."""
        return {
            "schema": SCHEMA,
            "entries": [
                {
                    "runtime": e.runtime,
                    "runtime_version": e.runtime_version,
                    "platform": e.platform,
                    "execution_provider": e.execution_provider,
                    "fixed_bytes": e.fixed_bytes,
                    "samples": [
                        {
                            "model": s.model,
                            "prefill": s.prefill,
                            "context": s.context,
                            "measured_bytes": s.measured_bytes,
                            "estimated_bytes": s.estimated_bytes,
                            "fixed_bytes": s.fixed_bytes,
                            "measured_at": s.measured_at,
                            "machine": s.machine,
                        }
                        for s in e.samples
                    ],
                }
                for e in self.entries
            ],
        }

    def dumps(self) -> str:
        """The file's text."""
        return json.dumps(self.to_json(), indent=2) + "\n"


def _minor(version: str) -> str:
    return ".".join(version.strip().lstrip("v").split(".")[:2])


def _median(samples: tuple[CalibrationSample, ...]) -> int:
    return round(statistics.median(s.fixed_bytes for s in samples))


def load_calibration(path: Path) -> Calibration:
    """Read and validate a calibration file (a missing or malformed one is an error naming it)."""
    doc = read_json(path, "calibration file")
    where = str(path)

    def fail(msg: str) -> ConfigFileError:
        return ConfigFileError(msg, path=where)

    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise fail(f'not a planner calibration file (expected "schema": "{SCHEMA}")')
    raw = doc.get("entries")
    if not isinstance(raw, list):
        raise fail("'entries' must be a list")
    entries = []
    for i, e in enumerate(raw, 1):
        at = f"entries[{i}]"
        if not isinstance(e, dict):
            raise fail(f"{at} must be an object")
        samples_raw = e.get("samples", [])
        if not isinstance(samples_raw, list) or len(samples_raw) > MAX_SAMPLES:
            raise fail(f"{at}.samples must be a list of at most {MAX_SAMPLES}")
        samples = tuple(
            _sample(s, f"{at}.samples[{j}]", fail) for j, s in enumerate(samples_raw, 1)
        )
        entries.append(
            CalibrationEntry(
                runtime=_text(e, "runtime", at, fail),
                runtime_version=_text(e, "runtime_version", at, fail),
                platform=_text(e, "platform", at, fail),
                execution_provider=_text(e, "execution_provider", at, fail),
                fixed_bytes=_bytes(e, "fixed_bytes", at, fail, signed=True),
                samples=samples,
            )
        )
    return Calibration(tuple(entries), where)


def _text(d: dict[str, Any], key: str, at: str, fail: Any, required: bool = True) -> str:
    value = d.get(key, None if required else "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > _TEXT:
        raise fail(f"{at}.{key} must be a non-empty string of at most {_TEXT} characters")
    if any(ord(ch) < 32 for ch in value):
        raise fail(f"{at}.{key} contains control characters")
    return value


def _bytes(d: dict[str, Any], key: str, at: str, fail: Any, signed: bool = False) -> int:
    value = d.get(key)
    limit = 1 << 50
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > limit:
        raise fail(f"{at}.{key} must be an integer number of bytes")
    if value < 0 and not signed:
        raise fail(f"{at}.{key} must not be negative")
    return value


def _sample(s: Any, at: str, fail: Any) -> CalibrationSample:
    if not isinstance(s, dict):
        raise fail(f"{at} must be an object")
    return CalibrationSample(
        model=_text(s, "model", at, fail),
        prefill=_bytes(s, "prefill", at, fail),
        context=_bytes(s, "context", at, fail),
        measured_bytes=_bytes(s, "measured_bytes", at, fail),
        estimated_bytes=_bytes(s, "estimated_bytes", at, fail),
        fixed_bytes=_bytes(s, "fixed_bytes", at, fail, signed=True),
        measured_at=_text(s, "measured_at", at, fail, required=False),
        machine=_text(s, "machine", at, fail, required=False),
    )
