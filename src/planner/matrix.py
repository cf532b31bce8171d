"""A check matrix (``planner check --config``) run job by job, its reports streamed.

Every job is validated before any is run (model path, devices, quantization name), so all
problems are reported at once with the job's name; a job that cannot be planned becomes an
error case in the reports, never a lost report. Jobs then run in order — in worker processes
with ``workers > 1`` — and each job's outcome is rendered to every requested format right away
(``planner.render.stream`` fragments, rendered where the job ran), so memory does not grow with
the matrix: nothing but counters outlives a job.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from planner import api
from planner.checks import JobOutcome, ModelReports
from planner.device import DeviceProfile
from planner.device_tiers import resolve_device
from planner.errors import PlannerError
from planner.quant import mlc_scheme, ort_scheme
from planner.render.formats import StreamFormat
from planner.render.stream import Fragment, fragment
from planner.request import PlanRequest
from planner.settings import Runtime


@dataclass(frozen=True, slots=True)
class JobProblem:
    """Why a job cannot be planned, found before the run."""

    index: int
    name: str
    message: str

    def line(self) -> str:
        """``jobs[3] (name): message``."""
        return f"jobs[{self.index}] ({self.name}): {self.message}"


@dataclass(frozen=True, slots=True)
class JobResult:
    """One finished job: its status, time, and its rendering in each requested format."""

    index: int
    name: str
    status: str
    """``pass``, ``warn``, ``fail`` or ``error``."""
    seconds: float
    fragments: tuple[tuple[StreamFormat, Fragment], ...]
    error: str | None = None
    run: ModelReports | None = None
    """The reports themselves, only when asked for (formats that need the whole run)."""


def _quantization_known(name: str, runtime: Runtime | None) -> bool:
    parsers = {Runtime.MLC: mlc_scheme, Runtime.ONNXRUNTIME: ort_scheme}
    chosen = [parsers[runtime]] if runtime is not None else list(parsers.values())
    for parse in chosen:
        try:
            parse(name)
        except PlannerError:
            continue
        return True
    return False


def _device_problem(name: str, known: Sequence[DeviceProfile]) -> str | None:
    try:
        resolve_device(name, known)
    except PlannerError as exc:
        return exc.one_line()
    return None


def validate(
    requests: Sequence[PlanRequest], known: Sequence[DeviceProfile]
) -> dict[int, JobProblem]:
    """Every problem found without planning, by 1-based job index (all of them, not the first)."""
    problems: dict[int, JobProblem] = {}
    for i, req in enumerate(requests, 1):
        found: list[str] = []
        for path, what in ((req.model, "model"), (req.draft, "draft model")):
            if path is not None and not (path.exists() or path.is_symlink()):
                found.append(f"{what} {str(path)!r} not found")
        found.extend(e for name in req.devices if (e := _device_problem(name, known)))
        if req.quantization and not _quantization_known(req.quantization, req.runtime):
            found.append(f"unknown quantization {req.quantization!r}")
        if found:
            problems[i] = JobProblem(i, req.name, "; ".join(found))
    return problems


def run_one(
    index: int,
    request: PlanRequest,
    known: Sequence[DeviceProfile],
    formats: Sequence[StreamFormat],
    strict: bool,
    problem: str | None = None,
    keep: bool = False,
) -> JobResult:
    """Plan one job and render it (an error outcome when it cannot be planned)."""
    started = time.perf_counter()
    run = None
    error = problem
    if error is None:
        try:
            run = api.check(request, known).run
        except PlannerError as exc:
            error = exc.one_line()
    seconds = time.perf_counter() - started
    outcome = JobOutcome(index, request.name, str(request.model), run, error, seconds)
    frags = tuple((fmt, fragment(fmt, outcome, strict)) for fmt in formats)
    status = outcome.status_text(strict)
    return JobResult(index, request.name, status, seconds, frags, error, run if keep else None)


_WORKER: dict[str, object] = {}
"""The worker processes' copy of the run (set before the pool forks, or by the initializer)."""


def _init_worker(state: dict[str, object]) -> None:
    _WORKER.update(state)


def _work(index: int) -> JobResult:
    requests: Sequence[PlanRequest] = _WORKER["requests"]  # type: ignore[assignment]
    problems: dict[int, JobProblem] = _WORKER["problems"]  # type: ignore[assignment]
    problem = problems.get(index)
    return run_one(
        index,
        requests[index - 1],
        _WORKER["known"],  # type: ignore[arg-type]
        _WORKER["formats"],  # type: ignore[arg-type]
        bool(_WORKER["strict"]),
        problem.message if problem is not None else None,
        bool(_WORKER["keep"]),
    )


def run(
    requests: Sequence[PlanRequest],
    known: Sequence[DeviceProfile],
    formats: Sequence[StreamFormat],
    *,
    strict: bool = False,
    workers: int = 1,
    problems: dict[int, JobProblem] | None = None,
    keep: bool = False,
) -> Iterator[JobResult]:
    """Every job's result, in job order, as it finishes."""
    problems = problems if problems is not None else validate(requests, known)
    if workers <= 1 or len(requests) < 2:
        for i, req in enumerate(requests, 1):
            problem = problems.get(i)
            message = problem.message if problem else None
            yield run_one(i, req, known, formats, strict, message, keep)
        return
    state: dict[str, object] = {
        "requests": tuple(requests),
        "known": tuple(known),
        "formats": tuple(formats),
        "strict": strict,
        "problems": problems,
        "keep": keep,
    }
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    count = min(workers, len(requests), os.cpu_count() or 1)
    with ctx.Pool(count, initializer=_init_worker, initargs=(state,)) as pool:
        yield from pool.imap(_work, range(1, len(requests) + 1), chunksize=1)
