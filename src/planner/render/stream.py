"""Check reports written job by job: JSON Lines, JUnit, SARIF, GitHub annotations and a compact
summary table, with memory that does not grow with the matrix (pure formatting; the caller
owns the output).

Each format splits into a per-job *fragment* (a pure function of one job's outcome: what a
worker process can render) and a *writer* that frames the fragments: a header, the fragments as
they arrive, a footer from counters it keeps. JUnit's root element carries totals, so its
fragments are spooled to a temporary file until the end; SARIF sorts ``results`` before
``tool``, so its rules (a handful) come at the end. ``planner.render.ci`` renders whole
documents through the same writers, so both paths give the same bytes.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from typing import IO, Protocol

from planner import __version__
from planner.checks import JobOutcome, ModelReports
from planner.render.dicts import SCHEMA_VERSION, report_dict
from planner.render.formats import StreamFormat
from planner.rules import Status
from planner.text import xml_text


class Sink(Protocol):
    """Where a writer puts text (an ``OutputStream``, a ``StringIO``)."""

    def write(self, text: str, /) -> object:
        """Append text."""
        ...


@dataclass(frozen=True, slots=True)
class Fragment:
    """One job rendered for one format, with what the writer's footer needs."""

    text: str
    tests: int = 0
    failures: int = 0
    errors: int = 0
    rules: tuple[tuple[str, str], ...] = ()
    """SARIF: (rule id, its JSON) for each rule the job's checks used."""


# --------------------------------------------------------------------------- XML helpers


def escape(text: str) -> str:
    """XML text escaping (xml.sax.saxutils pulls in urllib; this keeps CLI start-up fast)."""
    text = xml_text(text)  # control characters are not allowed in XML 1.0
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """A double-quoted XML attribute value (newline, CR and tab as references: parsers would
    otherwise normalise them to spaces)."""
    return (
        '"'
        + escape(text)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
        + '"'
    )


def _is_failure(status: Status, strict: bool) -> bool:
    return status is Status.FAIL or (strict and status is Status.WARN)


# --------------------------------------------------------------------------- fragments


def junit_fragment(o: JobOutcome, strict: bool) -> Fragment:
    """A testsuite per (model, device) with a testcase per check; a job that could not be
    planned is one suite with one erroring testcase."""
    if o.run is None:
        name = quoteattr(o.name)
        case = (
            f'    <testcase name="plan" classname={name} time="0">'
            f'<error message={quoteattr(o.error or "error")} type="error"/></testcase>'
        )
        suite = (
            f'  <testsuite name={name} tests="1" failures="0" errors="1" skipped="0" time="0">\n'
            f"{case}\n  </testsuite>"
        )
        return Fragment(suite, tests=1, errors=1)
    suites = []
    tests = failures = 0
    run = o.run
    for r in run.reports:
        cases = []
        s_fail = s_skip = 0
        for c in r.checks:
            name = quoteattr(c.id)
            cls = quoteattr(f"{run.model}.{r.device.id}")
            if _is_failure(c.status, strict):
                s_fail += 1
                body = (
                    f"<failure message={quoteattr(c.message)} type={quoteattr(c.status.value)}>"
                    f"{escape(c.threshold)}; source: {escape(c.source)}</failure>"
                )
            elif c.status is Status.SKIP:
                s_skip += 1
                body = f"<skipped message={quoteattr(c.message)}/>"
            else:
                body = f"<system-out>{escape(c.status.value + ': ' + c.message)}</system-out>"
            cases.append(f'    <testcase name={name} classname={cls} time="0">{body}</testcase>')
        tests += len(r.checks)
        failures += s_fail
        suites.append(
            f"  <testsuite name={quoteattr(f'{run.model} on {r.device.id}')} "
            f'tests="{len(r.checks)}" failures="{s_fail}" errors="0" '
            f'skipped="{s_skip}" time="0">\n' + "\n".join(cases) + "\n  </testsuite>"
        )
    return Fragment("\n".join(suites), tests=tests, failures=failures)


_SARIF_LEVEL = {Status.FAIL: "error", Status.WARN: "warning"}
_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
_ERROR_RULE = {
    "id": "planner-error",
    "name": "PlannerError",
    "shortDescription": {"text": "The job could not be planned"},
    "help": {"text": "The model, a device or an option of this job is invalid or unreadable."},
}


def uri_reference(path: str) -> str:
    """A model path as a relative URI reference (RFC 3986), which SARIF's ``uri`` must be: every
    byte but unreserved characters and ``/`` percent-encoded (spaces, ``%``, ``:`` included)."""
    return "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in path.encode("utf-8"))


def _indented(value: object, spaces: int) -> str:
    """``json.dumps(indent=2, sort_keys=True)`` of ``value`` as it reads nested ``spaces`` deep."""
    text = json.dumps(value, indent=2, sort_keys=True)
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())


def _sarif_location(location: str) -> list[dict[str, object]]:
    return [{"physicalLocation": {"artifactLocation": {"uri": uri_reference(location)}}}]


def sarif_fragment(o: JobOutcome, strict: bool) -> Fragment:
    """One result per failing or warning check (an error result for a job that failed)."""
    if o.run is None:
        result = {
            "ruleId": "planner-error",
            "level": "error",
            "message": {"text": f"{o.name}: {o.error}"},
            "locations": _sarif_location(o.location),
            "properties": {"job": o.name},
        }
        error_rule = json.dumps(_ERROR_RULE, sort_keys=True)
        return Fragment(_indented(result, 8), errors=1, rules=(("planner-error", error_rule),))
    rules: dict[str, str] = {}
    results = []
    run = o.run
    for r in run.reports:
        for c in r.checks:
            if c.id not in rules:
                rule = {
                    "id": c.id,
                    "name": c.id.replace("-", " ").title().replace(" ", ""),
                    "shortDescription": {"text": c.title},
                    "help": {"text": f"{c.threshold}. Source: {c.source}"},
                }
                rules[c.id] = json.dumps(rule, sort_keys=True)
            level = _SARIF_LEVEL.get(c.status)
            if level is None:
                continue
            if strict and level == "warning":
                level = "error"
            result = {
                "ruleId": c.id,
                "level": level,
                "message": {"text": f"{r.device.name}: {c.message}"},
                "locations": _sarif_location(run.location),
                "properties": {
                    "device": r.device.id,
                    "measured_bytes": c.measured_bytes,
                    "limit_bytes": c.limit_bytes,
                    "margin_bytes": c.margin_bytes,
                },
            }
            results.append(_indented(result, 8))
    return Fragment(",\n".join(results), failures=len(results), rules=tuple(rules.items()))


def _gh_escape(text: str) -> str:
    text = xml_text(text)  # terminal controls shown as escapes; CR and LF encoded below
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def github_fragment(o: JobOutcome, strict: bool) -> Fragment:
    """GitHub Actions workflow commands (::error / ::warning / ::notice)."""
    if o.run is None:
        title = _gh_prop(f"planner could not plan {o.name}")
        text = f"::error file={_gh_prop(o.location)},title={title}::{_gh_escape(o.error or '')}\n"
        return Fragment(text, errors=1)
    lines = []
    run = o.run
    for r in run.reports:
        for c in r.checks:
            if _is_failure(c.status, strict):
                cmd = "error"
            elif c.status is Status.WARN:
                cmd = "warning"
            else:
                continue
            title = _gh_prop(f"{c.title} on {r.device.name}")
            lines.append(
                f"::{cmd} file={_gh_prop(run.location)},title={title}::{_gh_escape(c.message)}"
            )
        if r.status is Status.PASS:
            lines.append(
                f"::notice file={_gh_prop(run.location)},"
                f"title={_gh_prop('fits ' + r.device.name)}"
                f"::every check passes; largest context {r.max_context}"
            )
    return Fragment("".join(line + "\n" for line in lines))


def jsonl_fragment(o: JobOutcome, strict: bool) -> Fragment:
    """One JSON object per job (schema ``check-job``), on one line."""
    doc: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "check-job",
        "index": o.index,
        "model": o.name,
        "status": o.status_text(strict),
        "seconds": round(o.seconds, 4),
    }
    if o.run is None:
        doc["error"] = o.error
        doc["devices"] = []
    else:
        doc["devices"] = [report_dict(r) for r in o.run.reports]
    return Fragment(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")


def summary_fragment(o: JobOutcome, strict: bool) -> Fragment:
    """One row of the compact summary: status, devices passing, the worst rule, the model."""
    status = o.status_text(strict).upper()
    if o.run is None:
        return Fragment(f"{status:<6} {'-':>7}  {xml_text(o.error or '')[:60]:<60}  {o.name}\n")
    run = o.run
    passing = sum(1 for r in run.reports if not _is_failure(r.status, strict))
    worst = _worst(run, strict)
    return Fragment(f"{status:<6} {passing:>3}/{len(run.reports):<3}  {worst[:60]:<60}  {o.name}\n")


def _worst(run: ModelReports, strict: bool) -> str:
    for r in run.reports:
        for c in r.checks:
            if _is_failure(c.status, strict):
                return f"{r.device.id}: {c.id} ({c.message})"
    return "every check passes"


FRAGMENTS = {
    StreamFormat.jsonl: jsonl_fragment,
    StreamFormat.junit: junit_fragment,
    StreamFormat.sarif: sarif_fragment,
    StreamFormat.github: github_fragment,
    StreamFormat.summary: summary_fragment,
}


def fragment(fmt: StreamFormat, o: JobOutcome, strict: bool) -> Fragment:
    """The job rendered for ``fmt`` (pure: safe to call in a worker process)."""
    return FRAGMENTS[fmt](o, strict)


# --------------------------------------------------------------------------- writers


@dataclass
class StreamWriter:
    """Frames one format's fragments into a whole report on ``sink``."""

    fmt: StreamFormat
    sink: Sink
    tests: int = 0
    failures: int = 0
    errors: int = 0
    jobs: int = 0
    rules: dict[str, str] = field(default_factory=dict)
    _spool: IO[str] | None = None
    _any: bool = False

    def begin(self) -> None:
        """Write what comes before the first job."""
        if self.fmt is StreamFormat.junit:
            self._spool = tempfile.SpooledTemporaryFile(
                max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8"
            )
        elif self.fmt is StreamFormat.sarif:
            self.sink.write(
                '{\n  "$schema": "https://json.schemastore.org/sarif-2.1.0.json",\n'
                '  "runs": [\n    {\n      "results": ['
            )
        elif self.fmt is StreamFormat.summary:
            self.sink.write(f"{'status':<6} {'devices':>7}  {'worst check':<60}  job\n")

    def add(self, frag: Fragment) -> None:
        """Write one job's fragment."""
        self.jobs += 1
        self.tests += frag.tests
        self.failures += frag.failures
        self.errors += frag.errors
        for rule_id, rule in frag.rules:
            self.rules.setdefault(rule_id, rule)
        if self.fmt is StreamFormat.junit:
            assert self._spool is not None
            if frag.text:
                self._spool.write(("\n" if self._any else "") + frag.text)
                self._any = True
        elif self.fmt is StreamFormat.sarif:
            if frag.text:
                self.sink.write(("," if self._any else "") + "\n" + frag.text)
                self._any = True
        else:
            self.sink.write(frag.text)

    def end(self, summary: str = "") -> None:
        """Write what comes after the last job (JUnit: the whole document, totals first)."""
        if self.fmt is StreamFormat.junit:
            assert self._spool is not None
            # The root carries only the attributes junit-10.xsd allows there (each testsuite
            # has its own skipped count).
            self.sink.write(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="planner check" '
                f'tests="{self.tests}" failures="{self.failures}" errors="{self.errors}" '
                'time="0">\n'
            )
            self._spool.seek(0)
            while chunk := self._spool.read(1 << 20):
                self.sink.write(chunk)
            self._spool.close()
            self.sink.write(("\n" if self._any else "") + "</testsuites>\n")
        elif self.fmt is StreamFormat.sarif:
            rules = [json.loads(self.rules[k]) for k in sorted(self.rules)]
            tool = {
                "driver": {
                    "name": "planner",
                    "version": __version__,
                    "informationUri": "https://github.com/mlc-planner/planner",
                    "rules": rules,
                }
            }
            tool_text = _indented(tool, 6).lstrip()
            close = "\n      ]," if self._any else "],"
            self.sink.write(f'{close}\n      "tool": {tool_text}\n    }}\n  ],\n')
            self.sink.write('  "version": "2.1.0"\n}\n')
        elif self.fmt is StreamFormat.jsonl:
            doc = {
                "schema_version": SCHEMA_VERSION,
                "kind": "check-summary",
                "jobs": self.jobs,
                "summary": summary,
            }
            self.sink.write(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
        elif self.fmt is StreamFormat.summary and summary:
            self.sink.write(summary + "\n")
