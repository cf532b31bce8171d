"""Property-based tests of every parser of untrusted input: whatever the bytes, the result is a
value or a ``PlannerError`` (one line), never another exception.

Examples are few per property (the long campaign is ``benchmarks/fuzz/fuzz_adapters.py``);
strategies mix arbitrary bytes with structured values around real seeds, so the properties
reach the checks behind the first parser (sizes against files, overflow, consistency).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import stat
import struct
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from planner.device_loader import parse_profile
from planner.errors import ConfigFileError, PlannerError, UnsafeArtifactError
from planner.io import (
    MAX_DIM,
    MAX_ELEMENTS,
    checked_dims,
    load_yaml,
    parse_json_bytes,
    project_file,
    resolve_inside,
    scan_tar,
    write_atomic,
)
from planner.io.jsonio import json_budget, measure
from planner.runconfig import load_run_config
from planner.text import one_line, sanitize
from planner_adapters._mlc_lib import find_lib_metadata, lib_info_from_metadata
from planner_adapters._safetensors import read_safetensors_header
from planner_adapters.hf_adapter import HfAdapter
from planner_adapters.hf_config import spec_from_hf_config
from planner_adapters.mlc_adapter import MlcAdapter
from planner_adapters.onnx.graph import parse_model, scan
from planner_adapters.onnx.proto import PROJECTION
from planner_adapters.onnx_adapter import OnnxAdapter
from tests import mlc_factory
from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Integers that break size arithmetic: zero, negatives, 2**31/2**32/2**63/2**64 neighbours.
EDGE_INTS = st.one_of(
    st.sampled_from(
        [
            0,
            1,
            -1,
            2**31 - 1,
            2**31,
            2**32,
            2**40,
            2**53 + 1,
            2**63 - 1,
            2**63,
            2**64,
            -(2**63),
            10**30,
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    EDGE_INTS,
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _one_line(error: PlannerError) -> None:
    assert "\n" not in error.one_line()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="planner-props-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _fresh(scratch: Path, name: str) -> Path:
    folder = scratch / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    return folder


def _json_dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)


# --------------------------------------------------------------------------- JSON


@FAST
@given(st.binary(max_size=400))
def test_json_parser_on_bytes(data: bytes) -> None:
    try:
        parse_json_bytes(data, Path("x.json"))
    except PlannerError as err:
        _one_line(err)


@FAST
@given(st.text(alphabet='[]{}"\\:,0123456789-eE.ntrufalsNIiy ', max_size=300))
def test_json_parser_on_json_like_text(text: str) -> None:
    try:
        parse_json_bytes(text.encode(), Path("x.json"))
    except PlannerError as err:
        _one_line(err)


# --------------------------------------------------------------------------- Hugging Face

_HF_BASE: dict[str, Any] = {
    "model_type": "llama",
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "vocab_size": 256,
    "max_position_embeddings": 512,
    "sliding_window": 16,
    "torch_dtype": "bfloat16",
}
_HF_KEYS = [
    *_HF_BASE,
    "head_dim",
    "layer_types",
    "quantization_config",
    "text_config",
    "tie_word_embeddings",
    "use_sliding_window",
    "sliding_window_pattern",
]


@FAST
@given(
    st.dictionaries(st.sampled_from(_HF_KEYS), JSON_VALUES, max_size=4),
    st.sampled_from(["llama", "gemma2", "gemma3", "qwen2", "phi3", "mistral"]),
)
def test_hf_config_fields(overrides: dict[str, Any], family: str) -> None:
    cfg = {**_HF_BASE, "model_type": family, **overrides}
    try:
        spec = spec_from_hf_config(cfg, source="x", path=Path("config.json"))
    except PlannerError as err:
        _one_line(err)
        return
    assert spec.num_layers >= 1 and len(spec.layer_windows) in (0, spec.num_layers)


@st.composite
def _safetensors(draw: st.DrawFn) -> bytes:
    entries: dict[str, Any] = {}
    for i in range(draw(st.integers(0, 3))):
        entries[f"t{i}"] = {
            "dtype": draw(st.sampled_from(["F32", "BF16", "I8", "F4", "X", 7])),
            "shape": draw(st.lists(EDGE_INTS, max_size=3) | JSON_VALUES),
            "data_offsets": draw(st.lists(EDGE_INTS, min_size=2, max_size=2) | JSON_VALUES),
        }
    if draw(st.booleans()):
        entries["__metadata__"] = draw(JSON_VALUES)
    header = _json_dumps(entries).encode()
    length = draw(st.one_of(st.just(len(header)), EDGE_INTS.map(lambda v: v % 2**64)))
    body = bytes(draw(st.integers(0, 256)))
    return struct.pack("<Q", length) + header + body


@FAST
@given(st.one_of(_safetensors(), st.binary(max_size=64)))
def test_safetensors_header(scratch: Path, data: bytes) -> None:
    folder = _fresh(scratch, "st")
    path = folder / "model.safetensors"
    path.write_bytes(data)
    try:
        header = read_safetensors_header(path)
    except PlannerError as err:
        _one_line(err)
        return
    for t in header.tensors:  # everything accepted lies inside the real file
        assert 0 <= t.start <= t.end <= header.file_size


@FAST
@given(st.one_of(_safetensors(), st.binary(max_size=64)), JSON_VALUES)
def test_hf_folder(scratch: Path, data: bytes, index: Any) -> None:
    folder = _fresh(scratch, "hf")
    (folder / "config.json").write_text(_json_dumps(_HF_BASE))
    (folder / "model.safetensors").write_bytes(data)
    if isinstance(index, dict):
        (folder / "model.safetensors.index.json").write_text(_json_dumps(index))
    try:
        HfAdapter().read(folder)
    except PlannerError as err:
        _one_line(err)


# --------------------------------------------------------------------------- MLC


@pytest.fixture(scope="module")
def mlc_seed(scratch: Path) -> dict[str, Any]:
    folder = scratch / "mlc-seed"
    doc = mlc_factory.write_model(folder, mlc_factory.TINY_LLAMA, "q4f16_1", shards=False)
    chat = json.loads((folder / "mlc-chat-config.json").read_text())
    return {"doc": doc, "chat": chat}


_RECORD_KEYS = ["name", "shape", "dtype", "format", "nbytes", "byteOffset"]
_SHARD_KEYS = ["dataPath", "format", "nbytes", "records"]


@FAST
@given(st.data())
def test_tensor_cache(scratch: Path, mlc_seed: dict[str, Any], data: st.DataObject) -> None:
    doc = json.loads(json.dumps(mlc_seed["doc"]))
    shard = data.draw(st.integers(0, len(doc["records"]) - 1))
    if data.draw(st.booleans()):
        rec = doc["records"][shard]["records"][0]
        rec[data.draw(st.sampled_from(_RECORD_KEYS))] = data.draw(JSON_VALUES)
    else:
        doc["records"][shard][data.draw(st.sampled_from(_SHARD_KEYS))] = data.draw(JSON_VALUES)
    if data.draw(st.booleans()):
        doc["metadata"] = {
            k: data.draw(JSON_VALUES) for k in ("ParamSize", "ParamBytes", "BitsPerParam")
        }
    folder = _fresh(scratch, "mlc")
    (folder / "mlc-chat-config.json").write_text(_json_dumps(mlc_seed["chat"]))
    (folder / "tensor-cache.json").write_text(_json_dumps(doc))
    try:
        spec = MlcAdapter().read(folder)
    except PlannerError as err:
        _one_line(err)
        return
    assert spec.weights is not None and spec.weights.total_bytes >= 0


@FAST
@given(st.data())
def test_mlc_chat_config(scratch: Path, mlc_seed: dict[str, Any], data: st.DataObject) -> None:
    chat = json.loads(json.dumps(mlc_seed["chat"]))
    target = chat if data.draw(st.booleans()) else chat["model_config"]
    target[data.draw(st.sampled_from(sorted(target)))] = data.draw(JSON_VALUES)
    folder = _fresh(scratch, "mlc-chat")
    (folder / "mlc-chat-config.json").write_text(_json_dumps(chat))
    try:
        MlcAdapter().read(folder)
    except PlannerError as err:
        _one_line(err)


@FAST
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "memory_usage",
                "params",
                "context_window_size",
                "kv_cache",
                "model_type",
                "quantization",
                "prefill_chunk_size",
                "tensor_parallel_shards",
            ]
        ),
        JSON_VALUES,
        max_size=4,
    )
)
def test_lib_metadata_values(meta: dict[str, Any]) -> None:
    base: dict[str, Any] = {
        "model_type": "llama",
        "memory_usage": {"prefill": 10},
        "params": [{"name": "w", "shape": ["vocab_size", 4], "dtype": "float16"}],
    }
    try:
        lib_info_from_metadata({**base, **meta}, Path("lib.so"), {"vocab_size": 8})
    except PlannerError as err:
        _one_line(err)


@FAST
@given(st.binary(max_size=200), JSON_VALUES, st.binary(max_size=200), EDGE_INTS)
def test_lib_scan(scratch: Path, before: bytes, meta: Any, after: bytes, length: int) -> None:
    body = b'{"model_type":' + _json_dumps(meta).encode() + b', "params": [], "memory_usage": {}}'
    prefix = struct.pack("<iQ", 65, length % 2**64)
    path = _fresh(scratch, "lib") / "lib.so"
    path.write_bytes(before + prefix + body + after)
    try:
        find_lib_metadata(path)
    except PlannerError as err:
        _one_line(err)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_tar_header_prescan_accepts_real_extended_headers(scratch: Path, fmt: int) -> None:
    """The bound on pax / GNU long-name headers does not reject real archives using them."""
    meta = {"model_type": "llama", "params": [], "memory_usage": {"prefill": 1}}
    blob = mlc_factory.metadata_blob(meta)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as archive:
        for name, data in (
            ("d" * 150 + "/lib0.o", b"\x90" * 64),
            ("devc-" + "x" * 120 + ".o", mlc_factory.elf_object(blob)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.pax_headers = {"comment": "é" * 10} if fmt == tarfile.PAX_FORMAT else {}
            archive.addfile(info, io.BytesIO(data))
    path = _fresh(scratch, "tar") / "lib.tar"
    path.write_bytes(buf.getvalue())
    found, where = find_lib_metadata(path)
    assert found["memory_usage"] == {"prefill": 1} and "devc-" in where


# --------------------------------------------------------------------------- ONNX


@pytest.fixture(scope="module")
def onnx_seed(scratch: Path) -> dict[str, bytes]:
    folder = scratch / "onnx-seed"
    build_genai(
        folder,
        ModelConfig(
            layers=1,
            hidden=32,
            heads=2,
            kv_heads=1,
            head_dim=16,
            intermediate=64,
            vocab=64,
            context=64,
        ),
        GenaiOptions(),
    )
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@FAST
@given(st.binary(max_size=600))
def test_onnx_on_bytes(scratch: Path, data: bytes) -> None:
    path = _fresh(scratch, "onnx-bytes") / "model.onnx"
    path.write_bytes(data)
    try:
        OnnxAdapter().read(path)
    except PlannerError as err:
        _one_line(err)


@FAST
@given(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    st.integers(0, 10**6),
)
def test_onnx_mutated_seed(
    scratch: Path, onnx_seed: dict[str, bytes], flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(onnx_seed["model.onnx"])
    for pos, value in flips:
        data[pos % len(data)] = value
    folder = _fresh(scratch, "onnx-mut")
    for name, content in onnx_seed.items():
        (folder / name).write_bytes(content)
    (folder / "model.onnx").write_bytes(bytes(data[: max(cut, len(data) // 2)]))
    try:
        OnnxAdapter().read(folder)
    except PlannerError as err:
        _one_line(err)


_LOCATIONS = st.one_of(
    st.sampled_from(
        [
            "model.onnx.data",
            "../model.onnx.data",
            "/etc/passwd",
            ".",
            "",
            "a/../b",
            "sub/../../x",
            "C:\\x",
            "loop",
            "fifo",
            "x" * 300,
        ]
    ),
    st.text(max_size=12),
)
_OFFSETS = st.one_of(EDGE_INTS.map(str), st.text(max_size=6))


@FAST
@given(st.integers(0, 50), _LOCATIONS, _OFFSETS, _OFFSETS, st.lists(EDGE_INTS, max_size=3))
def test_onnx_external_data_fields(
    scratch: Path,
    onnx_seed: dict[str, bytes],
    which: int,
    location: str,
    offset: str,
    length: str,
    dims: list[int],
) -> None:
    from planner_adapters.onnx.proto import ModelProto

    model = ModelProto()
    model.ParseFromString(onnx_seed["model.onnx"])
    t = model.graph.initializer[which % len(model.graph.initializer)]
    try:
        t.data_location = 1
        del t.external_data[:]
        for key, value in (("location", location), ("offset", offset), ("length", length)):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        if dims:
            del t.dims[:]
            t.dims.extend(max(-(2**63), min(2**63 - 1, d)) for d in dims)
    except (ValueError, TypeError):  # protobuf refuses a string it cannot encode
        assume(False)
    folder = _fresh(scratch, "onnx-ext")
    (folder / "model.onnx.data").write_bytes(onnx_seed["model.onnx.data"])
    os.symlink("loop", folder / "loop")
    os.mkfifo(folder / "fifo")
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    try:
        parsed, size = parse_model(path)
        graph = scan(parsed, path, size)
    except PlannerError as err:
        _one_line(err)
        return
    for loc in graph.data_files:  # whatever was accepted lies inside the folder
        assert (folder / loc).resolve().is_relative_to(folder.resolve())


# --------------------------------------------------------------------------- paths


@FAST
@given(st.text(max_size=40))
def test_resolve_inside_never_escapes(scratch: Path, name: str) -> None:
    root = scratch / "root"
    root.mkdir(exist_ok=True)
    (scratch / "secret").write_text("x")
    if not (root / "out").is_symlink():
        os.symlink("../secret", root / "out")
    try:
        path = resolve_inside(root, name, "file")
    except UnsafeArtifactError as err:
        _one_line(err)
        return
    assert path.resolve().is_relative_to(root.resolve())


# --------------------------------------------------------------------------- YAML


@pytest.fixture(scope="module")
def profile_seed() -> dict[str, Any]:
    src = Path(__file__).resolve().parent.parent / "device_profiles" / "galaxy-s23-ultra.yaml"
    doc: dict[str, Any] = yaml.safe_load(src.read_text())
    return doc


_YAML_TEXT = st.text(alphabet="abc:-[]{}!&*?|>'\"#\n 0123456789.%@`,\t~", max_size=200)


@FAST
@given(st.one_of(_YAML_TEXT, st.text(max_size=100)))
def test_profile_text(text: str) -> None:
    try:
        parse_profile(text, "p.yaml")
    except PlannerError as err:
        _one_line(err)


@FAST
@given(st.data())
def test_profile_values(profile_seed: dict[str, Any], data: st.DataObject) -> None:
    doc = json.loads(json.dumps(profile_seed))
    key = data.draw(st.sampled_from(sorted(doc)))
    value = data.draw(
        JSON_VALUES | st.sampled_from(["-1 GiB", "1e400 GB", "9" * 50 + " B", "12 XB", "0 GiB"])
    )
    if isinstance(doc[key], dict) and "value" in doc[key] and data.draw(st.booleans()):
        doc[key]["value"] = value
    else:
        doc[key] = value
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        profile = parse_profile(text, "p.yaml")
    except PlannerError as err:
        _one_line(err)
        return
    assert profile.ram_bytes.value > 0 and math.isfinite(profile.decode_efficiency.value)


@FAST
@given(
    st.one_of(
        _YAML_TEXT,
        st.text(max_size=100),
        st.sampled_from(
            [
                "jobs: !!python/object/apply:os.system ['true']",
                "jobs: [{model: m, devices: [x], context: 2024-13-01}]",
                "jobs: [{model: m, devices: [x], context: !!float x}]",
                "jobs: [{model: m, devices: [x], context: " + "9" * 5000 + "}]",
                "&a [*a]",
            ]
        ),
    )
)
def test_run_config(scratch: Path, text: str) -> None:
    path = scratch / "planner.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_run_config(path)
    except PlannerError as err:
        _one_line(err)


# --------------------------------------------------------------------------- regressions
# Inputs the fuzzer found that raised something other than a PlannerError (or ran away).


def test_json_integer_literal_over_python_limit() -> None:
    with pytest.raises(PlannerError, match="number too long"):
        parse_json_bytes(b'{"vocab_size": ' + b"9" * 5000 + b"}", Path("config.json"))


@pytest.mark.parametrize("value", ["!!float x", "9" * 5000, "!!int abc", "2024-13-01"])
def test_profile_values_yaml_cannot_construct(profile_seed: dict[str, Any], value: str) -> None:
    text = yaml.safe_dump(profile_seed, allow_unicode=True) + f"notes: {value}\n"
    with pytest.raises(PlannerError):
        parse_profile(text, "p.yaml")


def test_mlc_metadata_nan_and_tiny_bits_per_param(scratch: Path, mlc_seed: dict[str, Any]) -> None:
    doc = mlc_seed["doc"]
    for meta in (
        {"ParamBytes": math.nan, "BitsPerParam": 1.0},
        {"ParamBytes": doc["metadata"]["ParamBytes"], "BitsPerParam": 1e-320},
    ):
        folder = _fresh(scratch, "mlc-nan")
        (folder / "mlc-chat-config.json").write_text(_json_dumps(mlc_seed["chat"]))
        (folder / "tensor-cache.json").write_text(_json_dumps({**doc, "metadata": meta}))
        spec = MlcAdapter().read(folder)  # the metadata is a cross-check only: ignored
        assert spec.weights is not None and spec.weights.param_count > 0


@pytest.mark.parametrize("name", ["x" * 5000, "a/" * 3000, "\ud800", ".", "./"])
def test_unusable_file_names_in_configs(scratch: Path, mlc_seed: dict[str, Any], name: str) -> None:
    doc = json.loads(json.dumps(mlc_seed["doc"]))
    doc["records"][0]["dataPath"] = name
    folder = _fresh(scratch, "mlc-names")
    (folder / "mlc-chat-config.json").write_text(_json_dumps(mlc_seed["chat"]))
    (folder / "tensor-cache.json").write_text(_json_dumps(doc))
    with pytest.raises(UnsafeArtifactError):
        MlcAdapter().read(folder)
    hf = _fresh(scratch, "hf-names")
    (hf / "config.json").write_text(_json_dumps(_HF_BASE))
    (hf / "model.safetensors.index.json").write_text(_json_dumps({"weight_map": {"w": name}}))
    with pytest.raises(UnsafeArtifactError):
        HfAdapter().read(hf)


def _edited_onnx(scratch: Path, onnx_seed: dict[str, bytes], edit: Any) -> Path:
    from planner_adapters.onnx.proto import ModelProto

    model = ModelProto()
    model.ParseFromString(onnx_seed["model.onnx"])
    edit(model)
    folder = _fresh(scratch, "onnx-edit")
    (folder / "model.onnx.data").write_bytes(onnx_seed["model.onnx.data"])
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    return folder / "model.onnx"


def test_onnx_layer_indices_with_thousands_of_digits(
    scratch: Path, onnx_seed: dict[str, bytes]
) -> None:
    def edit(model: Any) -> None:
        model.graph.input[2].name = f"past_key_values.{'9' * 5000}.key"
        for node in model.graph.node:
            node.name = f"/model/layers.{'9' * 5000}/mlp/down_proj/MatMul"

    with pytest.raises(PlannerError, match="absurd layer index"):
        OnnxAdapter().read(_edited_onnx(scratch, onnx_seed, edit))


def test_onnx_zero_head_dim_from_rotary_table(scratch: Path, onnx_seed: dict[str, bytes]) -> None:
    def edit(model: Any) -> None:
        for t in model.graph.initializer:
            if t.name == "cos_cache":
                t.dims[1] = 0
                del t.external_data[:]
                t.data_location = 0
        for node in model.graph.node:
            if node.op_type == "GroupQueryAttention":
                keep = [a for a in node.attribute if a.name != "num_heads"]
                del node.attribute[:]
                node.attribute.extend(keep)
        # No genai_config.json and a symbolic KV head dim: cos_cache is the only source left.

    with pytest.raises(PlannerError, match="head_dim=0"):
        OnnxAdapter().read(_edited_onnx(scratch, onnx_seed, edit))


def test_onnx_kv_input_of_a_dtype_without_byte_width(
    scratch: Path, onnx_seed: dict[str, bytes]
) -> None:
    def edit(model: Any) -> None:
        for vi in model.graph.input:
            if vi.name.startswith("past_key_values"):
                vi.type.tensor_type.elem_type = 24  # FLOAT8E8M0

    with pytest.raises(PlannerError, match="float8_e8m0"):
        OnnxAdapter().read(_edited_onnx(scratch, onnx_seed, edit))


# --------------------------------------------------------------------------- planner.io, issue 15

_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


@FAST
@given(st.text(max_size=200))
def test_sanitize_leaves_nothing_a_terminal_or_xml_interprets(text: str) -> None:
    out = sanitize(text)
    assert not _UNSAFE_TEXT.search(out)
    out.encode("utf-8")
    assert sanitize(out) == out  # idempotent: escapes are plain text
    assert "\n" not in one_line(text)


@FAST
@given(st.lists(EDGE_INTS, max_size=80))
def test_checked_dims_never_builds_a_huge_number(dims: list[int]) -> None:
    try:
        n = checked_dims(dims, "f", "t")
    except PlannerError as err:
        _one_line(err)
        return
    assert 0 <= n <= MAX_ELEMENTS
    assert all(0 <= d <= MAX_DIM for d in dims) and len(dims) <= 64


@FAST
@given(
    st.lists(
        st.sampled_from([b"[", b"]", b"{", b"}", b",", b":", b'"', b"\\", b"0", b'"]"', b" "]),
        max_size=300,
    )
)
def test_json_budget_and_depth_hold_on_bracket_soup(parts: list[bytes]) -> None:
    data = b"".join(parts)
    try:
        value = parse_json_bytes(data, Path("x.json"))
    except PlannerError as err:
        _one_line(err)
        return
    assert measure(data).memory(len(data)) <= json_budget(len(data))
    del value


@FAST
@given(st.text(max_size=300))
def test_strict_yaml_on_text(text: str) -> None:
    try:
        load_yaml(text, "c.yaml", ConfigFileError)
    except PlannerError as err:
        _one_line(err)


@FAST
@given(st.binary(max_size=3000))
def test_tar_scan_on_bytes(scratch: Path, data: bytes) -> None:
    path = _fresh(scratch, "tar") / "lib.tar"
    path.write_bytes(data)
    with path.open("rb") as fh:
        try:
            members = scan_tar(fh, len(data), path)
        except PlannerError as err:
            _one_line(err)
            return
    for m in members:  # every member accepted lies inside the file
        assert 0 <= m.offset and m.offset + m.size <= len(data)


@FAST
@given(st.binary(max_size=2000))
def test_protobuf_projection_on_bytes(scratch: Path, data: bytes) -> None:
    path = _fresh(scratch, "pb") / "model.onnx"
    path.write_bytes(data)
    try:
        projected, size = project_file(path, PROJECTION, "ModelProto", "ONNX model")
    except PlannerError as err:
        _one_line(err)
        return
    assert size == len(data)
    assert len(projected) <= len(data) + 16 * data.count(b"J")  # raw_data lengths are small


@FAST
@given(
    st.sampled_from(["missing", "file", "link", "dangling", "loop", "fifo", "dir"]),
    st.text(
        alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=60,
    ),
    st.binary(max_size=200),
)
def test_output_never_replaces_special_files(
    scratch: Path, kind: str, name: str, payload: bytes
) -> None:
    assume(name not in (".", ".."))
    folder = _fresh(scratch, "out")
    path = folder / name
    if kind == "file":
        path.write_bytes(b"old")
    elif kind == "link":
        (folder / ".real").write_bytes(b"old")
        path.symlink_to(".real")
    elif kind == "dangling":
        path.symlink_to("nowhere/x")
    elif kind == "loop":
        path.symlink_to(name)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    try:
        write_atomic(path, payload)
    except PlannerError as err:
        _one_line(err)
        assert kind in ("dangling", "loop", "fifo", "dir")
    else:
        assert kind in ("missing", "file", "link") and path.read_bytes() == payload
    assert not [p for p in folder.iterdir() if p.name.startswith(".planner-")]
    if kind == "link":
        assert path.is_symlink()
    if kind == "fifo":
        assert stat.S_ISFIFO(path.lstat().st_mode)
    if kind == "dir":
        assert path.is_dir() and not list(path.iterdir())
