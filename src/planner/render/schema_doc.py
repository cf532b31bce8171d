"""Generators over the documented field table (``planner.render.schema_fields``): the strict
JSON Schemas in planner/schemas/ and the JSON section of docs/reference.md (pure)."""

from __future__ import annotations

import json
from typing import Any

from planner.render.schema_fields import (
    OBJECTS,
    OUTPUTS,
    SCHEMA_BASE,
    SCHEMA_DIALECT,
    Field,
    ObjectDef,
)

__all__ = ["OBJECTS", "OUTPUTS", "json_reference_markdown", "schema_files", "type_schema"]

_BY_NAME = {o.name: o for o in OBJECTS}


# ----------------------------------------------------------------------------- JSON Schema


def _split_union(t: str) -> list[str]:
    """Split on top-level ``|`` (not inside brackets)."""
    parts, depth, cur = [], 0, ""
    for ch in t:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def type_schema(t: str) -> dict[str, Any]:
    """The JSON Schema of a type expression (see the module docstring)."""
    parts = _split_union(t)
    if len(parts) > 1:
        consts = [p for p in parts if p.startswith('"')]
        if len(consts) == len(parts):
            return {"enum": [json.loads(p) for p in parts]}
        return {"anyOf": [type_schema(p) for p in parts]}
    if t.startswith('"'):
        return {"const": json.loads(t)}
    if t.startswith("#"):
        return {"$ref": f"#/$defs/{t[1:]}"}
    if t.startswith("list[") and t.endswith("]"):
        return {"type": "array", "items": type_schema(t[5:-1])}
    if t.startswith("map[") and t.endswith("]"):
        inner = t[4:-1]
        return (
            {"type": "object"}
            if inner == "any"
            else {"type": "object", "additionalProperties": type_schema(inner)}
        )
    if t == "any":
        return {}
    if t in ("string", "integer", "number", "boolean", "null"):
        return {"type": t}
    raise ValueError(f"unknown type expression {t!r}")


def _refs(t: str) -> set[str]:
    out = set()
    for token in t.replace("[", " ").replace("]", " ").replace("|", " ").split():
        if token.startswith("#"):
            out.add(token[1:])
    return out


def object_schema(o: ObjectDef) -> dict[str, Any]:
    """A strict object schema: every field described, unknown fields rejected."""
    props = {}
    for f in o.fields:
        s = type_schema(f.type)
        s["description"] = f.description
        props[f.name] = s
    return {
        "type": "object",
        "description": o.description,
        "properties": props,
        "required": [f.name for f in o.fields if not f.optional],
        "additionalProperties": False,
    }


def _closure(names: set[str]) -> list[str]:
    seen: set[str] = set()
    todo = sorted(names)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for f in _BY_NAME[n].fields:
            todo.extend(_refs(f.type) - seen)
    return sorted(seen)


def schema_for(output: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one output."""
    top = next(o for o in OUTPUTS if o.name == output)
    used = _closure({r for f in top.fields for r in _refs(f.type)})
    doc: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}{output}.schema.json",
        "title": f"planner {output} output",
        **object_schema(top),
        "$defs": {n: object_schema(_BY_NAME[n]) for n in used},
    }
    return doc


def schema_files() -> dict[str, str]:
    """File name → canonical JSON text, for planner/schemas/."""
    return {
        f"{o.name}.schema.json": json.dumps(
            schema_for(o.name), indent=2, ensure_ascii=False, sort_keys=False
        )
        + "\n"
        for o in OUTPUTS
    }


# ----------------------------------------------------------------------------- Markdown


def _md_type(t: str) -> str:
    text = t.replace("|", " \\| ")
    for name in sorted(_refs(t), key=len, reverse=True):
        text = text.replace(f"#{name}", f"[{name}](#{name.lower()}-object)")
    return text


def _table(fields: tuple[Field, ...]) -> list[str]:
    rows = ["| field | type | meaning |", "| --- | --- | --- |"]
    for f in fields:
        opt = " *(optional)*" if f.optional else ""
        desc = f.description.replace("|", "\\|")
        rows.append(f"| `{f.name}` | {_md_type(f.type)} | {desc}{opt} |")
    return rows


def json_reference_markdown() -> str:
    """The JSON section of docs/reference.md."""
    out = [
        "Every JSON output is one object with sorted keys and a trailing newline. Sizes are "
        "bytes (integers), never MiB; paths are as given on the command line. JSON Schemas "
        "(draft 2020-12) for each output ship in the package: `planner/schemas/<output>"
        ".schema.json`. The schemas are strict: a field not listed here is a bug.",
        "",
    ]
    for o in OUTPUTS:
        out += [
            f"### {o.name}",
            "",
            f"{o.description} — schema `planner/schemas/{o.name}.schema.json`.",
            "",
        ]
        out += _table(o.fields)
        out.append("")
    out += ["### Objects", ""]
    for o in OBJECTS:
        out += [f"#### {o.name} object", "", o.description, ""]
        out += _table(o.fields)
        out.append("")
    return "\n".join(out)
