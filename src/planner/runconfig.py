"""``planner.yaml``: a CI matrix of models × devices × settings (the only YAML run config).

Read with ``yaml.safe_load`` semantics (SafeLoader: no Python tags), bounded in size, and
validated strictly: unknown keys are errors naming the file. Relative paths are relative to
the config file's folder. Schema (docs/reference.md#planneryaml)::

    version: 1
    profiles: [my-devices/]          # optional extra profile folders
    defaults: {runtime: mlc, context: 4096, ...}   # optional, any job key below
    jobs:
      - model: examples/hf-llama-3.2-1b
        devices: [pixel-8-pro, iphone-15-pro]
        quantization: q4f16_1
        entitlement: true
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planner.errors import ConfigFileError
from planner.request import PlanRequest
from planner.settings import CheckOptions, Runtime

MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_VALUES = 100_000
"""Values a config may hold once YAML aliases are expanded (a real matrix has a few hundred)."""
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
}


@dataclass(frozen=True, slots=True)
class RunConfig:
    """A parsed planner.yaml."""

    jobs: tuple[PlanRequest, ...]
    profile_dirs: tuple[Path, ...]


def _expanded_size(root: Any, limit: int) -> int | None:
    """Values in ``root`` with every alias expanded (capped at ``limit + 1``), or None when an
    alias is recursive.

    ``safe_load`` shares one object per anchor, so loading a "billion laughs" is cheap, but
    anything that walks or prints the value (an error message's repr) expands it. Counting with
    one entry per shared object keeps this linear in the document.
    """
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if not isinstance(node, (list, dict)):
            continue
        key = id(node)
        children = list(node.values()) if isinstance(node, dict) else node
        if finished:
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            sizes[key] = min(total, limit + 1)
            open_.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_:
            return None
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if isinstance(c, (list, dict)))
    return sizes.get(id(root), 1)


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
    if key == "ram_fraction" and isinstance(value, float) and not 0.05 <= value <= 1.0:
        raise _fail(path, f"{where}: ram_fraction must be between 0.05 and 1.0, got {value}")
    if (
        key in ("context", "prefill", "batch", "sliding_window")
        and isinstance(value, int)
        and value <= 0
    ):
        raise _fail(path, f"{where}: {key} must be positive, got {value}")
    if key == "devices" and (
        not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value)
    ):
        raise _fail(path, f"{where}: devices must be a non-empty list of device names")
    return value


def load_run_config(path: Path) -> RunConfig:
    """Read and validate a planner.yaml."""
    try:
        if not path.is_file():  # never opens a FIFO or device
            kind = (
                "is a directory"
                if path.is_dir()
                else "is not a regular file"
                if path.exists()
                else "not found"
            )
            raise _fail(path, f"config file {kind}")
        with path.open("rb") as fh:
            data = fh.read(MAX_CONFIG_BYTES + 1)  # never more, however large the file
    except OSError as exc:
        raise _fail(path, f"cannot read config: {exc.strerror}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise _fail(path, f"config is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(path, "config is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _fail(path, f"invalid YAML{where}: {problem}") from None
    except RecursionError:
        raise _fail(path, "config nests too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # "!!float x", month 13, 5000 digits
        raise _fail(path, f"invalid YAML value: {' '.join(str(exc).split())[:120]}") from None
    expanded = _expanded_size(doc, MAX_CONFIG_VALUES)
    if expanded is None:
        raise _fail(path, "a YAML alias (*name) refers to the value that contains it")
    if expanded > MAX_CONFIG_VALUES:
        raise _fail(
            path,
            f"YAML aliases expand the config to over {MAX_CONFIG_VALUES} values (an alias bomb?)",
        )
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
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise _fail(path, "defaults must be a mapping")
    for k, v in defaults.items():
        if k not in JOB_KEYS or k in ("model", "name"):
            raise _fail(path, f"defaults: unknown key {k!r}")
        _check_value(path, "defaults", k, v)
    jobs_raw = doc.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise _fail(path, "jobs must be a non-empty list")
    jobs = []
    for i, raw in enumerate(jobs_raw, 1):
        where = f"jobs[{i}]"
        if not isinstance(raw, dict):
            raise _fail(path, f"{where} must be a mapping")
        for k in raw:
            if k not in JOB_KEYS:
                allowed = ", ".join(sorted(JOB_KEYS))
                raise _fail(path, f"{where}: unknown key {k!r}; allowed: {allowed}")
        merged = {**defaults, **raw}
        for k, v in merged.items():
            _check_value(path, where, k, v)
        if "model" not in merged or "devices" not in merged:
            raise _fail(path, f"{where} needs 'model' and 'devices'")
        model = base / merged.pop("model")
        draft = merged.pop("draft", None)
        label = merged.pop("name", None) or str(Path(raw["model"]))
        runtime = merged.pop("runtime", None)
        options = CheckOptions(
            ram_fraction=merged.pop("ram_fraction", CheckOptions().ram_fraction),
            entitlement=merged.pop("entitlement", False),
        )
        jobs.append(
            PlanRequest(
                model=model,
                devices=tuple(merged.pop("devices")),
                label=label,
                draft=base / draft if draft else None,
                runtime=Runtime(runtime) if runtime else None,
                options=options,
                **merged,
            )
        )
    return RunConfig(tuple(jobs), tuple(base / p for p in profiles))
