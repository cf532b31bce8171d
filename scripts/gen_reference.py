#!/usr/bin/env python3
"""Generate docs/reference.md and planner/schemas/*.json from the code.

* commands, arguments and options: introspected from the typer app (``typer.main.get_command``);
* exit codes: ``planner.errors.ExitCode`` and the docstrings under its members;
* planner.yaml keys: ``planner.runconfig.JOB_KEYS``, described by the matching ``check`` options;
* JSON fields and schemas: the field table in ``planner.render.schema_doc``.

Usage::

    python scripts/gen_reference.py          # rewrite the files
    python scripts/gen_reference.py --check  # exit 1 if any file is stale (CI)

tests/test_reference_docs.py runs the check in the test suite.
"""

from __future__ import annotations

import argparse
import ast
import enum
import inspect
import itertools
import sys
import types
import typing
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "docs" / "reference.md"
SCHEMAS = REPO / "src" / "planner" / "schemas"

ENVIRONMENT = (
    ("PLANNER_DEBUG", "Set to 1 to print the traceback of an error (for bug reports)."),
    ("PLANNER_QUIET", "Set to 1 for `--quiet`: no hints or progress on stderr."),
    ("NO_COLOR", "Set (non-empty) to turn colours off in text reports (https://no-color.org)."),
    (
        "FORCE_COLOR",
        "Set (non-empty) to colour text reports on stdout even when it is not a "
        "terminal (never in `--output` files).",
    ),
    (
        "COLUMNS",
        "Width of text reports when stdout is not a terminal (default 100, kept within 72..160).",
    ),
    (
        "CI",
        "When set, progress bars are replaced by one hint line (as when stderr is not a terminal).",
    ),
)

YAML_EXTRA = {
    "model": "Model artifact, relative to the planner.yaml folder (the `PATH` argument).",
    "devices": "Device ids, aliases or families (`--device`).",
    "name": "Label of the job in reports (default: the model path).",
    "entitlement": "Assume the iOS increased-memory-limit entitlement (`--entitlement "
    "increased-memory-limit`).",
}


# ----------------------------------------------------------------------------- commands


def _unwrap(annotation: Any) -> tuple[Any, bool, bool]:
    """(inner type, optional, repeatable) of a parameter annotation."""
    optional = repeatable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0] if len(args) == 1 else annotation
        origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        repeatable = True
        annotation = typing.get_args(annotation)[0]
    return annotation, optional, repeatable


def _type_text(param: Any) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is not None:
        inner, _, _ = _unwrap(descriptor.annotation)
    else:  # typer before 0.26 exposes the click ParamType
        choices = getattr(param.type, "choices", None)
        return "|".join(choices) if choices else str(param.type.name).upper()
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        return "|".join(str(m.value) for m in inner)
    if inner is bool:
        return "flag"
    names = {Path: "PATH", int: "INTEGER", float: "NUMBER", str: "TEXT"}
    text = names.get(inner, getattr(inner, "__name__", str(inner)).upper())
    lo, hi = getattr(param, "min", None), getattr(param, "max", None)
    if lo is not None or hi is not None:
        text += f" ({'' if lo is None else lo}..{'' if hi is None else hi})"
    return text


def _default_text(param: Any) -> str:
    if getattr(param, "required", False):
        return "required"
    d = param.default
    if d is None or d == [] or d == ():
        return ""
    if isinstance(d, enum.Enum):
        d = d.value
    if isinstance(d, bool):
        return "on" if d else "off"
    return f"`{d}`"


def _is_argument(param: Any) -> bool:
    return type(param).__name__.endswith("Argument")


def _cell(text: str) -> str:
    """One Markdown table cell: one line, pipes escaped, reST ``literals`` as `code`."""
    return " ".join(text.split()).replace("|", "\\|").replace("``", "`")


def _params_tables(cmd: Any) -> list[str]:
    out: list[str] = []
    args = [p for p in cmd.params if _is_argument(p)]
    opts = [p for p in cmd.params if not _is_argument(p)]
    if args:
        out += ["| argument | type | help |", "| --- | --- | --- |"]
        for p in args:
            meta = p.metavar or p.name.upper()
            req = "" if p.required else " (optional)"
            out.append(f"| `{meta}`{req} | {_cell(_type_text(p))} | {_cell(p.help or '')} |")
        out.append("")
    if opts:
        out += ["| option | type | default | help |", "| --- | --- | --- | --- |"]
        for p in opts:
            names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
            descriptor = getattr(p, "type_descriptor", None)
            repeat = ""
            if getattr(p, "multiple", False) or (
                descriptor is not None and _unwrap(descriptor.annotation)[2]
            ):
                repeat = " (repeatable)"
            env = f" Environment: `{p.envvar}`." if getattr(p, "envvar", None) else ""
            out.append(
                f"| {names} | {_cell(_type_text(p))}{repeat} | {_default_text(p)} | "
                f"{_cell(p.help or '')}{env} |"
            )
        out.append("")
    return out


def _usage(path: str, cmd: Any) -> str:
    parts = [path]
    if any(not _is_argument(p) for p in cmd.params):
        parts.append("[OPTIONS]")
    for p in cmd.params:
        if _is_argument(p):
            meta = p.metavar or p.name.upper()
            parts.append(meta if p.required else f"[{meta}]")
    if getattr(cmd, "commands", None):
        parts.append("[COMMAND]")
    return " ".join(parts)


def _commands_section(root: Any) -> list[str]:
    out: list[str] = []
    queue: list[tuple[str, Any]] = [(f"planner {n}", c) for n, c in root.commands.items()]
    while queue:
        path, cmd = queue.pop(0)
        out += [f"### `{path}`", ""]
        out += [_cell(cmd.help or ""), "", "```", _usage(path, cmd), "```", ""]
        out += _params_tables(cmd)
        sub = getattr(cmd, "commands", None) or {}
        queue[0:0] = [(f"{path} {n}", c) for n, c in sub.items()]
    return out


# ----------------------------------------------------------------------------- exit codes


def member_docstrings(cls: type) -> dict[str, str]:
    """The string literal under each class attribute (attribute docstrings, read from source)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for prev, node in itertools.pairwise(body):
        if (
            isinstance(prev, ast.Assign)
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in prev.targets:
                if isinstance(target, ast.Name):
                    docs[target.id] = " ".join(node.value.value.split())
    return docs


def _exit_codes() -> list[str]:
    from planner.errors import ExitCode

    docs = member_docstrings(ExitCode)
    out = ["| code | name | meaning |", "| --- | --- | --- |"]
    out += [f"| {int(c)} | `{c.name}` | {_cell(docs.get(c.name, ''))} |" for c in ExitCode]
    out += [
        "",
        "Typer's own usage errors (an unknown option, a missing argument) also exit 2; "
        "an interrupt (Ctrl-C) exits 130.",
    ]
    return out


# ----------------------------------------------------------------------------- planner.yaml


def _yaml_section(root: Any) -> list[str]:
    from planner import runconfig

    check = root.commands["check"]
    by_name = {p.name: p for p in check.params}
    out = [
        "`planner check --config planner.yaml` runs a matrix of models × devices × settings. "
        "The file is read with YAML's safe loader and validated strictly (unknown keys are "
        "errors naming the file); relative paths are relative to the file's folder.",
        "",
        "```yaml",
        *_yaml_example(runconfig.__doc__ or ""),
        "```",
        "",
        "Keys of a job (and of `defaults`, which every job inherits):",
        "",
        "| key | type | meaning |",
        "| --- | --- | --- |",
    ]
    for key, typ in runconfig.JOB_KEYS.items():
        help_text = YAML_EXTRA.get(key) or (by_name[key].help if key in by_name else "") or ""
        names = {
            list: "list of strings",
            str: "string",
            int: "integer",
            float: "number",
            bool: "boolean",
        }
        out.append(f"| `{key}` | {names.get(typ, typ.__name__)} | {_cell(help_text)} |")
    out += ["", "See examples/planner.yaml for a complete file."]
    return out


def _yaml_example(doc: str) -> list[str]:
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().startswith("version:"))
    except StopIteration:
        return []
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith("    "):
            break
        block.append(line[4:] if line.startswith("    ") else line)
    return [b.rstrip() for b in block if b.strip() or block]


# ----------------------------------------------------------------------------- assemble


def reference_markdown() -> str:
    """The whole of docs/reference.md."""
    import typer.main

    from planner.cli.app import app
    from planner.render.schema_doc import json_reference_markdown

    root = typer.main.get_command(app)
    out = [
        "# planner reference",
        "",
        "<!-- Generated by scripts/gen_reference.py from the code; do not edit by hand. "
        "Regenerate with `python scripts/gen_reference.py`; CI fails when this file is stale. -->",
        "",
        "Every command, option, exit code, environment variable, planner.yaml key and JSON "
        "field. For what the numbers mean and where each formula comes from, see "
        "[formulas.md](formulas.md).",
        "",
        "## Contents",
        "",
        "- [Global options](#global-options)",
        "- [Commands](#commands)",
        "- [Exit codes](#exit-codes)",
        "- [Environment variables](#environment-variables)",
        "- [Output streams and files](#output-streams-and-files)",
        "- [planner.yaml](#planneryaml)",
        "- [JSON output](#json-output)",
        "",
        "## Global options",
        "",
        "Given before the command: `planner --quiet check …`.",
        "",
        "```",
        "planner [--quiet] COMMAND [ARGS]...",
        "```",
        "",
        *_params_tables(root),
        "## Commands",
        "",
        *_commands_section(root),
        "## Exit codes",
        "",
        *_exit_codes(),
        "",
        "## Environment variables",
        "",
        "| variable | effect |",
        "| --- | --- |",
        *[f"| `{k}` | {_cell(v)} |" for k, v in ENVIRONMENT],
        "",
        "## Output streams and files",
        "",
        "- Reports go to stdout, or with `--output FILE` to that file, written atomically (a "
        "temporary file in the same folder, then a rename: a failed run never leaves half a "
        "file).",
        "- Hints, progress and errors go to stderr; `--quiet` silences hints and progress, never "
        "errors. An error is one line, `error: <file>: <what>`, and optionally `hint: …`.",
        "- Text reports are drawn for people: colour only on a terminal (see `NO_COLOR`), 100 "
        "columns when piped. Scripts should read `--format json` instead.",
        "- `planner plot` writes SVG (no dependency), PNG (needs the `plot` extra: "
        "`pip install 'mlc-planner[plot]'`) or HTML; `check` and `suggest` write a "
        "self-contained HTML report with `--format html` (inline CSS and SVG, no scripts, no "
        "network).",
        "",
        "## planner.yaml",
        "",
        *_yaml_section(root),
        "",
        "## JSON output",
        "",
        json_reference_markdown(),
    ]
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip("\n") + "\n"


def generated_files() -> dict[Path, str]:
    """Every generated file and its content."""
    from planner.render.schema_doc import schema_files

    files = {REFERENCE: reference_markdown()}
    files.update({SCHEMAS / name: text for name, text in schema_files().items()})
    return files


def stale_files() -> list[Path]:
    """Generated files whose content on disk differs (or that are missing)."""
    return [
        p
        for p, text in generated_files().items()
        if not p.is_file() or p.read_text(encoding="utf-8") != text
    ]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Write the generated files, or with --check report the stale ones (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for p in stale:
            print(f"stale: {_shown(p)} (run python scripts/gen_reference.py)", file=sys.stderr)
        return 1 if stale else 0
    SCHEMAS.mkdir(parents=True, exist_ok=True)
    for path, text in generated_files().items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {_shown(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
