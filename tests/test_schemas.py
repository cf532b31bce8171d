"""JSON Schemas of the JSON outputs: valid schemas, strict, and real outputs conform."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner

from planner.cli.app import app
from planner.render.schema_doc import OBJECTS, OUTPUTS, schema_files, type_schema

REPO = Path(__file__).resolve().parent.parent
SCHEMAS = REPO / "src" / "planner" / "schemas"
EX = REPO / "examples"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return data


def run_json(args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def validate(kind: str, data: dict[str, Any]) -> None:
    errors = sorted(Draft202012Validator(load(kind)).iter_errors(data), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors[:8])


def test_bundled_schemas_are_valid_and_current() -> None:
    files = schema_files()
    assert {p.name for p in SCHEMAS.glob("*.schema.json")} == set(files)
    for name, text in files.items():
        assert (SCHEMAS / name).read_text("utf-8") == text, (
            f"{name} is stale: run python scripts/gen_reference.py"
        )
        Draft202012Validator.check_schema(json.loads(text))


def test_every_field_is_described() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
                for key, sub in node["properties"].items():
                    assert sub.get("description"), f"{where}.{key} has no description"
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}[{i}]")

    for o in OUTPUTS:
        walk(load(o.name), o.name)
    assert len({o.name for o in OBJECTS}) == len(OBJECTS)


@pytest.mark.parametrize(
    ("expr", "value", "ok"),
    [
        ("integer|null", None, True),
        ("integer|null", "3", False),
        ("list[integer|null]", [1, None], True),
        ('"a"|"b"', "c", False),
        ("map[integer]", {"x": 1}, True),
        ("map[integer]", {"x": "1"}, False),
        ("list[list[string]]", [["a"], []], True),
    ],
)
def test_type_grammar(expr: str, value: Any, ok: bool) -> None:
    assert Draft202012Validator(type_schema(expr)).is_valid(value) is ok


CASES = {
    "inspect": [
        ["inspect", str(EX / "mlc-qwen2.5-0.5b-q4f16_1")],
        ["inspect", str(EX / "onnx-genai-tiny-llama")],
        ["inspect", str(EX / "hf-llama-3.2-1b")],
    ],
    "estimate": [
        ["estimate", str(EX / "mlc-qwen2.5-0.5b-q4f16_1"), "-c", "2048"],
        ["estimate", str(EX / "onnx-genai-tiny-llama")],
        [
            "estimate",
            str(EX / "hf-llama-3.2-1b"),
            "-r",
            "onnxruntime",
            "--draft",
            str(EX / "mlc-qwen2.5-0.5b-q4f16_1"),
        ],
    ],
    "check": [
        [
            "check",
            str(EX / "hf-llama-3.2-1b"),
            "-d",
            "pixel-8",
            "-d",
            "iphone-12",
            "-d",
            "macbook-air-m2-8gb",
        ],
        [
            "check",
            str(EX / "onnx-genai-tiny-llama"),
            "-d",
            "iphone-15",
            "--entitlement",
            "increased-memory-limit",
        ],
        ["check", "--config", str(EX / "planner.yaml")],
    ],
    "suggest": [
        ["suggest", str(EX / "hf-llama-3.2-1b"), "-d", "pixel-8", "-r", "mlc"],
        ["suggest", str(EX / "hf-llama-3.2-1b"), "-d", "iphone-15", "-r", "onnxruntime"],
        # Nothing fits: chosen is null.
        ["suggest", str(EX / "hf-llama-3.2-1b"), "-d", "iphone-12", "-q", "q0f32"],
    ],
    "devices": [["devices"]],
}


@pytest.mark.parametrize(
    ("kind", "index"), [(k, i) for k, runs in CASES.items() for i in range(len(runs))]
)
def test_real_outputs_conform(kind: str, index: int) -> None:
    data = run_json(CASES[kind][index])
    assert data["kind"] == kind
    validate(kind, data)


def test_every_bundled_profile_conforms(profiles) -> None:  # type: ignore[no-untyped-def]
    for p in profiles:
        validate("device", run_json(["devices", "show", p.id]))


def test_schemas_reject_unknown_and_missing_fields() -> None:
    data = run_json(["estimate", str(EX / "onnx-genai-tiny-llama")])
    validator = Draft202012Validator(load("estimate"))
    assert validator.is_valid(data)
    extra = json.loads(json.dumps(data))
    extra["memory"]["components"][0]["surprise"] = 1
    assert not validator.is_valid(extra)
    missing = json.loads(json.dumps(data))
    del missing["memory"]["total_bytes"]
    assert not validator.is_valid(missing)
    wrong = json.loads(json.dumps(data))
    wrong["memory"]["components"][0]["category"] = "gpu"
    assert not validator.is_valid(wrong)
