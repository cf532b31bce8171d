"""CI formats for check results: JUnit XML, SARIF 2.1.0 and GitHub workflow annotations (pure).

One test case / SARIF result per (model, device, check). Failing checks are JUnit failures and
SARIF ``error``; warnings are SARIF ``warning`` (JUnit: passing with a system-out note, or a
failure under ``--strict``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from planner import __version__
from planner.checks import ModelReports, Status
from planner.text import xml_text


def escape(text: str) -> str:
    """XML text escaping (xml.sax.saxutils pulls in urllib; this keeps CLI start-up fast).
    Characters XML 1.0 forbids (control characters from a job or folder name) become visible
    escapes first, so the document stays well formed."""
    return xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def render_junit(runs: Sequence[ModelReports], strict: bool = False) -> str:
    """JUnit XML: a testsuite per (model, device), a testcase per check."""
    suites = []
    total = failures = 0
    for run in runs:
        for r in run.reports:
            cases = []
            s_fail = s_skip = 0
            for c in r.checks:
                name = quoteattr(c.id)
                cls = quoteattr(f"{run.model}.{r.device.id}")
                body = ""
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
                cases.append(
                    f'    <testcase name={name} classname={cls} time="0">{body}</testcase>'
                )
            total += len(r.checks)
            failures += s_fail
            suites.append(
                f"  <testsuite name={quoteattr(f'{run.model} on {r.device.id}')} "
                f'tests="{len(r.checks)}" failures="{s_fail}" errors="0" '
                f'skipped="{s_skip}" time="0">\n' + "\n".join(cases) + "\n  </testsuite>"
            )
    # The root carries only the attributes junit-10.xsd (Jenkins xUnit; what pytest writes and
    # GitLab/GitHub reporters read) allows there: no `skipped` (each testsuite has its own).
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="planner check" '
        f'tests="{total}" failures="{failures}" errors="0" time="0">\n'
    )
    return head + "\n".join(suites) + ("\n" if suites else "") + "</testsuites>\n"


_SARIF_LEVEL = {Status.FAIL: "error", Status.WARN: "warning"}
_URI_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")


def uri_reference(path: str) -> str:
    """A model path as a relative URI reference (RFC 3986), which SARIF's ``uri`` must be: every
    byte but unreserved characters and ``/`` percent-encoded (spaces, ``%``, ``:`` included)."""
    return "".join(chr(b) if b in _URI_SAFE else f"%{b:02X}" for b in path.encode("utf-8"))


def render_sarif(runs: Sequence[ModelReports], strict: bool = False) -> str:
    """SARIF 2.1.0: one rule per check id, one result per failing or warning check."""
    rules: dict[str, dict[str, object]] = {}
    results = []
    for run in runs:
        for r in run.reports:
            for c in r.checks:
                rules.setdefault(
                    c.id,
                    {
                        "id": c.id,
                        "name": c.id.replace("-", " ").title().replace(" ", ""),
                        "shortDescription": {"text": c.title},
                        "help": {"text": f"{c.threshold}. Source: {c.source}"},
                    },
                )
                level = _SARIF_LEVEL.get(c.status)
                if level is None:
                    continue
                if strict and level == "warning":
                    level = "error"
                results.append(
                    {
                        "ruleId": c.id,
                        "level": level,
                        "message": {"text": f"{r.device.name}: {c.message}"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": uri_reference(run.location)}
                                }
                            }
                        ],
                        "properties": {
                            "device": r.device.id,
                            "measured_bytes": c.measured_bytes,
                            "limit_bytes": c.limit_bytes,
                            "margin_bytes": c.margin_bytes,
                        },
                    }
                )
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "planner",
                        "version": __version__,
                        "informationUri": "https://github.com/mlc-planner/planner",
                        "rules": [rules[k] for k in sorted(rules)],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _gh_escape(text: str) -> str:
    text = xml_text(text)  # terminal controls shown as escapes; CR and LF encoded below
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_escape(text).replace(":", "%3A").replace(",", "%2C")


def render_github(runs: Sequence[ModelReports], strict: bool = False) -> str:
    """GitHub Actions workflow commands (::error / ::warning / ::notice)."""
    lines = []
    for run in runs:
        for r in run.reports:
            for c in r.checks:
                if c.status is Status.FAIL or (strict and c.status is Status.WARN):
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
    return "\n".join(lines) + ("\n" if lines else "")
