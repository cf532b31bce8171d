"""``planner check --config``: the matrix run's outputs, progress and exit code.

Every output (the main report and each of ``--jsonl/--junit/--sarif/--github/--summary``) is
an ``OutputStream`` written as jobs finish: nothing is held but counters, except for the two
formats that need the whole run at once (``--format json`` and ``html``). Progress: one line per
job on stderr when it is not a terminal (``[37/2000] name PASS 12 ms``), a bar on a terminal.
Exit code: 3 when a job could not be planned (its error is in every report), else 1 when a
check fails (warnings too under ``--strict``), else 0.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from planner.checks import ModelReports
from planner.cli.output import hint, text_style
from planner.cli.progress import interactive, progress
from planner.device import DeviceProfile
from planner.errors import ExitCode
from planner.io.stream import OutputStream
from planner.render.formats import CheckFormat, StreamFormat
from planner.render.stream import Sink, StreamWriter
from planner.request import PlanRequest

_PRIMARY_STREAMS = {
    CheckFormat.text: StreamFormat.summary,
    CheckFormat.junit: StreamFormat.junit,
    CheckFormat.sarif: StreamFormat.sarif,
    CheckFormat.github: StreamFormat.github,
}


class _Stdout:
    def write(self, text: str, /) -> object:
        return sys.stdout.write(text)


def run_matrix(
    requests: Sequence[PlanRequest],
    known: Sequence[DeviceProfile],
    format: CheckFormat,
    output: Path | None,
    streams: dict[StreamFormat, Path],
    *,
    strict: bool,
    workers: int,
    validate: bool,
) -> int:
    """Run every job, stream every report, return the exit code."""
    from planner import matrix

    problems = matrix.validate(requests, known) if validate else {}
    for problem in problems.values():
        print(f"error: {problem.line()}", file=sys.stderr)
    primary = _PRIMARY_STREAMS.get(format)
    outputs: list[tuple[StreamFormat, Path | None]] = list(streams.items())
    if primary is not None:
        outputs.insert(0, (primary, output))
    keep = primary is None  # json needs the whole run (html goes the classic way)
    statuses = {"pass": 0, "warn": 0, "fail": 0, "error": 0}
    runs: list[ModelReports] = []
    total = len(requests)
    with ExitStack() as stack:
        writers: list[StreamWriter] = []
        for fmt, path in outputs:
            sink: Sink = (
                _Stdout()
                if path is None or str(path) == "-"
                else stack.enter_context(OutputStream(path))
            )
            writers.append(StreamWriter(fmt, sink))
        for w in writers:
            w.begin()
        formats = [fmt for fmt, _ in outputs]
        show_bar = interactive() and total > 1
        bar = stack.enter_context(progress(f"checking {total} jobs…")) if show_bar else None
        results = matrix.run(
            requests, known, formats, strict=strict, workers=workers, problems=problems, keep=keep
        )
        for result in results:
            statuses[result.status] += 1
            by_format = dict(result.fragments)
            for w in writers:
                w.add(by_format[w.fmt])
            if keep:
                req = requests[result.index - 1]
                runs.append(
                    result.run
                    or ModelReports(req.name, (), path=str(req.model), error=result.error)
                )
            if bar is not None:
                bar(result.index, total)
            elif total > 1:
                ms = result.seconds * 1000
                hint(f"[{result.index}/{total}] {result.name} {result.status.upper()} {ms:.0f} ms")
        line = (
            f"{total} jobs: {statuses['pass']} pass, {statuses['warn']} warn, "
            f"{statuses['fail']} fail, {statuses['error']} error"
        )
        for w in writers:
            w.end(line)
    if keep:
        from planner.cli.output import emit
        from planner.render.check import render_check

        emit(render_check(runs, format, strict, style=text_style(output)), output)
    for fmt, path in outputs:
        if path is not None and str(path) != "-":
            hint(f"wrote {path} ({fmt.value})")
    if statuses["error"]:
        return int(ExitCode.INVALID_INPUT)
    if statuses["fail"]:
        return int(ExitCode.CHECK_FAILED)
    return 0
