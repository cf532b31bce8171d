"""CI formats of ``planner check``: golden files, schema validation, workflow-command syntax.

One fixed case (examples/hf-llama-3.2-1b at q0f16, 16K context, on a phone where it passes, one
where it warns and one where it fails) is run through the real CLI in every machine format and
compared byte for byte with tests/golden/check_llama_mixed.*. When a change is intended,
regenerate them with ``pytest tests/test_render_ci_formats.py --update-goldens`` and review the
diff.

The JUnit output is validated against junit-10.xsd (Jenkins xUnit plugin; the dialect pytest
writes and GitLab / GitHub test reporters read) and the SARIF output against the OASIS SARIF
2.1.0 schema, both vendored in tests/data/schemas/ (see SOURCES.md there). Broken documents must
fail the same validators, so a validator that accepts anything cannot pass these tests.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import xmlschema
from jsonschema import (  # type: ignore[import-untyped, unused-ignore]
    Draft4Validator,
    FormatChecker,
)
from typer.testing import CliRunner

from planner.cli.app import app

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
SCHEMAS = Path(__file__).parent / "data" / "schemas"

LLAMA = "examples/hf-llama-3.2-1b"
# q0f16 at 16K context: fits the Pixel 9 Pro (PASS), trips the background-kill rule on the
# Pixel 8 Pro (WARN) and breaks three rules on the 4 GB iPhone 12 (FAIL); skips on each.
CASE = [
    "check",
    LLAMA,
    "-q",
    "q0f16",
    "-c",
    "16384",
    "-p",
    "2048",
    "-d",
    "pixel-8-pro",
    "-d",
    "iphone-12",
    "-d",
    "pixel-9-pro",
]
NAME = "check_llama_mixed"
# Format → golden suffix (not .txt: test_render_text.py owns tests/golden/*.txt).
SUFFIX = {"json": "json", "junit": "xml", "sarif": "sarif", "github": "github"}

Outputs = dict[tuple[str, bool], tuple[int, str]]


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.stderr or result.output
    return result.exit_code, result.stdout


@pytest.fixture(scope="module")
def outputs() -> Iterator[Outputs]:
    """The case in every format, plain and --strict, run once from the repository root."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("NO_COLOR", "FORCE_COLOR", "PLANNER_QUIET"):
            mp.delenv(var, raising=False)
        mp.setenv("COLUMNS", "100")
        mp.chdir(REPO)
        yield {
            (fmt, strict): run([*CASE, "--format", fmt, *(["--strict"] if strict else [])])
            for fmt in SUFFIX
            for strict in (False, True)
        }


@pytest.fixture(scope="module")
def report(outputs: Outputs) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(outputs["json", False][1])
    return data


# --- goldens ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
def test_golden_output(fmt: str, outputs: Outputs, update_goldens: bool) -> None:
    code, out = outputs[fmt, False]
    assert code == 1, "the case has a failing device, so check exits 1"
    path = GOLDEN / f"{NAME}.{SUFFIX[fmt]}"
    data = out.encode("utf-8")
    if update_goldens:
        path.write_bytes(data)
        return
    assert path.is_file(), f"missing golden {path}; run pytest --update-goldens"
    assert data == path.read_bytes(), (
        f"{fmt}: output differs from {path}; if the change is intended, run "
        "pytest tests/test_render_ci_formats.py --update-goldens and review the diff"
    )


def test_goldens_have_no_orphans() -> None:
    mine = {p.name for s in set(SUFFIX.values()) for p in GOLDEN.glob(f"check_*.{s}")}
    assert mine == {f"{NAME}.{s}" for s in SUFFIX.values()}, "delete stale golden files"


def test_case_has_pass_warn_fail_and_skip(report: dict[str, Any]) -> None:
    """The golden case keeps exercising every branch of the renderers."""
    (result,) = report["results"]
    assert result["model"] == LLAMA
    by_device = {d["device"]["id"]: d["status"] for d in result["devices"]}
    assert by_device == {"pixel-9-pro": "pass", "pixel-8-pro": "warn", "iphone-12": "fail"}
    statuses = Counter(c["status"] for d in result["devices"] for c in d["checks"])
    assert set(statuses) == {"pass", "warn", "fail", "skip"}


def test_outputs_are_deterministic(outputs: Outputs) -> None:
    stamp = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
    for (fmt, _), (_, out) in outputs.items():
        assert str(REPO) not in out and "/tmp" not in out, f"{fmt}: absolute path in output"
        assert not stamp.search(out), f"{fmt}: timestamp in output"
        assert "hostname" not in out and "timestamp" not in out, fmt
    assert run([*CASE, "--format", "sarif"]) == outputs["sarif", False], "second run differs"


# --- JUnit XML against junit-10.xsd -------------------------------------------------------------


@pytest.fixture(scope="module")
def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMAS / "junit-10.xsd"))


def junit_errors(schema: xmlschema.XMLSchema, text: str) -> list[str]:
    return [str(e.reason) for e in schema.iter_errors(text)]


@pytest.mark.parametrize("strict", [False, True])
def test_junit_validates_and_counts_add_up(
    strict: bool, outputs: Outputs, junit_schema: xmlschema.XMLSchema, report: dict[str, Any]
) -> None:
    _, out = outputs["junit", strict]
    assert junit_errors(junit_schema, out) == []
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    devices = report["results"][0]["devices"]
    assert len(suites) == len(devices)
    total = failed = 0
    for suite, dev in zip(suites, devices, strict=True):
        cases = suite.findall("testcase")
        statuses = Counter(c["status"] for c in dev["checks"])
        fails = statuses["fail"] + (statuses["warn"] if strict else 0)
        assert suite.get("name") == f"{LLAMA} on {dev['device']['id']}"
        assert [c.get("name") for c in cases] == [c["id"] for c in dev["checks"]]
        assert int(suite.get("tests", -1)) == len(cases)
        assert (
            int(suite.get("failures", -1))
            == sum(c.find("failure") is not None for c in cases)
            == fails
        )
        assert (
            int(suite.get("skipped", -1))
            == sum(c.find("skipped") is not None for c in cases)
            == statuses["skip"]
        )
        total += len(cases)
        failed += fails
    assert (int(root.get("tests", -1)), int(root.get("failures", -1))) == (total, failed)


def test_junit_validator_rejects_broken_documents(
    outputs: Outputs, junit_schema: xmlschema.XMLSchema
) -> None:
    good = outputs["junit", False][1]
    first_case = re.search(r'<testcase name="[^"]*" ', good)
    assert first_case is not None
    broken = {
        # testcase/@name is required
        "no case name": good.replace(first_case.group(0), "<testcase ", 1),
        # testsuite/@tests is required
        "no suite count": re.sub(r'(<testsuite name="[^"]*") tests="\d+"', r"\1", good, count=1),
        # the root takes only name/time/tests/failures/errors
        "unknown root attribute": good.replace("<testsuites ", '<testsuites skipped="3" ', 1),
        "unknown element": good.replace("<system-out>", "<stdout>", 1).replace(
            "</system-out>", "</stdout>", 1
        ),
        "bad time": good.replace('time="0"', 'time="soon"', 1),
    }
    for what, text in broken.items():
        assert text != good, what
        assert junit_errors(junit_schema, text), f"{what}: the validator accepted it"


# --- SARIF against the OASIS 2.1.0 schema -------------------------------------------------------

_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_URI_REF = re.compile(rf"(?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?:{_PCHAR}|[/?#])*")


def is_uri_reference(value: object) -> bool:
    """RFC 3986 URI-reference (characters and percent-escapes; no scheme-like first segment).

    jsonschema checks ``uri`` formats only with optional packages installed; this keeps the
    check independent of them."""
    if not isinstance(value, str) or not _URI_REF.fullmatch(value):
        return False
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", value)
    return scheme is not None or ":" not in value.split("/", 1)[0]


def is_uri(value: object) -> bool:
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", str(value))
    return is_uri_reference(value) and scheme is not None


@pytest.fixture(scope="module")
def sarif_validator() -> Draft4Validator:
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text("utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)
    formats = FormatChecker()
    formats.checks("uri-reference")(is_uri_reference)
    formats.checks("uri")(is_uri)
    return Draft4Validator(schema, format_checker=formats)


def sarif_errors(validator: Draft4Validator, doc: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("strict", [False, True])
def test_sarif_validates_and_matches_the_checks(
    strict: bool, outputs: Outputs, sarif_validator: Draft4Validator, report: dict[str, Any]
) -> None:
    doc = json.loads(outputs["sarif", strict][1])
    assert sarif_errors(sarif_validator, doc) == []
    (run_,) = doc["runs"]
    rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert rules == sorted(set(rules))
    expected: Counter[tuple[str, str]] = Counter()
    for dev in report["results"][0]["devices"]:
        for c in dev["checks"]:
            assert c["id"] in rules
            if c["status"] == "fail" or (strict and c["status"] == "warn"):
                expected["error", c["id"]] += 1
            elif c["status"] == "warn":
                expected["warning", c["id"]] += 1
    got = Counter((r["level"], r["ruleId"]) for r in run_["results"])
    assert got == expected and got
    for r in run_["results"]:
        assert r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == LLAMA


def test_sarif_validator_rejects_broken_documents(
    outputs: Outputs, sarif_validator: Draft4Validator
) -> None:
    good = json.loads(outputs["sarif", False][1])
    assert sarif_errors(sarif_validator, good) == []

    def broken(change: str) -> Any:
        doc = copy.deepcopy(good)
        result = doc["runs"][0]["results"][0]
        if change == "level":
            result["level"] = "fatal"
        elif change == "version":
            doc["version"] = "2.0.0"
        elif change == "message":
            del result["message"]
        elif change == "uri":
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "a b:%zz"
        elif change == "extra":
            result["severity"] = "high"  # result has additionalProperties: false
        return doc

    for change in ("level", "version", "message", "uri", "extra"):
        assert sarif_errors(sarif_validator, broken(change)), f"{change}: validator accepted it"


# --- GitHub workflow commands -------------------------------------------------------------------

# ::command key=value,key=value::data  (actions/toolkit packages/core/src/command.ts: data
# escapes % CR LF; property values also : and ,).
_COMMAND = re.compile(r"::(error|warning|notice) ([^:]*)::(.*)")
_DATA_ESC = {"%25": "%", "%0D": "\r", "%0A": "\n"}
_PROP_ESC = {**_DATA_ESC, "%3A": ":", "%2C": ","}
_PROP_KEYS = {"title", "file", "line", "endLine", "col", "endColumn"}


def unescape(text: str, table: dict[str, str]) -> str:
    stray = re.sub("|".join(table), "", text)
    assert "%" not in stray, f"unescaped % in {text!r}"
    return re.sub("|".join(table), lambda m: table[m.group(0)], text)


def command_lines(out: str) -> list[str]:
    """The runner reads stdout line by line at LF; every command is one whole line."""
    assert out.endswith("\n")
    return out[:-1].split("\n")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """One workflow command line → (command, properties, message), unescaped; asserts syntax."""
    m = _COMMAND.fullmatch(line)
    assert m, f"not a workflow command: {line!r}"
    cmd, props, data = m.groups()
    assert "\r" not in data and "\n" not in data
    parsed = {}
    for pair in props.split(","):
        key, sep, value = pair.partition("=")
        assert sep and key in _PROP_KEYS and key not in parsed, pair
        assert not set(value) & {",", ":", "\r", "\n"}, pair
        parsed[key] = unescape(value, _PROP_ESC)
    return cmd, parsed, unescape(data, _DATA_ESC)


@pytest.mark.parametrize("strict", [False, True])
def test_github_lines_are_workflow_commands(
    strict: bool, outputs: Outputs, report: dict[str, Any]
) -> None:
    out = outputs["github", strict][1]
    got = [parse_command(line) for line in command_lines(out)]
    expected: list[tuple[str, str, str]] = []
    for dev in report["results"][0]["devices"]:
        name = dev["device"]["name"]
        for c in dev["checks"]:
            if c["status"] == "fail" or (strict and c["status"] == "warn"):
                expected.append(("error", f"{c['title']} on {name}", c["message"]))
            elif c["status"] == "warn":
                expected.append(("warning", f"{c['title']} on {name}", c["message"]))
        if dev["status"] == "pass":
            expected.append(
                (
                    "notice",
                    f"fits {name}",
                    f"every check passes; largest context {dev['max_context']}",
                )
            )
    assert got == [(cmd, {"file": LLAMA, "title": title}, msg) for cmd, title, msg in expected]
    # "70% of RAM rule" is in a title: the % must come out escaped in the raw line.
    assert "title=70%25 of RAM rule on Apple iPhone 12" in out


# --- hostile names through every format ---------------------------------------------------------

ODD_DIR = "m, v2: 100% <&> \"q'\nx\ty"
ODD_DEVICE = 'Odd "Phone", rev: 50% <b> & co'


def test_odd_names_round_trip(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    junit_schema: xmlschema.XMLSchema,
    sarif_validator: Draft4Validator,
) -> None:
    """A model folder and a device name full of separators survive every format's escaping."""
    monkeypatch.chdir(tmp_path)
    try:
        (tmp_path / ODD_DIR).mkdir()
    except OSError:
        pytest.skip("this filesystem refuses the odd folder name")
    (tmp_path / ODD_DIR / "config.json").write_bytes((REPO / LLAMA / "config.json").read_bytes())
    profile = (REPO / "device_profiles" / "iphone-12.yaml").read_text("utf-8")
    profile = re.sub(r"(?m)^id: .*$", "id: odd-phone", profile)
    profile = re.sub(r"(?m)^name: .*$", "name: " + json.dumps(ODD_DEVICE), profile)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "odd-phone.yaml").write_text(profile, "utf-8")
    args = [
        "check",
        ODD_DIR,
        "-d",
        "odd-phone",
        "--profiles",
        "profiles",
        "-q",
        "q0f16",
        "-c",
        "8192",
    ]

    _, gh = run([*args, "-f", "github"])
    commands = [parse_command(line) for line in command_lines(gh)]
    assert commands and all(c[0] == "error" for c in commands)
    for _, props, _ in commands:
        assert props["file"] == ODD_DIR and props["title"].endswith(" on " + ODD_DEVICE)

    _, xml = run([*args, "-f", "junit"])
    assert junit_errors(junit_schema, xml) == []
    suite = ET.fromstring(xml).find("testsuite")
    assert suite is not None and suite.get("name") == f"{ODD_DIR} on odd-phone"

    _, sarif = run([*args, "-f", "sarif"])
    doc = json.loads(sarif)
    assert sarif_errors(sarif_validator, doc) == []
    result = doc["runs"][0]["results"][0]
    assert unquote(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) == ODD_DIR
    assert result["message"]["text"].startswith(ODD_DEVICE + ": ")
