"""``mlc-package-config.json`` as input (``planner check``) and output (``suggest --update``).

Input: every ``model_list`` entry becomes a ``PlanRequest`` for the MLC runtime with the
entry's ``overrides`` (context, prefill, sliding window, sink, max batch) and its declared
``estimated_vram_bytes`` (rule ``declared-estimate`` in ``planner.rules``). ``model`` is a
local folder (relative to the config's folder, as ``mlc_llm package`` run there reads it) or
``HF://org/name`` / ``https://huggingface.co/org/name``, read through ``planner.hub`` (its cache
answers offline).

Output: ``update_package_config`` merges planned entries into an existing file's text: an entry
with the same ``model_id`` (or the same ``model``) gets the planned ``estimated_vram_bytes``,
``overrides`` and library; others are appended; every other key and the key order stay.
``update_genai_config`` does the same for a genai_config.json with the emitted merge patch.
Both are written atomically by the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planner.emit import mlc, ort
from planner.errors import ConfigFileError, InputError, UsageError
from planner.hub import parse_hub_id
from planner.request import PlanRequest
from planner.settings import CheckOptions, Runtime

MAX_CONFIG_BYTES = 16 * 1024 * 1024
OVERRIDE_FIELDS = {
    "context_window_size": "context",
    "prefill_chunk_size": "prefill",
    "sliding_window_size": "sliding_window",
    "attention_sink_size": "attention_sink",
    "max_batch_size": "max_batch_size",
}
"""Entry overrides planner plans with (mlc_llm package drops -1 context/window/sink)."""


@dataclass(frozen=True, slots=True)
class PackageEntry:
    """One ``model_list`` entry, validated."""

    index: int
    model: str
    model_id: str
    estimated_vram_bytes: int | None
    overrides: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class PackageConfig:
    """The file's device and entries."""

    path: Path
    device: str
    entries: tuple[PackageEntry, ...]


def is_package_config(path: Path) -> bool:
    """A file named mlc-package-config.json (or a JSON file with device + model_list)."""
    if not path.is_file():
        return False
    if path.name == "mlc-package-config.json":
        return True
    if path.suffix != ".json" or path.stat().st_size > MAX_CONFIG_BYTES:
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and "model_list" in doc and "device" in doc


def _read_doc(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigFileError(f"over {MAX_CONFIG_BYTES:,} bytes", path=str(path))
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigFileError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
    except ValueError as exc:
        raise ConfigFileError(f"not valid JSON: {exc}", path=str(path)) from None
    if not isinstance(doc, dict):
        raise ConfigFileError("the top level must be an object", path=str(path))
    return doc


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_package_config(path: Path) -> PackageConfig:
    """Read and validate the fields ``mlc_llm package`` itself requires (interface/package.py)."""
    doc = _read_doc(path)
    device = doc.get("device")
    if device not in mlc.PACKAGE_DEVICES:
        raise ConfigFileError(
            f"device must be one of {', '.join(mlc.PACKAGE_DEVICES)}, got {device!r}",
            path=str(path),
        )
    items = doc.get("model_list")
    if not isinstance(items, list) or not items:
        raise ConfigFileError("model_list must be a non-empty list", path=str(path))
    entries = []
    for i, item in enumerate(items):
        where = f"model_list[{i}]"
        if not isinstance(item, dict):
            raise ConfigFileError(f"{where} is not an object", path=str(path))
        model, model_id = item.get("model"), item.get("model_id")
        if not isinstance(model, str) or not isinstance(model_id, str):
            raise ConfigFileError(f"{where} needs string model and model_id", path=str(path))
        if "estimated_vram_bytes" not in item:
            raise ConfigFileError(f"{where} has no estimated_vram_bytes", path=str(path))
        declared = item["estimated_vram_bytes"]
        if not _int(declared) or declared <= 0:
            raise ConfigFileError(
                f"{where}.estimated_vram_bytes must be a positive integer", path=str(path)
            )
        raw = item.get("overrides", {})
        if not isinstance(raw, dict):
            raise ConfigFileError(f"{where}.overrides must be an object", path=str(path))
        overrides = []
        for key, value in raw.items():
            if key not in mlc.OVERRIDE_KEYS:
                continue  # mlc_llm package reads only ModelConfigOverride's fields
            if not _int(value):
                raise ConfigFileError(f"{where}.overrides.{key} must be an integer", path=str(path))
            overrides.append((key, value))
        entries.append(PackageEntry(i, model, model_id, declared, tuple(overrides)))
    return PackageConfig(path, device, tuple(entries))


def model_location(config: PackageConfig, entry: PackageEntry) -> Path:
    """Where planner reads the entry's model: a local folder, or a hub id (read lazily)."""
    text = entry.model
    for prefix in ("HF://", "https://huggingface.co/"):
        if text.startswith(prefix):
            hid = parse_hub_id(text[len(prefix) :].strip("/"))
            if hid is None:
                raise ConfigFileError(
                    f"model_list[{entry.index}].model {text!r} is not a Hugging Face repository",
                    path=str(config.path),
                )
            return Path(hid.label)  # registry.read_model fetches it through planner.hub
    if "://" in text:
        raise ConfigFileError(
            f"model_list[{entry.index}].model {text!r}: only local paths and HF:// are read",
            path=str(config.path),
        )
    local = Path(text)
    local = local if local.is_absolute() else config.path.parent / local
    if not local.exists():
        raise InputError(
            f"model_list[{entry.index}].model {text!r}: no such folder next to {config.path.name}",
            path=str(local),
            hint="run the mlc_llm convert_weight/gen_config commands first, or point the "
            "entry at the Hugging Face folder it is converted from",
        )
    return local


def package_requests(
    config: PackageConfig, base: PlanRequest, *, with_declared: bool = True
) -> list[PlanRequest]:
    """One MLC request per entry: the entry's overrides, its declared estimate, ``base``'s
    devices and check options."""
    out = []
    for e in config.entries:
        values: dict[str, Any] = {}
        for key, value in e.overrides:
            field_name = OVERRIDE_FIELDS.get(key)
            if field_name is None or (value == -1 and key != "max_batch_size"):
                continue
            values[field_name] = value
        options: CheckOptions = base.options
        if with_declared:
            options = replace(options, declared_vram_bytes=e.estimated_vram_bytes)
        out.append(
            replace(
                base,
                model=model_location(config, e),
                runtime=Runtime.MLC,
                options=options,
                label=f"{config.path.name}: {e.model_id}",
                **values,
            )
        )
    return out


def update_package_config(text: str, new_doc: str, aliases: Sequence[Collection[str]] = ()) -> str:
    """``text`` (an existing mlc-package-config.json) with the entries of ``new_doc`` merged in.

    Matching entries keep their keys and order (a user's ``model`` pointing at a published
    repository stays); the plan's ``estimated_vram_bytes``, ``overrides`` and ``model_lib`` are
    written. A ``model_lib`` is only added with its ``model_lib_path_for_prepare_libs`` path.
    ``aliases[i]`` are other ``model`` values that name planned entry i's model (the path the
    user planned, relative to the config's folder, or its ``HF://`` id).
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--update: the file is not valid JSON: {exc}") from None
    new = json.loads(new_doc)
    if not isinstance(doc, dict):
        raise UsageError("--update: the package config's top level is not an object")
    if doc.get("device") not in (None, new["device"]):
        raise UsageError(
            f"--update: the file is for device {doc.get('device')!r}, the plan for "
            f"{new['device']!r}"
        )
    doc.setdefault("device", new["device"])
    items = doc.setdefault("model_list", [])
    if not isinstance(items, list):
        raise UsageError("--update: model_list is not a list")
    libs = new.get("model_lib_path_for_prepare_libs", {})
    for i, planned in enumerate(new["model_list"]):
        names = {planned["model"], *(aliases[i] if i < len(aliases) else ())}
        match = next(
            (
                it
                for it in items
                if isinstance(it, dict)
                and (
                    it.get("model") in names
                    or planned["model_id"] in (it.get("model_id"), f"{it.get('model_id')}-MLC")
                )
            ),
            None,
        )
        if match is None:
            items.append(planned)
        else:
            match["estimated_vram_bytes"] = planned["estimated_vram_bytes"]
            match["overrides"] = planned["overrides"]
            if "model_lib" in planned and match.get("model") == planned["model"]:
                match["model_lib"] = planned["model_lib"]
            elif "model_lib" in planned:
                libs = {k: v for k, v in libs.items() if k != planned["model_lib"]}
    if libs:
        current = doc.get("model_lib_path_for_prepare_libs")
        merged = dict(current) if isinstance(current, dict) else {}
        merged.update(libs)
        doc["model_lib_path_for_prepare_libs"] = merged
    return json.dumps(doc, indent=2) + "\n"


def update_genai_config(text: str, patch: dict[str, Any]) -> str:
    """A genai_config.json's text with the emitted merge patch applied (key order kept)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"--update: genai_config.json is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("model"), dict):
        raise UsageError("--update: not a genai_config.json (no model section)")
    return json.dumps(ort.merge_patch(doc, patch), indent=4) + "\n"
