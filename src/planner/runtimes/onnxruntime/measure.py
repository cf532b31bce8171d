"""Measure, for real, the memory an ONNX model needs: the one place in planner that runs models.

``measure(model_dir, context=N, prefill=P)`` answers the question the budget engine predicts: the
peak resident memory that loading the model and generating (a prompt of ``prefill`` tokens, KV
cache sized for ``context`` tokens) **adds** to a process that has already imported the runtime,
on the CPU execution provider.

How it measures
    Each call starts a fresh interpreter (``sys.executable``) running ``planner/_measure_child.py``
    by path, so the peak belongs to that run alone and nothing planner imports sits in the
    baseline. Parameters go in as JSON on stdin; one JSON line comes back on stdout. The child
    imports the runtime, records the baseline RSS, resets the kernel's peak counter
    (``/proc/self/clear_refs``), then loads the model, creates the generator, runs the prompt and
    ``decode_tokens`` single-token steps, recording RSS/peak after each phase. The answer is
    ``added_peak_bytes = peak - RSS after the imports``, the peak being the highest ``VmHWM``
    read (at the end or after any phase: the kernel's RSS counters are per-CPU approximations,
    so a later reading can be a few pages lower than an earlier one).

Backends
    ``onnxruntime-genai`` (used when importable; the ``measure`` extra):
    ``og.Model``, ``GeneratorParams`` with ``max_length = context`` (and ``min_length`` = prompt
    + decode tokens, so random weights cannot stop early on eos), a prompt of pseudo-random token
    ids below ``vocab_size`` that avoids the eos ids, ``append_tokens``, then
    ``generate_next_token`` steps (never past ``max_length``).

    ``onnxruntime`` (fallback when onnxruntime-genai is not importable, or on request): a plain
    ``InferenceSession`` on the decoder named by ``genai_config.json`` (or the folder's only
    ``.onnx``) with the config's arena/mem-pattern/thread/config-entry session options. It
    reproduces what genai does with the KV cache, which is what dominates the difference:

    * with ``past_present_share_buffer`` (genai builder CPU models): one ``[1, kv_heads, context,
      head]`` buffer per K and V, allocated and zero-filled up front, bound through IOBinding as
      both the past input and the present output; then the prompt, then up to ``decode_tokens``
      steps, exactly like genai's shared-buffer mode;
    * without it (e.g. Optimum exports): the prompt with an empty past, then **one** decode step
      whose past holds ``context - 1`` tokens as numpy arrays (the largest past a run can have), so
      past and present both exist, as they do in genai's last step.

    We judged the fallback faithful enough to keep. On the 18 genai-built benchmark models
    (``benchmarks/ort_bench``, prompts 512/2048, max_length 2048/8192) its ``added_peak_bytes``
    was within -9.3 % .. +3.8 % of onnxruntime-genai's (median -0.5 %): genai's own state adds
    some tens of MB for short prompts, and the fallback's logits handling adds a little for long
    ones. ``Measurement.backend`` says which one ran; prefer onnxruntime-genai for calibration.

Platforms
    Linux: ``/proc/self/status`` (``VmRSS``, ``VmHWM``, ``RssAnon``, ``RssFile``). Elsewhere only
    ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` exists: the peak is right, but the baseline is
    the peak reached by the imports and phase "RSS" figures are peaks so far
    (``memory_source == "getrusage"``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from planner.errors import InputError, MissingDependencyError, UsageError

Backend = Literal["auto", "onnxruntime-genai", "onnxruntime"]

_CHILD = Path(__file__).with_name("_measure_child.py")
_MARKER = "PLANNER_MEASURE_RESULT "
FIXED_HEAP_ENV = {"MALLOC_MMAP_THRESHOLD_": "131072"}
"""glibc tunable (``mallopt(3)`` ``M_MMAP_THRESHOLD``) for a fixed-heap run: a fixed threshold
turns off its dynamic rise, so every request of 128 KiB or more is mapped and unmapped when
freed (MECHANISMS.md §3)."""
# `-c` puts '' (the working directory) first on sys.path; drop it so nothing there shadows a module.
_BOOTSTRAP = (
    "import runpy, sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)
_GENAI_HINT = (
    "install the measure extra: pip install 'mlc-planner[measure]' "
    "(from a checkout: pip install '.[measure]')"
)


@dataclass(frozen=True)
class PhaseMemory:
    """Process memory right after one phase of the run (bytes)."""

    name: str
    """``import``, ``model_load``, ``generator``, ``prefill`` or ``decode``."""
    rss_bytes: int
    peak_rss_bytes: int
    """The process's peak RSS so far (after the post-import reset)."""
    rss_anon_bytes: int | None
    """Anonymous (heap) part of the RSS; None where /proc is unavailable."""
    rss_file_bytes: int | None
    """File-backed part (memory-mapped weights, libraries); None where /proc is unavailable."""
    seconds: float
    """Wall time the phase took."""


@dataclass(frozen=True)
class Measurement:
    """What one real run added to the process, with per-phase figures."""

    model_dir: str
    backend: str
    """``onnxruntime-genai`` or ``onnxruntime`` (the fallback); see the module docstring."""
    context: int
    prefill: int
    decode_tokens: int
    """Decode steps requested."""
    decode_steps: int
    """Decode steps run (fewer when ``prefill + decode_tokens > context``)."""
    baseline_rss_bytes: int
    """RSS after importing onnxruntime-genai (when used), onnxruntime and numpy."""
    peak_rss_bytes: int
    """Peak RSS (VmHWM) at the end of the run."""
    added_peak_bytes: int
    """``peak_rss_bytes - baseline_rss_bytes``: the figure the budget engine predicts."""
    phases: tuple[PhaseMemory, ...]
    kv_mode: str
    """``genai`` (genai's own cache), ``shared-buffer`` or ``growing`` (fallback modes)."""
    peak_reset: bool
    """Whether the kernel's peak counter was reset after the imports (Linux)."""
    memory_source: str
    """``proc-status`` (Linux) or ``getrusage`` (peak only; see the module docstring)."""
    versions: Mapping[str, str] = field(hash=False)
    platform: str = ""
    python: str = ""
    system: str = ""
    """``linux``, ``darwin``, ``windows`` (Python's ``platform.system()``, lower case)."""
    arch: str = ""
    """``x86_64``, ``aarch64``, ``arm64`` (``platform.machine()``, lower case)."""
    dotprod: bool | None = None
    """arm64 Linux: the CPU has the dot-product extension (``asimddp``); None when unknown."""
    fixed_heap: bool = False
    """Run with glibc's mmap threshold fixed (``FIXED_HEAP_ENV``): freed buffers of 128 KiB or
    more go back to the system, as a phone's allocator returns them."""
    malloc_env: Mapping[str, str] = field(default_factory=dict, hash=False)
    """The ``MALLOC_*`` tunables the child saw."""

    @property
    def ort_platform(self) -> str | None:
        """The planner platform this run measured (None when it cannot tell); a glibc platform's
        fixed-heap variant for a ``fixed_heap`` run."""
        from planner.runtimes.onnxruntime.platforms import FIXED_HEAP, PLATFORMS, detect_platform

        key = detect_platform(self.system, self.arch, self.dotprod)
        if key is not None and self.fixed_heap and key + FIXED_HEAP in PLATFORMS:
            return key + FIXED_HEAP
        return key

    def phase(self, name: str) -> PhaseMemory:
        """The phase called ``name``; KeyError when it did not run."""
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (phases as a list of dicts)."""
        return {
            "model_dir": self.model_dir,
            "backend": self.backend,
            "context": self.context,
            "prefill": self.prefill,
            "decode_tokens": self.decode_tokens,
            "decode_steps": self.decode_steps,
            "baseline_rss_bytes": self.baseline_rss_bytes,
            "peak_rss_bytes": self.peak_rss_bytes,
            "added_peak_bytes": self.added_peak_bytes,
            "kv_mode": self.kv_mode,
            "peak_reset": self.peak_reset,
            "memory_source": self.memory_source,
            "versions": dict(self.versions),
            "platform": self.platform,
            "system": self.system,
            "arch": self.arch,
            "dotprod": self.dotprod,
            "fixed_heap": self.fixed_heap,
            "malloc_env": dict(self.malloc_env),
            "ort_platform": self.ort_platform,
            "python": self.python,
            "phases": [
                {
                    "name": p.name,
                    "rss_bytes": p.rss_bytes,
                    "peak_rss_bytes": p.peak_rss_bytes,
                    "rss_anon_bytes": p.rss_anon_bytes,
                    "rss_file_bytes": p.rss_file_bytes,
                    "seconds": p.seconds,
                }
                for p in self.phases
            ],
        }


def measure(
    model_dir: Path,
    *,
    context: int,
    prefill: int,
    decode_tokens: int = 8,
    timeout_s: float = 600,
    backend: Backend = "auto",
    seed: int = 0,
    python: str | None = None,
    evict_page_cache: bool = True,
    fixed_heap: bool = False,
) -> Measurement:
    """Run the model in a fresh process and return the memory it added (see the module docstring).

    ``python`` is the interpreter to run (default: this one), e.g. a virtualenv with
    onnxruntime-genai. With ``evict_page_cache`` the child first drops the model folder's files
    and the runtime's shared libraries from the page cache (Linux ``posix_fadvise(DONTNEED)``):
    files just written map whole at a fault, which is not how a deployed app sees them
    (``_measure_child.evict_page_cache`` says by how much). With ``fixed_heap`` the child runs
    with glibc's mmap threshold fixed (``FIXED_HEAP_ENV``; the caller's other ``MALLOC_*``
    settings dropped): what glibc's heap would keep of freed buffers, which varies by run, is
    not kept (benchmarks/ort_bench/probe_malloc.py).

    Raises ``UsageError`` for bad numbers, ``MissingDependencyError`` when the
    requested runtime is not importable in the child, ``InputError`` when the model cannot be run
    or the run times out.
    """
    for name, value, low in (
        ("context", context, 1),
        ("prefill", prefill, 1),
        ("decode_tokens", decode_tokens, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise UsageError(f"{name} must be an integer >= {low}, got {value!r}")
    if prefill > context:
        raise UsageError(f"prefill ({prefill}) cannot exceed context ({context})")
    if backend not in ("auto", "onnxruntime-genai", "onnxruntime"):
        raise UsageError(f"unknown backend {backend!r}")
    if not timeout_s > 0:
        raise UsageError(f"timeout_s must be positive, got {timeout_s!r}")
    if fixed_heap and not sys.platform.startswith("linux"):
        raise UsageError("--fixed-heap sets a glibc malloc tunable: Linux only")
    folder = Path(model_dir)
    if not folder.is_dir():
        raise InputError("not a model folder", path=str(model_dir))

    request = {
        "model_dir": str(folder.resolve()),
        "context": context,
        "prefill": prefill,
        "decode_tokens": decode_tokens,
        "seed": seed,
        "backend": backend,
        "evict_page_cache": evict_page_cache,
        "fixed_heap": bool(fixed_heap),
    }
    result = _run_child(request, python or sys.executable, timeout_s, str(model_dir))
    return _measurement(result, request, str(model_dir))


def _run_child(
    request: dict[str, Any], python: str, timeout_s: float, shown_path: str
) -> dict[str, Any]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if request.get("fixed_heap"):  # no other malloc tunable may change what "fixed" means
        env = {k: v for k, v in env.items() if not _malloc_tunable(k)} | FIXED_HEAP_ENV
    try:
        proc = subprocess.run(
            [python, "-c", _BOOTSTRAP, str(_CHILD)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"measurement timed out after {timeout_s:g} s", path=shown_path) from exc
    except OSError as exc:
        raise MissingDependencyError(f"cannot start {python}: {exc.strerror or exc}") from exc

    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_MARKER):
            try:
                data = json.loads(line[len(_MARKER) :])
            except ValueError:
                break
            if not isinstance(data, dict):
                break
            if "error" in data:
                message = str(data["error"])
                if data.get("kind") == "dependency":
                    raise MissingDependencyError(message, hint=_GENAI_HINT)
                raise InputError(message, path=shown_path)
            return data
    # No result line: the child died (killed for memory, crashed in native code, ...).
    tail = " ".join((proc.stderr or "").strip().splitlines()[-1:])[:300]
    why = f"exit status {proc.returncode}" + (f": {tail}" if tail else "")
    raise InputError(f"measurement process ended without a result ({why})", path=shown_path)


def _malloc_tunable(name: str) -> bool:
    return name.startswith("MALLOC_") or name == "GLIBC_TUNABLES"


def planned_platform(m: Measurement, asked: str | None) -> str | None:
    """The platform to plan a measured run on: the one asked for, else the one the run detected;
    a fixed-heap run on its ``-fixedheap`` variant (so that its calibration is filed apart), and
    a ``-fixedheap`` platform only for a fixed-heap run."""
    from planner.runtimes.onnxruntime.platforms import FIXED_HEAP, PLATFORMS

    key = asked or m.ort_platform
    if m.fixed_heap:
        if key is not None and not key.endswith(FIXED_HEAP):
            if key + FIXED_HEAP not in PLATFORMS:
                raise UsageError(f"--fixed-heap: platform {key} has no glibc heap to fix")
            key += FIXED_HEAP
    elif key is not None and key.endswith(FIXED_HEAP) and m.backend != "device":
        raise UsageError(f"platform {key} is for runs made with --fixed-heap")
    return key


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"measurement process returned a bad {key!r}: {value!r}")
    return value


def _opt_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None else _int(data, key)


def _measurement(data: dict[str, Any], request: dict[str, Any], shown_path: str) -> Measurement:
    phases = tuple(
        PhaseMemory(
            name=str(p.get("name")),
            rss_bytes=_int(p, "rss_bytes"),
            peak_rss_bytes=_int(p, "peak_rss_bytes"),
            rss_anon_bytes=_opt_int(p, "rss_anon_bytes"),
            rss_file_bytes=_opt_int(p, "rss_file_bytes"),
            seconds=float(p.get("seconds", 0.0)),
        )
        for p in data.get("phases", [])
        if isinstance(p, dict)
    )
    baseline, peak = _int(data, "baseline_rss_bytes"), _int(data, "peak_rss_bytes")
    versions = data.get("versions")
    malloc = data.get("malloc_env")
    return Measurement(
        model_dir=shown_path,
        backend=str(data.get("backend")),
        context=request["context"],
        prefill=request["prefill"],
        decode_tokens=request["decode_tokens"],
        decode_steps=_int(data, "decode_steps"),
        baseline_rss_bytes=baseline,
        peak_rss_bytes=peak,
        added_peak_bytes=peak - baseline,
        phases=phases,
        kv_mode=str(data.get("kv_mode")),
        peak_reset=bool(data.get("peak_reset")),
        memory_source=str(data.get("memory_source")),
        versions=(
            {str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {}
        ),
        platform=str(data.get("platform", "")),
        python=str(data.get("python", "")),
        system=str(data.get("system", "")),
        arch=str(data.get("arch", "")),
        dotprod=data.get("dotprod") if isinstance(data.get("dotprod"), bool) else None,
        fixed_heap=bool(request.get("fixed_heap")),
        malloc_env=(
            {str(k): str(v) for k, v in malloc.items()} if isinstance(malloc, dict) else {}
        ),
    )
