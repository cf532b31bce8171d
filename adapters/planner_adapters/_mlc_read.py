"""What ``MlcAdapter.read`` runs: the MLC folder reader (what it reads: ``mlc_adapter``).

A module of its own so that discovering and sniffing adapters imports none of it.
"""

from __future__ import annotations

import itertools
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeGuard

from planner.errors import (
    ArtifactFormatError,
    InputError,
    UnknownQuantizationError,
    UnsafeArtifactError,
)
from planner.io.contain import ModelFolder
from planner.io.files import regular_file
from planner.io.jsonio import read_json_object
from planner.io.limits import MAX_DIM, checked_dims
from planner.quant import MlcScheme, mlc_scheme, tensor_bytes
from planner.spec import (
    ArtifactSettings,
    CompiledLibInfo,
    FieldSource,
    ModelSpec,
    QuantInfo,
    WeightsInventory,
)
from planner.text import sanitize_fields
from planner_adapters._inventory import (
    TensorFact,
    build_inventory,
    unpacked_params,
)
from planner_adapters._markers import CACHE_FILES, CHAT_CONFIG, LIB_SUFFIXES
from planner_adapters._mlc_lib import canonical_dtype, read_lib
from planner_adapters._values import Provenance, opt_dict, opt_str
from planner_adapters.hf_config import spec_from_hf_config

RECORD_FORMATS = ("raw", "f32-to-bf16")
_UNSET_KEYS = (
    "context_window_size",
    "sliding_window_size",
    "prefill_chunk_size",
    "attention_sink_size",
)
_GEMMA3_PATTERN = 6  # Gemma3TextConfig.sliding_window_pattern (a class attribute, not in JSON)
_MAX_RECORDS = 1_000_000


def _top_int(data: dict[str, Any], key: str, path: Path, what: str) -> int | None:
    """An MLC integer setting where −1 (or null/absent) means unset."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ArtifactFormatError(f"{what} field {key!r} must be an integer", path=str(path))
    if value == -1:
        return None
    if not 0 <= value <= MAX_DIM:
        raise ArtifactFormatError(f"{what} field {key!r} = {value} is out of range", path=str(path))
    return value


def _locate(path: Path) -> tuple[Path, Path | None]:
    """(model folder, library named by the path itself)."""
    if path.is_dir():
        return path, None
    if path.suffix in LIB_SUFFIXES:
        return path.parent, path
    return path.parent, None


def _scheme_facts(scheme: MlcScheme) -> QuantInfo:
    group_kinds = ("group-quant", "ft-quant", "per-tensor-quant", "block-scale-quant")
    unquantized: tuple[str, ...] = ()
    if scheme.kind != "no-quant" and not (scheme.quantize_embedding and scheme.quantize_final_fc):
        unquantized = ("embed_tokens", "lm_head")
    details = [("kind", scheme.kind), ("storage_dtype", scheme.storage_dtype)]
    if scheme.kind == "group-quant":
        details.append(("layout", scheme.layout))
    if scheme.kind == "ft-quant":
        details.append(("embedding", "q4 group 32 fallback"))
    return QuantInfo(
        scheme=scheme.name,
        bits=scheme.bits,
        group_size=scheme.group_size,
        symmetric=True if scheme.kind in group_kinds else (False if scheme.kind == "awq" else None),
        compute_dtype=scheme.model_dtype,
        unquantized=unquantized,
        details=tuple(details),
    )


def _layer_windows(family: str, sws: int | None, layers: int) -> tuple[int | None, ...]:
    """MLC's KV layout: Gemma-3 slides on five of every six layers ("mha_sliding" in
    ``create_paged_kv_cache``); other families slide on all layers or none. Gemma-2 in MLC has
    no sliding window (its context is capped at the window instead)."""
    if not sws:
        return ()
    if family == "gemma3":
        return tuple(None if (i + 1) % _GEMMA3_PATTERN == 0 else sws for i in range(layers))
    return tuple(sws for _ in range(layers))


class _CacheReader:
    """Validates one tensor-cache.json and turns it into an inventory."""

    def __init__(self, contain: ModelFolder, cache_path: Path, scheme: MlcScheme) -> None:
        self.contain, self.path, self.scheme = contain, cache_path, scheme
        self.where = str(cache_path)
        self.notes: list[str] = []

    def _fail(self, message: str) -> ArtifactFormatError:
        return ArtifactFormatError(message, path=self.where)

    def _int(self, data: dict[str, Any], key: str, what: str) -> int:
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_DIM << 10:
            raise self._fail(f"{what} has no valid {key!r} (got {value!r})")
        return value

    def read(self) -> WeightsInventory:
        doc = read_json_object(self.path, self.path.name)
        shards = doc.get("records")
        if not isinstance(shards, list):
            raise self._fail("tensor cache has no 'records' list of shards")
        facts: list[TensorFact] = []
        seen: set[str] = set()
        missing: list[str] = []
        bf16_encoded = 0
        for index, shard in enumerate(shards):
            if not isinstance(shard, dict):
                raise self._fail(f"shard #{index} is not an object")
            data_path = shard.get("dataPath")
            if not isinstance(data_path, str):
                raise self._fail(f"shard #{index} has no dataPath")
            if shard.get("format") != "raw-shard":
                raise self._fail(
                    f"shard {data_path!r} has format {shard.get('format')!r}; "
                    "TVM reads only 'raw-shard'"
                )
            shard_bytes = self._int(shard, "nbytes", f"shard {data_path!r}")
            records = shard.get("records")
            if not isinstance(records, list):
                raise self._fail(f"shard {data_path!r} has no records list")
            spans: list[tuple[int, int, str]] = []
            for rec in records:
                if len(seen) >= _MAX_RECORDS:
                    raise UnsafeArtifactError(
                        f"tensor cache lists more than {_MAX_RECORDS} tensors", path=self.where
                    )
                fact, span, encoded = self._record(rec, data_path, shard_bytes)
                if fact.name in seen:
                    raise self._fail(f"tensor {fact.name!r} is listed twice")
                seen.add(fact.name)
                facts.append(fact)
                spans.append(span)
                bf16_encoded += encoded
            spans.sort()
            for (_, end, a), (start, _, b) in itertools.pairwise(spans):
                if start < end:
                    raise self._fail(f"tensors {a!r} and {b!r} overlap in shard {data_path!r}")
            self._check_shard_file(data_path, shard_bytes, missing)
        if missing:
            self.notes.append(
                f"weight shards not present ({len(missing)} of {len(shards)}, e.g. "
                f"{missing[0]}); sizes taken from {self.path.name}"
            )
        if bf16_encoded:
            self.notes.append(
                f"{bf16_encoded} float32 tensors are stored as bfloat16 in the "
                "shards (f32-to-bf16) and decoded to float32 on load; bytes are "
                "counted as float32"
            )
        inventory = build_inventory(facts)
        return self._with_metadata(doc, inventory)

    def _record(
        self, rec: Any, shard: str, shard_bytes: int
    ) -> tuple[TensorFact, tuple[int, int, str], int]:
        if not isinstance(rec, dict):
            raise self._fail(f"a record in shard {shard!r} is not an object")
        name = rec.get("name")
        if not isinstance(name, str) or not name:
            raise self._fail(f"a record in shard {shard!r} has no name")
        shape = rec.get("shape")
        if not isinstance(shape, list):
            raise self._fail(f"tensor {name!r} has no shape list")
        numel = checked_dims(shape, self.path, f"tensor {name!r}")
        if 0 in shape:
            raise self._fail(f"tensor {name!r} has a zero dimension in shape {shape}")
        raw_dtype = rec.get("dtype")
        dtype = canonical_dtype(raw_dtype) if isinstance(raw_dtype, str) else None
        if dtype is None:
            raise self._fail(f"tensor {name!r} has unknown dtype {raw_dtype!r}")
        fmt = rec.get("format", "raw")
        if fmt not in RECORD_FORMATS:
            raise self._fail(f"tensor {name!r} has unknown format {fmt!r}")
        nbytes = self._int(rec, "nbytes", f"tensor {name!r}")
        offset = self._int(rec, "byteOffset", f"tensor {name!r}")
        runtime = tensor_bytes(numel, dtype)
        encoded = fmt == "f32-to-bf16" and dtype == "float32"
        stored = numel * 2 if encoded else runtime
        if nbytes != stored:
            raise self._fail(
                f"tensor {name!r}: nbytes {nbytes} disagrees with shape {shape} × {dtype}"
                f"{' (f32-to-bf16)' if encoded else ''} = {stored} bytes"
            )
        if offset + nbytes > shard_bytes:
            raise self._fail(
                f"tensor {name!r} (bytes {offset}..{offset + nbytes}) runs past the "
                f"end of shard {shard!r} ({shard_bytes} bytes)"
            )
        s = self.scheme
        params = unpacked_params(
            name,
            numel,
            dtype,
            s.bits if s.kind != "no-quant" else None,
            int8_pairs=s.kind == "ft-quant",
        )
        fact = TensorFact(name, tuple(shape), dtype, runtime, params)
        return fact, (offset, offset + nbytes, name), int(encoded)

    def _check_shard_file(self, data_path: str, shard_bytes: int, missing: list[str]) -> None:
        shard = self.contain.resolve(data_path, "tensor-cache shard", referrer=self.path)
        if not os.path.lexists(shard):
            missing.append(data_path)
            return
        size = regular_file(shard, "tensor-cache shard").st_size
        if size < shard_bytes:
            raise ArtifactFormatError(
                f"shard is {size} bytes but {self.path.name} says {shard_bytes} "
                "(truncated download or Git LFS pointer?)",
                path=str(shard),
            )

    def _with_metadata(self, doc: dict[str, Any], inv: WeightsInventory) -> WeightsInventory:
        """Cross-check convert_weight's metadata: ParamSize = tensor count, ParamBytes = bytes,
        BitsPerParam = bytes × 8 / source parameter count (interface/convert_weight.py)."""
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            return inv
        size, nbytes, bpp = meta.get("ParamSize"), meta.get("ParamBytes"), meta.get("BitsPerParam")
        if isinstance(size, int) and not isinstance(size, bool) and size != inv.tensor_count:
            self.notes.append(
                f"{self.path.name} metadata ParamSize {size} ≠ {inv.tensor_count} records"
            )
        if not _finite(nbytes):
            return inv
        if abs(nbytes - inv.total_bytes) > 1:
            self.notes.append(
                f"{self.path.name} metadata ParamBytes {nbytes:.0f} ≠ "
                f"{inv.total_bytes} bytes in its records"
            )
            return inv
        if _finite(bpp) and bpp > 0 and math.isfinite(nbytes * 8.0 / bpp):
            count = round(nbytes * 8.0 / bpp)
            if inv.param_count and 0.5 <= count / inv.param_count <= 1.5:
                return replace(inv, param_count=count)
            self.notes.append(
                f"{self.path.name} metadata implies {count} parameters, records "
                f"unpack to {inv.param_count}; using the records"
            )
        return inv


def _finite(value: Any) -> TypeGuard[float]:
    """A JSON number that arithmetic can use (JSON from Python may hold NaN and Infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _merge_provenance(*groups: tuple[FieldSource, ...]) -> tuple[FieldSource, ...]:
    merged: dict[str, FieldSource] = {}
    for group in groups:
        for item in group:
            merged[item.name] = item
    return tuple(merged[k] for k in sorted(merged))


def _find_lib(folder: Path) -> tuple[Path | None, str | None]:
    try:
        libs = sorted(
            p for p in folder.iterdir() if p.suffix in LIB_SUFFIXES and not p.name.startswith(".")
        )
    except OSError:
        return None, None
    if len(libs) > 1:
        names = ", ".join(p.name for p in libs[:5])
        return None, f"several compiled libraries in the folder ({names}); pass one explicitly"
    return (libs[0], None) if libs else (None, None)


class MlcReader:
    """Reads MLC-LLM model folders (``mlc-chat-config.json``) and compiled libraries."""

    def read(self, path: Path, *, lib: Path | None = None) -> ModelSpec:
        """Read an MLC folder (or a file inside it). ``lib`` names a compiled library to read
        alongside; otherwise a single library found in the folder is used."""
        folder, lib_from_path = _locate(path)
        lib = lib or lib_from_path
        contain = ModelFolder.of(folder)
        if lib_from_path is not None and lib is lib_from_path:
            lib = contain.resolve(lib.name, "compiled library")
        config_path = contain.resolve(CHAT_CONFIG, "file", referrer=folder)
        chat = read_json_object(config_path, CHAT_CONFIG)
        what = CHAT_CONFIG
        model_type = opt_str(chat, "model_type", config_path, what=what)
        qname = opt_str(chat, "quantization", config_path, what=what)
        model_config = opt_dict(chat, "model_config", config_path, what=what)
        if model_type is None or qname is None or model_config is None:
            raise ArtifactFormatError(
                f"{CHAT_CONFIG} needs model_type, quantization and model_config",
                path=str(config_path),
            )
        try:
            scheme = mlc_scheme(qname)
        except UnknownQuantizationError as exc:
            raise UnknownQuantizationError(exc.message, path=str(config_path)) from None

        # model_config → spec. MLC writes −1 for unset windows; top-level values fill gaps.
        mc = {k: v for k, v in model_config.items() if not (k in _UNSET_KEYS and v == -1)}
        mc["model_type"] = model_type
        if "vocab_size" not in mc and "vocab_size" in chat:
            mc["vocab_size"] = chat["vocab_size"]
        base = spec_from_hf_config(
            mc,
            source=str(path),
            path=config_path,
            fmt="mlc",
            adapter="mlc",
            name=folder.absolute().name,
            config_name=f"{CHAT_CONFIG} model_config",
        )
        prov = Provenance()
        notes = list(base.notes)

        settings = ArtifactSettings(
            context_window_size=_top_int(chat, "context_window_size", config_path, what),
            prefill_chunk_size=_top_int(chat, "prefill_chunk_size", config_path, what),
            sliding_window_size=_top_int(chat, "sliding_window_size", config_path, what),
            attention_sink_size=_top_int(chat, "attention_sink_size", config_path, what),
            max_batch_size=_top_int(
                model_config, "max_batch_size", config_path, f"{what} model_config"
            ),
            conv_template=self._conv_template(chat, config_path),
        )
        for key in (
            "context_window_size",
            "prefill_chunk_size",
            "sliding_window_size",
            "attention_sink_size",
        ):
            if getattr(settings, key) is None:
                prov.assumed(f"settings.{key}", f"{CHAT_CONFIG} {key} absent or -1 (unset)")
            else:
                prov.artifact(f"settings.{key}", f"{CHAT_CONFIG} {key}")
        if settings.max_batch_size is None:
            prov.assumed("settings.max_batch_size", "model_config max_batch_size absent")
        else:
            prov.artifact("settings.max_batch_size", f"{CHAT_CONFIG} model_config max_batch_size")
        if settings.conv_template is not None:
            prov.artifact("settings.conv_template", f"{CHAT_CONFIG} conv_template")
        top_vocab = _top_int(chat, "vocab_size", config_path, what)
        if top_vocab is not None and top_vocab != base.vocab_size:
            notes.append(
                f"{CHAT_CONFIG} vocab_size {top_vocab} ≠ model_config vocab_size {base.vocab_size}"
            )

        windows = _layer_windows(base.architecture, settings.sliding_window_size, base.num_layers)
        if not windows:
            prov.artifact(
                "layer_windows",
                f"{CHAT_CONFIG} sliding_window_size unset: every "
                "layer attends over the whole context",
            )
        elif base.architecture == "gemma3":
            prov.artifact(
                "layer_windows",
                f"{CHAT_CONFIG} sliding_window_size with Gemma-3's 5-local/1-global pattern",
            )
        else:
            prov.artifact("layer_windows", f"{CHAT_CONFIG} sliding_window_size (all layers)")
        sink = settings.attention_sink_size if windows else None
        prov.artifact(
            "attention_sink", f"{CHAT_CONFIG} attention_sink_size (used with a sliding window only)"
        )
        quant = _scheme_facts(scheme)
        prov.artifact("quantization", f"{CHAT_CONFIG} quantization={qname!r} (MLC scheme registry)")
        prov.derived("kv_dtype", f"MLC allocates KV pages in the model dtype of {qname}")

        weights = self._weights(contain, scheme, notes, prov)
        compiled = self._compiled(contain, lib, model_config, notes, prov)
        extra = list(base.extra)
        tp = _top_int(chat, "tensor_parallel_shards", config_path, what)
        if tp and tp > 1:
            notes.append(
                f"tensor_parallel_shards = {tp}: MLC splits weights and KV heads across "
                f"{tp} GPUs at load time"
            )
            extra.append(("tensor_parallel_shards", str(tp)))
        pp = _top_int(chat, "pipeline_parallel_stages", config_path, what)
        if pp and pp > 1:
            extra.append(("pipeline_parallel_stages", str(pp)))
        if compiled is not None:
            self._cross_check(compiled, qname, model_type, settings, weights, notes)

        spec = base.with_changes(
            quantization=quant,
            kv_dtype=scheme.model_dtype,
            weights=weights,
            settings=settings,
            layer_windows=windows,
            attention_sink=sink,
            compiled_lib=compiled,
            provenance=_merge_provenance(base.provenance, prov.freeze()),
            notes=tuple(notes),
            extra=tuple(extra),
        )
        return sanitize_fields(spec)  # artifact text made printable

    @staticmethod
    def _conv_template(chat: dict[str, Any], path: Path) -> str | None:
        conv = chat.get("conv_template")
        if isinstance(conv, str):
            return conv  # gen_config writes the bare name for unregistered templates
        if isinstance(conv, dict):
            return opt_str(conv, "name", path, what=f"{CHAT_CONFIG} conv_template")
        return None

    @staticmethod
    def _weights(
        contain: ModelFolder, scheme: MlcScheme, notes: list[str], prov: Provenance
    ) -> WeightsInventory | None:
        for name in CACHE_FILES:
            cache = contain.resolve(name, "file", referrer=contain.folder)
            if os.path.lexists(cache):
                reader = _CacheReader(contain, cache, scheme)
                inventory = reader.read()
                notes.extend(reader.notes)
                detail = f"{name}: {inventory.tensor_count} records"
                if name != CACHE_FILES[0]:
                    detail += " (legacy name, before mlc-llm 91d95f9)"
                prov.artifact("weights", detail)
                return inventory
        notes.append(
            "no tensor-cache.json (or ndarray-cache.json): weights not inventoried; "
            "run `mlc_llm convert_weight` or plan from the architecture"
        )
        prov.assumed("weights", "no tensor cache in the folder")
        return None

    @staticmethod
    def _compiled(
        contain: ModelFolder,
        lib: Path | None,
        model_config: dict[str, Any],
        notes: list[str],
        prov: Provenance,
    ) -> CompiledLibInfo | None:
        explicit = lib is not None
        if lib is None:
            lib, why = _find_lib(contain.folder)
            if why:
                notes.append(why)
            if lib is None:
                prov.assumed("compiled_lib", "no compiled library given or found in the folder")
                return None
            lib = contain.resolve(lib.name, "compiled library", referrer=contain.folder)
        try:
            info, lib_notes, where = read_lib(lib, model_config)
        except (UnsafeArtifactError, UnknownQuantizationError):
            raise
        except InputError as exc:
            if explicit:
                raise
            notes.append(f"compiled library {lib.name} not used: {exc.message}")
            prov.assumed("compiled_lib", f"{lib.name} has no readable metadata")
            return None
        notes.extend(lib_notes)
        prov.artifact("compiled_lib", f"{lib.name}: metadata from {where}")
        return info

    @staticmethod
    def _cross_check(
        info: CompiledLibInfo,
        qname: str,
        model_type: str,
        settings: ArtifactSettings,
        weights: WeightsInventory | None,
        notes: list[str],
    ) -> None:
        name = Path(info.path).name
        if info.quantization and info.quantization != qname:
            notes.append(
                f"compiled library {name} was built for {info.quantization}, the weights "
                f"are {qname}: MLC cannot run this pair"
            )
        if info.model_type and info.model_type != model_type:
            notes.append(
                f"compiled library {name} is for model_type {info.model_type}, the config "
                f"says {model_type}"
            )
        lib_bytes = info.params_bytes
        if weights is not None and lib_bytes is not None and lib_bytes != weights.total_bytes:
            notes.append(
                f"compiled library {name} expects {lib_bytes} parameter bytes, the "
                f"tensor cache holds {weights.total_bytes}"
            )
        for key in ("context_window_size", "prefill_chunk_size"):
            compiled, runtime = getattr(info, key), getattr(settings, key)
            if compiled is not None and runtime is not None and compiled < runtime:
                notes.append(
                    f"compiled library caps {key} at {compiled} (< {runtime} in "
                    f"{CHAT_CONFIG}); the runtime uses the smaller value"
                )


__all__ = ["MlcReader"]
