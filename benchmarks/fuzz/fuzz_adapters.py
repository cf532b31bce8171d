"""Fuzz every parser of untrusted input: the ONNX, MLC and Hugging Face adapters, device
profiles and ``planner.yaml``.

Each input is a folder of files written fresh into a temporary directory: a mutation of a real
seed artifact (built with the test factories: onnxruntime-genai and Optimum ONNX packages, an
MLC folder with tensor-cache shards and a compiled library, a Hugging Face folder with a
safetensors file, bundled device profiles, a run config) or pure random bytes. Mutations are
byte-level (bit flips, interesting integers over length fields, truncation, splices) and
structural (JSON/YAML trees, ONNX protobuf fields, the safetensors header, the library's
metadata JSON), plus hostile file-system shapes (symlinks out of the folder, symlink loops,
FIFOs, directories where files belong). The input is then read through the adapter's
``read()`` (and every adapter's ``sniff()``), ``load_profiles`` or ``load_run_config``.

Two more targets exercise ``planner.io`` directly: ``json`` (every JSON seed, mutated, through the
bounded JSON reader with its memory budget) and ``output`` (report writes onto every kind of
target: missing, regular, symlinks, FIFOs, sockets, directories, devices, long and control-character
names). Some inputs are laid out as a Hugging Face hub cache (``models--f--m/snapshots/r/`` linking
into ``blobs/``).

An input passes when it yields a spec or a ``PlannerError`` whose message is one line without
control characters, and a returned spec holds no unsanitised text (``output``: when every
special file is still what it was, the report landed only where the rule says, and no temporary
file is left). Anything else is a crash: it is
recorded with its traceback, minimised (chunk deletion while the same exception still comes
from the same line) and printed. Each input runs under a 2-second timer (5 s for the YAML targets; a
hang is a crash)
and every worker under an address-space limit (unbounded memory shows as ``MemoryError``); the
peak RSS of each worker is reported. Inputs are generated from ``--seed`` and their index
alone, so any input can be replayed with ``--replay TARGET:INDEX``.

Usage::

    python benchmarks/fuzz/fuzz_adapters.py --inputs 100000 --jobs 2
    python benchmarks/fuzz/fuzz_adapters.py --targets onnx --inputs 2000
    python benchmarks/fuzz/fuzz_adapters.py --replay mlc:1234
    python benchmarks/fuzz/fuzz_adapters.py --estimate    # adapters + the budget engine
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for extra in (ROOT, ROOT / "benchmarks" / "fuzz"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import mutators  # noqa: E402

TARGETS = ("onnx", "mlc", "hf", "profile", "runconfig", "json", "output")
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")
OUTPUT_KINDS = (
    "missing",
    "file",
    "symlink-file",
    "symlink-dangling",
    "symlink-loop",
    "fifo",
    "symlink-fifo",
    "dir",
    "symlink-dir",
    "socket",
    "chardev",
)
TIME_LIMIT_S = 2.0
YAML_TIME_LIMIT_S = 5.0
"""PyYAML's pure-Python composer takes ~30 µs a value; 100,000 values (the strict reader's cap)
take ~3 s, so the YAML targets get a longer limit before a read counts as a hang."""
ESTIMATE = False
"""``--estimate``: also run the budget engine (the format's default runtime) on every spec."""
MEMORY_LIMIT_BYTES = 3 * 1024**3
"""Address-space headroom per worker above its size after imports."""


class Hang(BaseException):
    """Raised by the per-input timer. A BaseException, so no ``except Exception`` eats it."""


# --------------------------------------------------------------------------- seeds


@dataclass
class Seed:
    """A valid artifact: its files and what the fuzzer reads."""

    name: str
    files: dict[str, bytes]
    entry: str = ""
    """Path given to the reader, relative to the folder ('' = the folder itself)."""
    kinds: dict[str, str] = field(default_factory=dict)
    """File name → mutator kind (json, yaml, onnx, safetensors, lib, bytes)."""


def _read_folder(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _kind(name: str) -> str:
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".onnx"):
        return "onnx"
    if name.endswith(".safetensors"):
        return "safetensors"
    if name.endswith((".so", ".tar", ".wasm")):
        return "lib"
    return "bytes"


def build_seeds(work: Path) -> dict[str, list[Seed]]:
    """Build the seed artifacts with the project's test factories."""
    from tests import mlc_factory as mf
    from tests.onnx_factory import (
        GenaiOptions,
        ModelConfig,
        OptimumOptions,
        build_genai,
        build_optimum,
    )

    seeds: dict[str, list[Seed]] = {t: [] for t in TARGETS}
    tiny = ModelConfig(
        layers=2, hidden=32, heads=2, kv_heads=1, head_dim=16, intermediate=64, vocab=64, context=64
    )
    onnx_builds: list[tuple[str, Callable[[Path], object]]] = [
        ("genai-int4", lambda d: build_genai(d, tiny, GenaiOptions())),
        (
            "genai-fp16-concrete",
            lambda d: build_genai(
                d,
                ModelConfig(
                    layers=2,
                    hidden=32,
                    heads=2,
                    kv_heads=2,
                    head_dim=16,
                    intermediate=64,
                    vocab=64,
                    context=64,
                    local_windows=(16, None),
                ),
                GenaiOptions(precision="fp16", symbolic_kv_dim=False),
            ),
        ),
        (
            "genai-shared-emb",
            lambda d: build_genai(
                d, tiny, GenaiOptions(precision="int8", shared_embeddings=True, symmetric=False)
            ),
        ),
        (
            "optimum-external",
            lambda d: build_optimum(
                d, tiny, OptimumOptions(external_data=True, size_threshold=256)
            ),
        ),
        (
            "optimum-merged-tied",
            lambda d: build_optimum(d, tiny, OptimumOptions(merged=True, tied=True)),
        ),
    ]
    for name, build in onnx_builds:
        folder = work / "seeds" / name
        build(folder)
        files = _read_folder(folder)
        seeds["onnx"].append(Seed(name, files, "", {k: _kind(k) for k in files}))
        seeds["onnx"].append(
            Seed(name + "-file", files, "model.onnx", {k: _kind(k) for k in files})
        )

    for quant, lib_kind in (("q4f16_1", "so"), ("q0f32", "tar"), ("q4f32_1", "wasm")):
        folder = work / "seeds" / f"mlc-{quant}"
        doc = mf.write_model(folder, mf.TINY_LLAMA, quant, cap_bytes=4096)
        chat = json.loads((folder / "mlc-chat-config.json").read_text())
        tensors = mf.tensors_for(mf.TINY_LLAMA, quant)
        meta = mf.lib_metadata(chat, tensors, memory_usage={"prefill": 1234, "decode": 56})
        blob = mf.metadata_blob(meta)
        wrap = {"so": mf.elf_object, "tar": mf.tar_library, "wasm": mf.wasm_module}[lib_kind]
        lib = wrap(blob)
        (folder / f"lib.{lib_kind}").write_bytes(lib)
        files = _read_folder(folder)
        del doc
        kinds = {k: _kind(k) for k in files}
        seeds["mlc"].append(Seed(f"mlc-{quant}-{lib_kind}", files, "", kinds))
    # A legacy ndarray-cache.json folder without shards or library.
    folder = work / "seeds" / "mlc-legacy"
    mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1", shards=False, cache_name="ndarray-cache.json")
    files = _read_folder(folder)
    seeds["mlc"].append(Seed("mlc-legacy", files, "", {k: _kind(k) for k in files}))

    seeds["hf"] = _hf_seeds()
    seeds["profile"] = _profile_seeds()
    seeds["runconfig"] = _runconfig_seeds()
    seeds["json"] = [
        Seed(f"json-{s.name}-{name}", {name: data}, name, {name: "json"})
        for t in ("onnx", "mlc", "hf")
        for s in seeds[t]
        for name, data in s.files.items()
        if name.endswith(".json") and not s.name.endswith("-file")
    ]
    seeds["output"] = [Seed("output", {"payload": b"{}\n"}, "report.json", {})]
    return seeds


def _safetensors(
    tensors: dict[str, tuple[str, list[int]]],
    width: dict[str, int],
    metadata: dict[str, str] | None = None,
) -> bytes:
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = width[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + bytes(offset)


def _hf_seeds() -> list[Seed]:
    cfg = {
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": 32,
        "intermediate_size": 64,
        "max_position_embeddings": 128,
        "model_type": "llama",
        "num_attention_heads": 2,
        "num_hidden_layers": 2,
        "num_key_value_heads": 1,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "vocab_size": 64,
        "rope_scaling": {"rope_type": "llama3"},
    }
    width = {"BF16": 2, "F32": 4, "I32": 4, "F16": 2}
    tensors: dict[str, tuple[str, list[int]]] = {"model.embed_tokens.weight": ("BF16", [64, 32])}
    for i in range(2):
        p = f"model.layers.{i}"
        tensors.update(
            {
                f"{p}.self_attn.q_proj.weight": ("BF16", [32, 32]),
                f"{p}.self_attn.k_proj.weight": ("BF16", [16, 32]),
                f"{p}.self_attn.v_proj.weight": ("BF16", [16, 32]),
                f"{p}.self_attn.o_proj.weight": ("BF16", [32, 32]),
                f"{p}.mlp.gate_proj.weight": ("BF16", [64, 32]),
                f"{p}.mlp.down_proj.weight": ("BF16", [32, 64]),
                f"{p}.input_layernorm.weight": ("BF16", [32]),
            }
        )
    tensors["lm_head.weight"] = ("BF16", [64, 32])
    single = _safetensors(tensors, width, {"format": "pt"})
    names = list(tensors)
    half = len(names) // 2
    shard1 = _safetensors({k: tensors[k] for k in names[:half]}, width)
    shard2 = _safetensors({k: tensors[k] for k in names[half:]}, width)
    index = {
        "metadata": {"total_size": sum(len(s) for s in (shard1, shard2))},
        "weight_map": {
            **dict.fromkeys(names[:half], "model-00001-of-00002.safetensors"),
            **dict.fromkeys(names[half:], "model-00002-of-00002.safetensors"),
        },
    }
    gptq = {
        **cfg,
        "quantization_config": {
            "quant_method": "gptq",
            "bits": 4,
            "group_size": 32,
            "sym": True,
            "desc_act": False,
        },
    }
    gptq_tensors = {
        "model.layers.0.self_attn.q_proj.qweight": ("I32", [4, 32]),
        "model.layers.0.self_attn.q_proj.scales": ("F16", [1, 32]),
        "model.embed_tokens.weight": ("F16", [64, 32]),
    }
    gemma = {
        "model_type": "gemma2",
        "hidden_size": 32,
        "num_attention_heads": 2,
        "num_hidden_layers": 4,
        "num_key_value_heads": 1,
        "head_dim": 16,
        "intermediate_size": 64,
        "vocab_size": 64,
        "sliding_window": 16,
        "max_position_embeddings": 64,
        "torch_dtype": "float32",
    }
    out = []
    for name, files in (
        ("hf-single", {"config.json": json.dumps(cfg).encode(), "model.safetensors": single}),
        (
            "hf-sharded",
            {
                "config.json": json.dumps(cfg).encode(),
                "model.safetensors.index.json": json.dumps(index).encode(),
                "model-00001-of-00002.safetensors": shard1,
                "model-00002-of-00002.safetensors": shard2,
            },
        ),
        (
            "hf-gptq",
            {
                "config.json": json.dumps(gptq).encode(),
                "model.safetensors": _safetensors(gptq_tensors, width),
            },
        ),
        ("hf-gemma2-config-only", {"config.json": json.dumps(gemma).encode()}),
    ):
        out.append(Seed(name, files, "", {k: _kind(k) for k in files}))
    return out


def _profile_seeds() -> list[Seed]:
    import yaml

    src = ROOT / "device_profiles"
    out = []
    for i, name in enumerate(
        ("galaxy-s23-ultra.yaml", "iphone-12-pro.yaml", "ipad-pro-m4-8gb.yaml")
    ):
        doc = yaml.safe_load((src / name).read_text())
        # Unique ids and names so that the merge with the bundled profiles runs too.
        doc["id"] = f"fuzz-{doc['id']}"
        doc["name"] = f"Fuzz {doc['name']}"
        doc["aliases"] = [f"fuzz-alias-{i}"]
        doc.pop("default_for", None)
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
        out.append(Seed(f"profile-{name}", {name: text}, "", {name: "yaml"}))
    raw = (src / "galaxy-s23-ultra.yaml").read_bytes()  # as shipped: comments, quoting
    out.append(
        Seed(
            "profile-raw",
            {"custom.yaml": raw.replace(b"id: galaxy-s23-ultra", b"id: fuzz-raw")},
            "",
            {"custom.yaml": "yaml"},
        )
    )
    return out


def _runconfig_seeds() -> list[Seed]:
    text = b"""\
version: 1
profiles: [my-devices/]
defaults:
  runtime: mlc
  context: 4096
  prefill: 512
  ram_fraction: 0.7
jobs:
  - model: examples/hf-llama-3.2-1b
    devices: [pixel-8-pro, iphone-15-pro]
    quantization: q4f16_1
    entitlement: true
  - model: examples/onnx-genai-tiny-llama
    name: tiny
    devices: [galaxy-s24]
    runtime: onnxruntime
    batch: 2
    draft: examples/x
"""
    return [Seed("runconfig", {"planner.yaml": text}, "planner.yaml", {"planner.yaml": "yaml"})]


# --------------------------------------------------------------------------- inputs


@dataclass
class Input:
    """One generated input: the files of the folder and the path given to the reader."""

    files: dict[str, bytes]
    entry: str
    special: dict[str, str] = field(default_factory=dict)
    """File name → special kind (symlink-out, symlink-loop, fifo, dir) made at write time."""
    seed: str = ""
    changed: tuple[str, ...] = ()
    linked: frozenset[str] = frozenset()
    """Files still identical to the seed's: hard-linked from the seed store, not rewritten."""
    hub: bool = False
    """Lay the folder out as a Hugging Face hub-cache snapshot (files link into blobs/)."""


class Generator:
    """Deterministic inputs: ``generate(target, index)`` depends on the seed and index only."""

    def __init__(self, seeds: dict[str, list[Seed]], seed: int) -> None:
        self.seeds = seeds
        self.seed = seed
        self._onnx_cache: dict[bytes, Any] = {}
        self._donors = {
            t: [b for s in ss for b in s.files.values() if len(b) < 200_000]
            for t, ss in seeds.items()
        }

    def _proto(self, data: bytes) -> Any:
        model = self._onnx_cache.get(data)
        if model is None:
            from onnx import ModelProto

            model = ModelProto()
            model.ParseFromString(data)
            self._onnx_cache[data] = model
        return model

    def _mutate_file(self, target: str, kind: str, data: bytes, rng: random.Random) -> bytes:
        donors = self._donors[target]
        if rng.random() < 0.2:
            return mutators.mutate_bytes(data, rng, donors)
        if kind == "json":
            return mutators.mutate_json(data, rng, donors)
        if kind == "yaml":
            return mutators.mutate_yaml(data, rng, donors)
        if kind == "safetensors":
            return mutators.mutate_safetensors(data, rng, donors)
        if kind == "onnx":
            return mutators.mutate_onnx(data, rng, donors, lambda: self._proto(data))
        if kind == "lib":
            return self._mutate_lib(data, rng, donors)
        # Data files (shards, external data): size is what matters to planner.
        return data[: rng.randint(0, len(data))] if rng.random() < 0.7 else data + bytes(17)

    def _mutate_lib(self, data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
        if data[257:262] == b"ustar" and rng.random() < 0.5:
            return mutators.mutate_tar(data, rng, donors)
        marker = b'{"model_type":'
        at = data.find(marker)
        if at < 12 or rng.random() < 0.3:
            return mutators.mutate_bytes(data, rng, donors)
        length = int.from_bytes(data[at - 8 : at], "little")
        meta = data[at : at + length]
        new = mutators.mutate_json(meta, rng, donors)
        if not new.startswith(marker) and rng.random() < 0.8:
            # Keep the marker so the scanner finds the candidate.
            new = marker + b'"x",' + new.lstrip(b"{") if new.startswith(b"{") else new
        keep_len = rng.random() < 0.8
        prefix = len(new).to_bytes(8, "little") if keep_len else data[at - 8 : at]
        return data[: at - 8] + prefix + new + data[at + length :]

    def generate(self, target: str, index: int) -> Input:
        rng = random.Random(f"{self.seed}:{target}:{index}")
        if target == "output":
            return _output_input(rng)
        seed = rng.choice(self.seeds[target])
        files = dict(seed.files)
        names = list(files)
        changed: list[str] = []
        mode = rng.random()
        if mode < 0.08:  # pure random bytes for one (usually the main) file
            name = self._main(seed, rng)
            files[name] = mutators.random_bytes(rng)
            changed.append(name)
        else:
            for _ in range(1 if rng.random() < 0.8 else 2):
                name = self._main(seed, rng) if rng.random() < 0.6 else rng.choice(names)
                kind = seed.kinds.get(name, "bytes")
                try:
                    files[name] = self._mutate_file(target, kind, files[name], rng)
                except Exception:  # a mutator limit (e.g. protobuf refusing a string)
                    files[name] = mutators.mutate_bytes(files[name], rng, self._donors[target])
                changed.append(name)
        special: dict[str, str] = {}
        if rng.random() < 0.04:  # hostile file-system shapes
            name = rng.choice(names)
            special[name] = rng.choice(
                ("symlink-out", "symlink-loop", "fifo", "dir", "symlink-dangling")
            )
            changed.append(name)
        if rng.random() < 0.02:
            del files[rng.choice(names)]
        entry = seed.entry
        if target in ("onnx", "mlc", "hf") and rng.random() < 0.1:
            entry = rng.choice([*files, ""]) if files else ""
        linked = frozenset(
            n for n, data in files.items() if n not in special and data is seed.files.get(n)
        )
        hub = target in ("onnx", "mlc", "hf") and rng.random() < 0.05
        return Input(
            files, entry, special, seed.name, tuple(dict.fromkeys(changed)), linked, hub=hub
        )

    @staticmethod
    def _main(seed: Seed, rng: random.Random) -> str:
        ranked = [n for n in seed.files if seed.kinds.get(n) in ("onnx", "safetensors", "yaml")]
        ranked += [n for n in seed.files if seed.kinds.get(n) in ("json", "lib")]
        return rng.choice(ranked or list(seed.files))


# --------------------------------------------------------------------------- running


def _output_input(rng: random.Random) -> Input:
    """A report write onto one kind of target (see ``OUTPUT_KINDS``)."""
    kind = rng.choice(OUTPUT_KINDS)
    name = rng.choice(
        (
            "report.json",
            "r" * rng.choice((200, 250, 255)),
            "ü" * 127,
            "a\x1b[31m\nb",
            ".hidden",
            "-o",
            " spaced ",
        )
    )
    size = rng.choice((0, 1, 5000, 300_000))
    payload = rng.randbytes(size) if rng.random() < 0.5 else b"x" * size
    return Input({"payload": payload}, name, {"target": kind}, "output")


def _write_output_target(folder: Path, inp: Input) -> None:
    kind = inp.special["target"]
    path = folder / inp.entry
    if kind == "file":
        path.write_bytes(b"previous")
    elif kind == "symlink-file":
        (folder / "real").write_bytes(b"previous")
        path.symlink_to("real")
    elif kind == "symlink-dangling":
        path.symlink_to("nowhere/x")
    elif kind == "symlink-loop":
        path.symlink_to(path.name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink-fifo":
        os.mkfifo(folder / "real")
        path.symlink_to("real")
    elif kind == "dir":
        path.mkdir()
    elif kind == "symlink-dir":
        (folder / "real").mkdir()
        path.symlink_to("real")
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(path))
        except OSError:  # a socket path over 108 bytes: a regular file stands in
            path.write_bytes(b"previous")
        finally:
            sock.close()
    elif kind == "chardev":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:  # not root: a missing target instead
            pass


def write_input(base: Path, inp: Input) -> Path:
    """Write the input into ``base/m`` (fresh), with ``base/outside.bin`` outside the folder
    (or, for a hub-cache input, into ``base/models--f--m/snapshots/r`` linking into blobs/)."""
    folder = base / "m"
    hub_repo = base / "models--f--m"
    for old in (folder, hub_repo):
        if old.exists() or old.is_symlink():
            shutil.rmtree(old)
    folder.mkdir()
    if inp.seed == "output":
        _write_output_target(folder, inp)
        return folder
    outside = base / "outside.bin"
    if not outside.exists():
        outside.write_bytes(bytes(1 << 20))
    store = base / "seeds" / inp.seed
    for name, data in inp.files.items():
        path = folder / name
        kind = inp.special.get(name)
        if name in inp.linked and (store / name).is_file():
            os.link(store / name, path)
        elif kind == "symlink-out":
            path.symlink_to(outside)
        elif kind == "symlink-loop":
            path.symlink_to(path.name)
        elif kind == "symlink-dangling":
            path.symlink_to("does-not-exist")
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "dir":
            path.mkdir()
        else:
            path.write_bytes(data)
    # Names an artifact may point at: a link leaving the folder, a loop, a FIFO, a directory.
    (folder / "outside_link").symlink_to(outside)
    (folder / "loop_link").symlink_to("loop_link")
    (folder / "subdir").mkdir(exist_ok=True)
    if "fifo" not in inp.files:
        os.mkfifo(folder / "fifo")
    if inp.hub:  # every regular file becomes a blob; the snapshot holds links
        snap = hub_repo / "snapshots" / "r"
        blobs = hub_repo / "blobs"
        snap.mkdir(parents=True)
        blobs.mkdir()
        for item in sorted(folder.iterdir()):
            if item.is_file() and not item.is_symlink():
                blob = blobs / f"b{len(list(blobs.iterdir()))}"
                os.replace(item, blob)
                (snap / item.name).symlink_to(f"../../blobs/{blob.name}")
            else:
                os.replace(item, snap / item.name)
        folder.rmdir()
        return snap
    return folder


_READERS: dict[str, Any] = {}


def _reader(target: str) -> Any:
    if not _READERS:
        from planner.device_loader import load_profiles
        from planner.io import read_json
        from planner.runconfig import load_run_config
        from planner_adapters.hf_adapter import HfAdapter
        from planner_adapters.mlc_adapter import MlcAdapter
        from planner_adapters.onnx_adapter import OnnxAdapter

        adapters = (OnnxAdapter(), MlcAdapter(), HfAdapter())

        def sniffed(adapter: Any) -> Any:
            def run(path: Path) -> Any:
                for a in adapters:
                    score = a.sniff(path)
                    if not isinstance(score, int) or not 0 <= score <= 100:
                        raise AssertionError(f"{a.name}.sniff returned {score!r}")
                return adapter.read(path)

            return run

        def estimated(read: Any) -> Any:
            from planner.runtimes import estimate
            from planner.settings import Runtime, RuntimeSettings

            def run(path: Path) -> Any:
                spec = read(path)
                # The runtime the CLI picks by default for this format.
                onnx = spec.format.startswith("onnx")
                estimate(
                    spec, RuntimeSettings(runtime=Runtime.ONNXRUNTIME if onnx else Runtime.MLC)
                )
                return spec

            return run

        _READERS.update(
            onnx=sniffed(adapters[0]),
            mlc=sniffed(adapters[1]),
            hf=sniffed(adapters[2]),
            onnx_estimate=estimated(sniffed(adapters[0])),
            mlc_estimate=estimated(sniffed(adapters[1])),
            hf_estimate=estimated(sniffed(adapters[2])),
            profile=lambda p: load_profiles([p]),
            runconfig=load_run_config,
            json=lambda p: read_json(p, p.name),
        )
    return _READERS[target]


def _on_alarm(signum: int, frame: Any) -> None:
    raise Hang()


def _signature(exc: BaseException) -> str:
    """Exception type plus the innermost frame inside planner (or the innermost at all)."""
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if "/planner" in f.filename or "planner_adapters" in f.filename]
    frames = ours or list(tb)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}"


def _unsafe_text(value: Any, depth: int = 0) -> str | None:
    """The first string inside a spec that still holds a control character, if any."""
    if isinstance(value, str):
        return value if _UNSAFE.search(value) else None
    if depth > 12:
        return None
    if isinstance(value, (tuple, list)):
        items: Any = value
    elif hasattr(value, "__dataclass_fields__"):
        items = [getattr(value, f) for f in value.__dataclass_fields__]
    else:
        return None
    for item in items:
        found = _unsafe_text(item, depth + 1)
        if found is not None:
            return found
    return None


def _check_output(folder: Path, inp: Input) -> None:
    """Write a report onto the prepared target; raise AssertionError when the rule is broken."""
    from planner.errors import InputError
    from planner.io import write_atomic

    kind = inp.special["target"]
    path = folder / inp.entry
    before = {p.name: p.lstat().st_mode for p in folder.iterdir()}
    payload = inp.files["payload"]
    try:
        write_atomic(path, payload)
        wrote = True
    except InputError:
        wrote = False
    after = {p.name: p.lstat().st_mode for p in folder.iterdir()}
    left = [n for n in after if n.startswith(".planner-")]
    assert not left, f"temporary files left: {left}"
    for name, mode in before.items():
        if not stat.S_ISREG(mode):
            assert name in after and stat.S_IFMT(after[name]) == stat.S_IFMT(mode), (
                f"{kind}: {name!r} changed kind"
            )
    expect_write = kind in ("missing", "file", "symlink-file") or (
        kind == "chardev" and os.path.lexists(path)
    )
    if kind == "socket" and stat.S_ISREG(before.get(inp.entry, 0)):
        expect_write = True  # the socket path was too long: a regular file stood in
    if kind == "chardev" and not os.path.lexists(path):
        expect_write = True
    assert wrote == expect_write, f"{kind}: wrote={wrote}"
    if wrote and kind in ("missing", "file", "symlink-file", "socket"):
        assert path.read_bytes() == payload, f"{kind}: wrong content"
        if kind == "symlink-file":
            assert path.is_symlink(), "the link was replaced"


def run_one(target: str, folder: Path, inp: Input) -> tuple[str, str | None, str | None, float]:
    """Outcome ('ok' | 'error:<Class>' | 'crash' | 'hang'), signature, traceback, seconds."""
    from planner.errors import PlannerError

    path = folder / inp.entry if inp.entry else folder
    reader = (
        (lambda _p: _check_output(folder, inp))
        if target == "output"
        else _reader(
            f"{target}_estimate" if ESTIMATE and target in ("onnx", "mlc", "hf") else target
        )
    )
    limit = YAML_TIME_LIMIT_S if target in ("profile", "runconfig") else TIME_LIMIT_S
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.perf_counter()
    outcome, sig, tb = "hang", None, None
    try:
        try:
            value = reader(path)
            outcome, sig, tb = "ok", None, None
            if target in ("onnx", "mlc", "hf") and _unsafe_text(value) is not None:
                outcome, sig = "crash", "unsanitised text in a spec"
                tb = repr(_unsafe_text(value))[:300]
        except PlannerError as exc:
            outcome, sig, tb = f"error:{type(exc).__name__}", None, None
            line = exc.one_line()
            if "\n" in line:
                outcome, sig, tb = "crash", "multi-line error message", line
            elif _UNSAFE.search(line):
                outcome, sig = "crash", "control character in an error message"
                tb = repr(line)[:300]
        except Hang:
            outcome, sig, tb = "hang", f"hang (over {limit:g} s)", traceback.format_exc(limit=-12)
        except BaseException as exc:  # every other exception is a bug
            outcome, sig, tb = "crash", _signature(exc), traceback.format_exc(limit=-12)
        finally:
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
            except Hang:  # the alarm went off just as the read ended (it is one-shot: disarmed now)
                pass
    except Hang:  # raised inside a handler above (the alarm fired while it ran)
        outcome, sig, tb = "hang", f"hang (over {limit:g} s)", None
    seconds = time.perf_counter() - start
    if seconds > limit and outcome != "hang":
        outcome, sig, tb = "hang", f"hang (over {limit:g} s)", None
    return outcome, sig, tb, seconds


# --------------------------------------------------------------------------- workers

_W: dict[str, Any] = {}


def _init_worker(seeds: dict[str, list[Seed]], seed: int, base: str, limit: bool = True) -> None:
    signal.signal(signal.SIGALRM, _on_alarm)
    _W["gen"] = Generator(seeds, seed)
    _W["dir"] = Path(tempfile.mkdtemp(prefix=f"w{os.getpid()}-", dir=base))
    for ss in seeds.values():
        for s in ss:
            store = _W["dir"] / "seeds" / s.name
            store.mkdir(parents=True, exist_ok=True)
            for name, data in s.files.items():
                (store / name).write_bytes(data)
    for t in TARGETS:  # import everything before measuring the address space
        if t != "output":
            _reader(t)
    import onnx  # noqa: F401

    import planner.io  # noqa: F401

    size = _vm_size()
    if size and limit:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (size + MEMORY_LIMIT_BYTES, hard))


def _vm_size() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _work(task: tuple[str, int, int]) -> dict[str, Any]:
    target, start, stop = task
    gen: Generator = _W["gen"]
    base: Path = _W["dir"]
    outcomes: Counter[str] = Counter()
    crashes: dict[str, tuple[int, str]] = {}
    total = 0.0
    slowest = 0.0
    growth = 0
    for index in range(start, stop):
        inp = gen.generate(target, index)
        folder = write_input(base, inp)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        outcome, sig, tb, seconds = run_one(target, folder, inp)
        # ru_maxrss is a high-water mark: this is how far one read pushed the peak up.
        growth = max(growth, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
        outcomes[outcome] += 1
        total += seconds
        slowest = max(slowest, seconds)
        if sig is not None and sig not in crashes:
            crashes[sig] = (index, tb or "")
    return {
        "target": target,
        "n": stop - start,
        "outcomes": dict(outcomes),
        "crashes": crashes,
        "seconds": total,
        "slowest": slowest,
        "growth_kib": growth,
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


# --------------------------------------------------------------------------- minimising


def minimise(gen: Generator, target: str, index: int, base: Path, signature: str) -> Input:
    """Shrink the changed files of an input while the crash signature stays the same."""
    inp = gen.generate(target, index)

    def same(candidate: Input) -> bool:
        folder = write_input(base, candidate)
        _, sig, _, _ = run_one(target, folder, candidate)
        return sig == signature

    budget = 40 if signature.startswith("hang") else 800
    for name in inp.changed:
        if name not in inp.files or name in inp.special:
            continue
        data = inp.files[name]
        chunk = max(1, len(data) // 2)
        while chunk >= 1 and budget > 0:
            i = 0
            while i < len(data) and budget > 0:
                budget -= 1
                trial = data[:i] + data[i + chunk :]
                candidate = Input(
                    {**inp.files, name: trial},
                    inp.entry,
                    inp.special,
                    inp.seed,
                    inp.changed,
                    inp.linked - {name},
                )
                if same(candidate):
                    data = trial
                else:
                    i += chunk
            chunk //= 2
        inp = Input(
            {**inp.files, name: data},
            inp.entry,
            inp.special,
            inp.seed,
            inp.changed,
            inp.linked - {name},
        )
    return inp


def _show(inp: Input, seeds: dict[str, list[Seed]]) -> str:
    seed = next((s for ss in seeds.values() for s in ss if s.name == inp.seed), None)
    lines = [f"  seed {inp.seed}, entry {inp.entry or '(folder)'}"]
    for name, data in inp.files.items():
        if seed is not None and seed.files.get(name) == data and name not in inp.special:
            continue
        kind = inp.special.get(name)
        shown = kind or repr(data[:400]) + (f" … ({len(data)} bytes)" if len(data) > 400 else "")
        lines.append(f"  {name}: {shown}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000, help="Inputs per target.")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--json", type=Path, help="Write the summary as JSON here.")
    parser.add_argument("--crash-dir", type=Path, help="Save minimised crashing inputs here.")
    parser.add_argument("--replay", help="TARGET:INDEX — run one input and show it.")
    parser.add_argument(
        "--estimate",
        action="store_true",
        help="Also run the budget engine on every spec an adapter returns.",
    )
    args = parser.parse_args(argv)
    global ESTIMATE
    ESTIMATE = args.estimate  # forked workers inherit it
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")

    base = Path(
        tempfile.mkdtemp(
            prefix="planner-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
        )
    )
    try:
        t0 = time.perf_counter()
        seeds = build_seeds(base)
        print(
            "seeds: "
            + ", ".join(f"{t} {len(seeds[t])}" for t in TARGETS)
            + f" (built in {time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
        if args.replay:
            target, _, index = args.replay.partition(":")
            _init_worker(seeds, args.seed, str(base), limit=False)
            inp = _W["gen"].generate(target, int(index))
            folder = write_input(_W["dir"], inp)
            outcome, sig, tb, seconds = run_one(target, folder, inp)
            print(_show(inp, seeds))
            print(f"{outcome} in {seconds * 1000:.1f} ms {sig or ''}\n{tb or ''}")
            return 0
        return _campaign(args, targets, seeds, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _campaign(
    args: argparse.Namespace, targets: list[str], seeds: dict[str, list[Seed]], base: Path
) -> int:
    summary: dict[str, dict[str, Any]] = {
        t: {
            "n": 0,
            "outcomes": Counter(),
            "crashes": {},
            "seconds": 0.0,
            "slowest": 0.0,
            "maxrss_kib": 0,
            "growth_kib": 0,
            "wall": 0.0,
        }
        for t in targets
    }
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("fork")
    for target in targets:  # a fresh pool per target, so peak RSS is per target
        tasks = [
            (target, i, min(i + args.chunk, args.inputs)) for i in range(0, args.inputs, args.chunk)
        ]
        s = summary[target]
        started = time.perf_counter()
        with ctx.Pool(
            args.jobs, initializer=_init_worker, initargs=(seeds, args.seed, str(base))
        ) as pool:
            for res in pool.imap_unordered(_work, tasks):
                s["n"] += res["n"]
                s["outcomes"].update(res["outcomes"])
                s["seconds"] += res["seconds"]
                s["slowest"] = max(s["slowest"], res["slowest"])
                s["maxrss_kib"] = max(s["maxrss_kib"], res["maxrss_kib"])
                s["growth_kib"] = max(s["growth_kib"], res["growth_kib"])
                for sig, (index, tb) in res["crashes"].items():
                    if sig not in s["crashes"] or index < s["crashes"][sig][0]:
                        s["crashes"][sig] = (index, tb)
                if s["n"] % (args.chunk * 40) == 0:
                    print(
                        f"  … {target}: {s['n']} inputs, {time.perf_counter() - t0:.0f} s",
                        flush=True,
                    )
        s["wall"] = time.perf_counter() - started
    wall = time.perf_counter() - t0

    # Minimise and print crashes (in this process).
    _init_worker(seeds, args.seed, str(base), limit=False)
    any_crash = False
    for t in targets:
        for sig, (index, tb) in sorted(summary[t]["crashes"].items()):
            any_crash = True
            small = minimise(_W["gen"], t, index, _W["dir"], sig)
            print(
                f"\nCRASH {t} input {index}: {sig}\n{tb.rstrip()}\nminimised input:\n"
                f"{_show(small, seeds)}"
            )
            if args.crash_dir:
                out = args.crash_dir / f"{t}-{index}"
                out.mkdir(parents=True, exist_ok=True)
                for name, data in small.files.items():
                    if name not in small.special:
                        (out / name).write_bytes(data)
                (out / "CRASH.txt").write_text(f"{sig}\n{tb}\n")

    rows = []
    for t in targets:
        s = summary[t]
        o: Counter[str] = s["outcomes"]
        errors = sum(v for k, v in o.items() if k.startswith("error:"))
        top = ", ".join(f"{k[6:]} {v}" for k, v in o.most_common() if k.startswith("error:"))
        rows.append(
            {
                "target": t,
                "inputs": s["n"],
                "spec": o.get("ok", 0),
                "planner_error": errors,
                "crash": o.get("crash", 0),
                "hang": o.get("hang", 0),
                "unique_crashes": len(s["crashes"]),
                "mean_ms": 1000 * s["seconds"] / max(1, s["n"]),
                "max_ms": 1000 * s["slowest"],
                "peak_rss_mib": s["maxrss_kib"] / 1024,
                "read_growth_mib": s["growth_kib"] / 1024,
                "wall_s": s["wall"],
                "errors": top,
            }
        )
    print(
        f"\n{sum(r['inputs'] for r in rows)} inputs in {wall:.0f} s with {args.jobs} workers "
        f"(seed {args.seed})\n"
    )
    print(
        "| target | inputs | spec | PlannerError | crash | hang | mean ms | max ms "
        "| worker peak RSS MiB | max growth by one read MiB | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['target']} | {r['inputs']} | {r['spec']} | {r['planner_error']} | "
            f"{r['crash']} | {r['hang']} | {r['mean_ms']:.2f} | {r['max_ms']:.0f} | "
            f"{r['peak_rss_mib']:.0f} | {r['read_growth_mib']:.1f} | {r['wall_s']:.0f} |"
        )
    print()
    for r in rows:
        print(f"{r['target']} errors: {r['errors']}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"seed": args.seed, "jobs": args.jobs, "wall_s": wall, "targets": rows}, indent=2
            )
            + "\n"
        )
    return 1 if any_crash else 0


if __name__ == "__main__":
    sys.exit(main())
