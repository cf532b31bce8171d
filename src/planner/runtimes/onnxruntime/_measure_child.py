"""Child process of ``planner.runtimes.onnxruntime.measure``: load one model, generate, report
memory as JSON.

Run only by ``measure.measure`` in a fresh interpreter, so that the process's peak resident
set size (``VmHWM``) belongs to this one run. It reads its parameters as one JSON object on stdin
and prints one line ``PLANNER_MEASURE_RESULT <json>`` on stdout (anything else the runtime prints is
ignored by the parent). A failure is reported the same way, as ``{"error": "...", "kind": "..."}``.

This file deliberately imports nothing from ``planner`` (it is started by path, not as a package
module): the baseline must be "Python + onnxruntime(-genai) imported" and nothing else.

Phases (each records RSS, peak RSS, anonymous/file-backed RSS and seconds):

* ``import``: ``onnxruntime_genai`` (when used), ``onnxruntime`` and ``numpy`` imported; on Linux
  the peak is then reset (``echo 5 > /proc/self/clear_refs``) so that the final peak is the
  run's alone.
* ``model_load``: ``og.Model(dir)`` / ``ort.InferenceSession(model.onnx)``.
* ``generator``: ``og.Generator`` with ``max_length = context`` / KV buffers allocated.
* ``prefill``: the ``prefill``-token prompt run.
* ``decode``: up to ``decode_tokens`` single-token steps.

Session options come from the model's own genai_config.json, an untrusted file: only the
allow-listed, memory-relevant ones are used (``allowed_session_options``) — nothing that names
a file, a folder, a library or an execution provider passes, and thread counts are capped at
this machine's CPU count. When the config asks for more, onnxruntime-genai is given a copy of
the folder (links to its files) whose genai_config.json holds only the allowed options.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

RESULT_MARKER = "PLANNER_MEASURE_RESULT "
_PAGE = 1024  # /proc/self/status reports kB
MAX_CONFIG_BYTES = 16 * 1024 * 1024

# Session options a model's config may set: memory-relevant switches and thread counts. Nothing
# that names a path, a library or an execution provider (custom_ops_library, enable_profiling,
# ep_context_file_path, provider_options, ...) is listed.
_BOOL_OPTIONS = frozenset(
    {
        "enable_cpu_mem_arena",
        "enable_mem_pattern",
        "disable_cpu_ep_fallback",
        "disable_quant_qdq",
        "enable_quant_qdq_cleanup",
        "use_env_allocators",
    }
)
_THREAD_OPTIONS = frozenset({"intra_op_num_threads", "inter_op_num_threads"})
_TEXT_OPTIONS = {
    "log_id": re.compile(r"^[\w.-]{0,64}$"),
    "graph_optimization_level": re.compile(
        r"^(ORT_DISABLE_ALL|ORT_ENABLE_BASIC|ORT_ENABLE_EXTENDED|ORT_ENABLE_ALL)$"
    ),
}
_CONFIG_ENTRIES = frozenset(
    {
        "session.disable_prepacking",
        "session.use_device_allocator_for_initializers",
        "session.use_env_allocators",
        "session.intra_op.allow_spinning",
        "session.inter_op.allow_spinning",
        "session.disable_quant_qdq",
        "session.enable_quant_qdq_cleanup",
        "session.disable_double_qdq_remover",
        "session.qdq_matmulnbits_accuracy_level",
        "session.set_denormal_as_zero",
        "session.disable_aot_function_inlining",
        "session.disable_cpu_ep_fallback",
        "session.x64quantprecision",
        "session.dynamic_block_base",
        "mlas.enable_gemm_fastmath_arm64_bfloat16",
    }
)
_ENTRY_VALUE = re.compile(r"^[A-Za-z0-9_.+-]{0,32}$")


class ChildError(Exception):
    """A failure to report to the parent; ``kind``: ``input`` (bad model/params), ``dependency``."""

    def __init__(self, message: str, kind: str = "input") -> None:
        super().__init__(message)
        self.kind = kind


# ----------------------------------------------------------------------------------------------
# Memory figures


def _proc_status() -> dict[str, int] | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
            values[key] = int(rest.split()[0]) * _PAGE
    return values if "VmRSS" in values and "VmHWM" in values else None


def _maxrss_bytes() -> int:
    import resource

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is in bytes on macOS, kilobytes on Linux and the BSDs.
    return int(maxrss) if sys.platform == "darwin" else int(maxrss) * 1024


def snapshot(name: str, started: float) -> dict[str, Any]:
    """Memory of this process now: RSS, peak RSS and (Linux) the anon/file split."""
    status = _proc_status()
    if status is not None:
        return {
            "name": name,
            "rss_bytes": status["VmRSS"],
            "peak_rss_bytes": status["VmHWM"],
            "rss_anon_bytes": status.get("RssAnon"),
            "rss_file_bytes": status.get("RssFile"),
            "seconds": round(time.monotonic() - started, 4),
        }
    peak = _maxrss_bytes()
    # Without /proc there is no current RSS: the peak so far stands in for it.
    return {
        "name": name,
        "rss_bytes": peak,
        "peak_rss_bytes": peak,
        "rss_anon_bytes": None,
        "rss_file_bytes": None,
        "seconds": round(time.monotonic() - started, 4),
    }


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter for this process (Linux >= 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# Model folder facts


def read_genai_config(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "genai_config.json"
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ChildError(f"genai_config.json is larger than {MAX_CONFIG_BYTES} bytes")
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise ChildError(f"genai_config.json is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ChildError("genai_config.json is not a JSON object")
    return data


def _section(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        value = data.get(key)
        data = value if isinstance(value, dict) else {}
    return data


def _int_list(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def prompt_ids(count: int, vocab_size: int, avoid: set[int], seed: int) -> list[int]:
    """``count`` pseudo-random token ids below ``vocab_size`` that are not in ``avoid``."""
    allowed = vocab_size - len({t for t in avoid if 0 <= t < vocab_size})
    if allowed <= 0:
        raise ChildError(f"vocab_size {vocab_size} leaves no token id to prompt with")
    rng = random.Random(seed)
    ids: list[int] = []
    while len(ids) < count:
        token = rng.randrange(vocab_size)
        if token not in avoid:
            ids.append(token)
    return ids


# ----------------------------------------------------------------------------------------------
# onnxruntime-genai path


def run_genai(
    og: Any,
    model_dir: Path,
    params: dict[str, Any],
    phases: list[dict[str, Any]],
    clock: list[float],
) -> dict[str, Any]:
    config = read_genai_config(model_dir)
    if not config:
        raise ChildError(
            "no genai_config.json in the model folder (onnxruntime-genai needs one; "
            "the onnxruntime backend can measure without it)"
        )
    model_cfg = _section(config, "model")
    vocab = model_cfg.get("vocab_size")
    if not isinstance(vocab, int) or isinstance(vocab, bool) or vocab <= 0:
        raise ChildError("genai_config.json has no positive model.vocab_size")
    avoid = set(_int_list(model_cfg.get("eos_token_id")))
    context, prefill, decode = params["context"], params["prefill"], params["decode_tokens"]

    def mark(name: str) -> None:
        phases.append(snapshot(name, clock[0]))
        clock[0] = time.monotonic()

    try:
        with allowed_model_folder(model_dir, config) as folder:
            model = og.Model(str(folder))
        mark("model_load")
        gen_params = og.GeneratorParams(model)
        # min_length keeps a random-weight model from stopping early on an eos token.
        gen_params.set_search_options(
            max_length=context, min_length=min(context, prefill + decode), batch_size=1
        )
        generator = og.Generator(model, gen_params)
        mark("generator")
        import numpy as np

        tokens = np.asarray(prompt_ids(prefill, vocab, avoid, params["seed"]), dtype=np.int32)
        generator.append_tokens(tokens)
        mark("prefill")
        steps = 0
        # genai refuses a step once the sequence has reached max_length.
        while steps < decode and prefill + steps < context and not generator.is_done():
            generator.generate_next_token()
            steps += 1
        mark("decode")
    except ChildError:
        raise
    except Exception as exc:  # onnxruntime-genai raises plain RuntimeError for bad models
        raise ChildError(f"onnxruntime-genai failed: {_one_line(exc)}") from exc
    return {"decode_steps": steps, "kv_mode": "genai"}


# ----------------------------------------------------------------------------------------------
# plain onnxruntime fallback

_ORT_TO_NUMPY = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(bfloat16)": None,
}


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(template).replace("%d", r"(\d+)") + "$")


def cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def allowed_session_options(
    options: Any, cpus: int | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The allow-listed part of a genai ``session_options`` block, and what was left out.

    Thread counts are capped at ``cpus`` (default: this machine's); ``provider_options`` is
    always empty (the CPU execution provider); config entries must be allow-listed keys with
    short plain values.
    """
    limit = cpus if cpus is not None else cpu_count()
    kept: dict[str, Any] = {"provider_options": []}
    dropped: list[str] = []
    if not isinstance(options, dict):
        return kept, dropped
    for key, value in options.items():
        name = str(key)
        if key == "provider_options":
            if value not in ([], None):
                dropped.append(name)
        elif key in _BOOL_OPTIONS and isinstance(value, bool):
            kept[key] = value
        elif key in _THREAD_OPTIONS and isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                dropped.append(name)
            else:
                kept[key] = min(value, limit)
                if value > limit:
                    dropped.append(f"{name}={value} (capped at {limit})")
        elif key in _TEXT_OPTIONS and isinstance(value, str) and _TEXT_OPTIONS[key].match(value):
            kept[key] = value
        elif key == "log_severity_level" and isinstance(value, int) and 0 <= value <= 4:
            kept[key] = value
        elif key == "config_entries" and isinstance(value, dict):
            entries = {}
            for entry, setting in value.items():
                text = str(setting).lower() if isinstance(setting, bool) else setting
                if (
                    entry in _CONFIG_ENTRIES
                    and isinstance(text, (str, int))
                    and _ENTRY_VALUE.match(str(text))
                ):
                    entries[entry] = str(text)
                else:
                    dropped.append(f"config_entries.{str(entry)[:80]}")
            if entries:
                kept[key] = entries
        else:
            dropped.append(name[:80])
    return kept, dropped


def _session_options(ort: Any, decoder: dict[str, Any]) -> Any:
    """ORT session options from genai_config's ``session_options`` (the allow-listed subset)."""
    options = ort.SessionOptions()
    cfg, _ = allowed_session_options(_section(decoder, "session_options"))
    for key, attr in (
        ("enable_cpu_mem_arena", "enable_cpu_mem_arena"),
        ("enable_mem_pattern", "enable_mem_pattern"),
    ):
        if isinstance(cfg.get(key), bool):
            setattr(options, attr, cfg[key])
    for key in ("intra_op_num_threads", "inter_op_num_threads"):
        if isinstance(cfg.get(key), int) and not isinstance(cfg.get(key), bool):
            setattr(options, key, cfg[key])
    entries = cfg.get("config_entries")  # onnxruntime-genai 0.8-0.10 nested form
    if isinstance(entries, dict):
        for key, value in entries.items():
            options.add_session_config_entry(str(key), str(value))
    for key, value in cfg.items():
        # 0.11+: any other string-valued key is a config entry (src/config.cpp), e.g.
        # "session.disable_prepacking": "1" as planner's genai_config patch writes it.
        if "." in key and isinstance(value, str):
            options.add_session_config_entry(key, value)
    return options


@contextlib.contextmanager
def allowed_model_folder(model_dir: Path, config: dict[str, Any]) -> Iterator[Path]:
    """``model_dir`` itself when its genai_config.json asks only for allowed session options,
    else a temporary folder of links to its files with the options reduced to the allowed ones
    (onnxruntime-genai reads the options from the folder's config file itself)."""
    decoder = _section(config, "model", "decoder")
    asked = decoder.get("session_options")
    kept, dropped = allowed_session_options(asked)
    if not dropped:
        yield model_dir
        return
    staged = Path(tempfile.mkdtemp(prefix="planner-measure-"))
    try:
        real = model_dir.resolve()
        for entry in model_dir.iterdir():
            if entry.name == "genai_config.json":
                continue
            target = entry.resolve()
            if target == real or real in target.parents:  # never link anything outside
                (staged / entry.name).symlink_to(target, target_is_directory=target.is_dir())
        clean = json.loads(json.dumps(config))
        clean["model"]["decoder"]["session_options"] = kept
        (staged / "genai_config.json").write_text(json.dumps(clean), encoding="utf-8")
        yield staged
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def _find_onnx(model_dir: Path, decoder: dict[str, Any]) -> Path:
    name = decoder.get("filename")
    if isinstance(name, str) and name:
        path = (model_dir / name).resolve()
        if model_dir.resolve() not in path.parents or not path.is_file():
            raise ChildError(f"decoder file {name!r} is not a file inside the model folder")
        return path
    candidates = sorted(p for p in model_dir.glob("*.onnx") if p.is_file())
    if len(candidates) != 1:
        raise ChildError(
            f"expected one .onnx file in the model folder (found {len(candidates)}); "
            "add a genai_config.json naming the decoder"
        )
    return candidates[0]


def run_ort(
    ort: Any,
    model_dir: Path,
    params: dict[str, Any],
    phases: list[dict[str, Any]],
    clock: list[float],
) -> dict[str, Any]:
    import numpy as np

    config = read_genai_config(model_dir)
    model_cfg = _section(config, "model")
    decoder = _section(model_cfg, "decoder")
    search = _section(config, "search")
    names_in = _section(decoder, "inputs")
    names_out = _section(decoder, "outputs")
    context, prefill, decode = params["context"], params["prefill"], params["decode_tokens"]

    def mark(name: str) -> None:
        phases.append(snapshot(name, clock[0]))
        clock[0] = time.monotonic()

    onnx_path = _find_onnx(model_dir, decoder)
    try:
        session = ort.InferenceSession(
            str(onnx_path),
            sess_options=_session_options(ort, decoder),
            providers=["CPUExecutionProvider"],
        )
    except Exception as exc:
        raise ChildError(f"onnxruntime could not load {onnx_path.name}: {_one_line(exc)}") from exc
    mark("model_load")

    ids_name = str(names_in.get("input_ids", "input_ids"))
    mask_name = str(names_in.get("attention_mask", "attention_mask"))
    pos_name = str(names_in.get("position_ids", "position_ids"))
    past_k = _pattern(str(names_in.get("past_key_names", "past_key_values.%d.key")))
    past_v = _pattern(str(names_in.get("past_value_names", "past_key_values.%d.value")))
    pres_k = str(names_out.get("present_key_names", "present.%d.key"))
    pres_v = str(names_out.get("present_value_names", "present.%d.value"))
    logits_name = str(names_out.get("logits", "logits"))

    feeds_meta: dict[str, Any] = {}
    kv_inputs: list[tuple[str, str, Any]] = []  # (past name, present name, input meta)
    for meta in session.get_inputs():
        km, vm = past_k.match(meta.name), past_v.match(meta.name)
        if km:
            kv_inputs.append((meta.name, pres_k.replace("%d", km.group(1)), meta))
        elif vm:
            kv_inputs.append((meta.name, pres_v.replace("%d", vm.group(1)), meta))
        elif meta.name in (ids_name, mask_name, pos_name):
            feeds_meta[meta.name] = meta
        else:
            raise ChildError(
                f"the onnxruntime fallback cannot feed input {meta.name!r}; "
                "install onnxruntime-genai to measure this model"
            )
    if ids_name not in feeds_meta:
        raise ChildError(f"model has no {ids_name!r} input")
    output_names = {o.name for o in session.get_outputs()}
    for _, present, _ in kv_inputs:
        if present not in output_names:
            raise ChildError(f"model has no KV output {present!r}")

    def np_type(meta: Any) -> Any:
        name = _ORT_TO_NUMPY.get(meta.type)
        if name is None:
            raise ChildError(f"input {meta.name!r} has unsupported type {meta.type}")
        return np.dtype(name)

    def kv_shape(meta: Any, length: int) -> list[int]:
        shape = list(meta.shape)
        if len(shape) != 4:
            raise ChildError(f"KV input {meta.name!r} is not 4-D: {shape}")
        heads = shape[1] if isinstance(shape[1], int) else decoder.get("num_key_value_heads")
        head = shape[3] if isinstance(shape[3], int) else decoder.get("head_size")
        if not isinstance(heads, int) or not isinstance(head, int) or heads <= 0 or head <= 0:
            raise ChildError(f"cannot size KV input {meta.name!r} (shape {shape})")
        return [1, heads, length, head]

    vocab = model_cfg.get("vocab_size")
    if not isinstance(vocab, int) or isinstance(vocab, bool) or vocab <= 0:
        logits_meta = {o.name: o for o in session.get_outputs()}.get(logits_name)
        last = logits_meta.shape[-1] if logits_meta is not None else None
        vocab = last if isinstance(last, int) else 32
    avoid = set(_int_list(model_cfg.get("eos_token_id")))

    def feeds(tokens: list[int], past_len: int) -> dict[str, Any]:
        out: dict[str, Any] = {ids_name: np.asarray([tokens], dtype=np_type(feeds_meta[ids_name]))}
        total = past_len + len(tokens)
        if mask_name in feeds_meta:
            out[mask_name] = np.ones((1, total), dtype=np_type(feeds_meta[mask_name]))
        if pos_name in feeds_meta:
            out[pos_name] = np.arange(past_len, total, dtype=np_type(feeds_meta[pos_name]))[None]
        return out

    share = bool(search.get("past_present_share_buffer")) and int(search.get("num_beams", 1)) == 1
    prompt = prompt_ids(prefill, vocab, avoid, params["seed"])
    steps = 0
    try:
        if share:
            # genai's shared-buffer mode: one [1, kv_heads, max_length, head] buffer per K/V,
            # allocated and zeroed up front, bound as both past input and present output.
            buffers = []
            for past, present, meta in kv_inputs:
                array = np.empty(kv_shape(meta, context), dtype=np_type(meta))
                array.fill(0)  # touch every page, as genai's zero-initialised cache does
                value = ort.OrtValue.ortvalue_from_numpy(array)
                buffers.append((past, present, array, value))
            mark("generator")
            binding = session.io_binding()
            binding.bind_output(logits_name, "cpu")  # first, so that it is output 0
            for past, present, _, value in buffers:
                binding.bind_ortvalue_input(past, value)
                binding.bind_ortvalue_output(present, value)

            def step(tokens: list[int], past_len: int) -> int:
                for name, value in feeds(tokens, past_len).items():
                    binding.bind_cpu_input(name, value)
                # Rebound every run (same slot): a kept value has the previous run's shape.
                binding.bind_output(logits_name, "cpu")
                session.run_with_iobinding(binding)
                logits = binding.get_outputs()[0].numpy()
                return int(logits[0, -1].argmax())

            token = step(prompt, 0)
            mark("prefill")
            length = prefill
            while steps < decode and length < context:
                token = step([token if token not in avoid else 0], length)
                length += 1
                steps += 1
            mark("decode")
            kv_mode = "shared-buffer"
        else:
            # No shared buffer: the past grows with the sequence. Prefill with an empty past, then
            # one decode step whose past holds context-1 tokens (the largest it can be).
            empty = {
                past: np.zeros(kv_shape(meta, 0), dtype=np_type(meta))
                for past, _, meta in kv_inputs
            }
            mark("generator")
            outputs = session.run([logits_name], {**feeds(prompt, 0), **empty})
            token = int(outputs[0][0, -1].argmax())
            del outputs
            mark("prefill")
            if decode > 0 and context > prefill:
                past_len = context - 1
                full = {}
                for past, _, meta in kv_inputs:
                    array = np.empty(kv_shape(meta, past_len), dtype=np_type(meta))
                    array.fill(0)
                    full[past] = array
                outputs = session.run(
                    None, {**feeds([token if token not in avoid else 0], past_len), **full}
                )
                del outputs, full
                steps = 1
            mark("decode")
            kv_mode = "growing"
    except ChildError:
        raise
    except Exception as exc:
        raise ChildError(f"onnxruntime run failed: {_one_line(exc)}") from exc
    return {"decode_steps": steps, "kv_mode": kv_mode}


# ----------------------------------------------------------------------------------------------


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:500]


def cpu_dotprod() -> bool | None:
    """Whether an arm64 CPU has the dot-product extension (Linux ``asimddp``); None elsewhere."""
    if platform.machine().lower() not in ("aarch64", "arm64"):
        return None
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key.strip() == "Features":
            return "asimddp" in rest.split()
    return None


def _versions(modules: dict[str, Any]) -> dict[str, str]:
    return {name: str(getattr(mod, "__version__", "unknown")) for name, mod in modules.items()}


RUNTIME_PACKAGES = ("onnxruntime_genai", "onnxruntime")


def _drop_cached(path: Path) -> bool:
    """Drop one file's clean page-cache pages (after ``fsync``: dirty pages are not dropped)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def evict_page_cache(model_dir: Path, packages: tuple[str, ...] = RUNTIME_PACKAGES) -> int:
    """Drop the model folder's files and the runtime's shared libraries from the page cache,
    before anything is imported or mapped; returns how many files were advised (0 where
    ``posix_fadvise`` does not exist).

    A file just written sits in the page cache in large folios, and a fault on a mapped large
    folio maps all of it. A model just built, converted or downloaded then has its gathered
    embedding table wholly resident instead of the 64 KiB fault-around windows a deployed model
    shows (the test factory's 125 MiB table: 113 MiB resident after a 512-token prompt straight
    after building, 28 MiB after eviction). With a runtime pip just installed the import leaves
    the process ~35 MiB larger and a session then touches ~8 MiB fewer new pages, so the added
    peak reads low (1.32.0: baseline 88 vs 53 MiB, added 161 vs 169 MiB for the same run;
    benchmarks/ort_bench/probe_library_state.py). An app's files are read from its package,
    never just written, so runs are made from the evicted state (docs/onnxruntime-model.md).
    Finding the packages does not import them.
    """
    if not hasattr(os, "posix_fadvise"):
        return 0
    files = [p for p in sorted(model_dir.iterdir()) if p.is_file()]
    for name in packages:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for folder in (spec.submodule_search_locations or []) if spec else []:
            files += sorted(Path(folder).rglob("*.so*"))
    return sum(_drop_cached(path) for path in files)


def run(params: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    backend = params["backend"]
    model_dir = Path(params["model_dir"])
    evicted = evict_page_cache(model_dir) if params.get("evict_page_cache", True) else 0
    modules: dict[str, Any] = {}
    og: Any = None
    if backend in ("auto", "onnxruntime-genai"):
        try:
            og = importlib.import_module("onnxruntime_genai")
            modules["onnxruntime_genai"] = og
            backend = "onnxruntime-genai"
        except ImportError as exc:
            if backend == "onnxruntime-genai":
                message = f"onnxruntime-genai is not importable: {exc}"
                raise ChildError(message, "dependency") from exc
            backend = "onnxruntime"
    try:
        import numpy
        import onnxruntime as ort
    except ImportError as exc:
        raise ChildError(f"onnxruntime is not importable: {exc}", "dependency") from exc
    modules["onnxruntime"] = ort
    modules["numpy"] = numpy

    baseline = snapshot("import", started)
    peak_reset = sys.platform.startswith("linux") and reset_peak()
    if peak_reset:
        # After the reset the peak equals the current RSS: record it as the baseline's peak.
        baseline = snapshot("import", started)
    phases: list[dict[str, Any]] = [baseline]
    clock = [time.monotonic()]
    if backend == "onnxruntime-genai":
        extra = run_genai(og, model_dir, params, phases, clock)
    else:
        extra = run_ort(ort, model_dir, params, phases, clock)
    final = snapshot("end", started)
    return {
        "backend": backend,
        "baseline_rss_bytes": baseline["rss_bytes"],
        # Every reading is a lower bound of the true peak; the kernel's RSS counters are
        # approximate (per-CPU batches), so a later VmHWM can read a few pages below an earlier one.
        "peak_rss_bytes": max([final["peak_rss_bytes"], *(p["peak_rss_bytes"] for p in phases)]),
        "peak_reset": peak_reset,
        "files_evicted": evicted,
        "memory_source": "proc-status" if _proc_status() is not None else "getrusage",
        "phases": phases,
        "versions": _versions(modules),
        "platform": platform.platform(),
        "system": platform.system().lower(),
        "arch": platform.machine().lower(),
        "dotprod": cpu_dotprod(),
        # glibc malloc tunables the run saw (planner measure --fixed-heap sets one)
        "malloc_env": {
            k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "GLIBC_TUNABLES"
        },
        "python": platform.python_version(),
        "pid": os.getpid(),
        **extra,
    }


def main() -> int:
    try:
        params = json.loads(sys.stdin.read())
        result = run(params)
    except ChildError as exc:
        result = {"error": _one_line(exc), "kind": exc.kind}
    except Exception as exc:  # reported to the parent, which raises its own error type
        result = {"error": f"{type(exc).__name__}: {_one_line(exc)}", "kind": "internal"}
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
