"""``planner suggest --update FILE``: write the plan into an existing config file in place."""

from __future__ import annotations

import json
import os
from pathlib import Path

from planner.emit.fragments import fragment_notes, ort_settings, package_config_for
from planner.emit.kinds import EmitKind
from planner.errors import ConfigFileError, UsageError
from planner.suggest import Plan


def update_kind(path: Path, asked: EmitKind | None) -> EmitKind:
    """Which fragment ``path`` takes: an MLC package config or a genai_config.json."""
    if path.name == "genai_config.json":
        kind = EmitKind.genai_config
    elif path.name == "mlc-package-config.json" or path.suffix == ".json":
        kind = EmitKind.mlc_package_config
    else:
        raise UsageError(f"--update {path}: give an mlc-package-config.json or a genai_config.json")
    if asked is not None and asked is not kind:
        raise UsageError(f"--update {path.name} writes {kind.value}, not --emit {asked.value}")
    if not path.is_file():
        raise ConfigFileError("--update needs an existing file", path=str(path))
    return kind


def _aliases(plan: Plan, config: Path) -> set[str]:
    """``model`` values in the config that name the planned model."""
    hub_id = dict(plan.model.extra).get("hub_id")
    if hub_id:
        return {f"HF://{hub_id}", f"HF://{hub_id.split('@', 1)[0]}"}
    src = Path(plan.model.source).resolve()
    out = {str(src), plan.model.source}
    try:
        out.add(os.path.relpath(src, config.resolve().parent))
    except ValueError:  # another drive (Windows)
        pass
    return out


def write_update(path: Path, plans: list[Plan], asked: EmitKind | None) -> None:
    """Merge the plans into ``path`` and replace it atomically."""
    from planner.atomic import write_atomic
    from planner.cli.output import hint
    from planner.emit import ort
    from planner.mlc_package import update_genai_config, update_package_config

    kind = update_kind(path, asked)
    text = path.read_text(encoding="utf-8")
    if kind is EmitKind.genai_config:
        if len(plans) != 1:
            raise UsageError("--update genai_config.json takes one model (no --with-model)")
        c = plans[0].chosen
        if c is None:
            raise UsageError("no plan fits, so the file is not changed")
        new = update_genai_config(text, ort.config_patch(ort_settings(plans[0], c)))
    else:
        aliases = [_aliases(p, path) for p in plans]
        new = update_package_config(text, package_config_for(plans), aliases)
    write_atomic(path, new)
    for plan in plans:
        for note in fragment_notes(plan, kind):
            hint(f"note: {note}")
    changed = "updated" if new != text else "unchanged"
    n = len(json.loads(new).get("model_list", [])) if kind is EmitKind.mlc_package_config else 1
    hint(f"{path}: {changed} ({n} model{'s' if n != 1 else ''})")
