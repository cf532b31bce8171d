"""Hostile artifacts for ``tests/bad_inputs`` that are easier to make in code than to store:
``setup: [{recipe: NAME, ...arguments}]`` in a ``case.yaml`` calls ``RECIPES[NAME](case_dir,
arguments)``. Big inputs are made here at test time (sparse files cost no disk).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests import mlc_factory


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _model(graph: bytes) -> bytes:
    """A ModelProto: ir_version 8, opset 17, the given GraphProto bytes."""
    opset = _field(8, _varint(2 << 3) + _varint(17))
    return _varint(1 << 3) + _varint(8) + opset + _field(7, graph)


def _relu_node() -> bytes:
    return _field(1, _field(1, b"x") + _field(2, b"y") + _field(4, b"Relu"))


def onnx_dims_then_zero(case: Path, arg: dict[str, Any]) -> None:
    """An initializer with ``count`` dims of 2^62 and a final 0 (an empty tensor whose element
    count, multiplied out naively, is a huge integer growing quadratically in time)."""
    count = int(arg.get("count", 300_000))
    dims = _varint(1 << 62) * count + _varint(0)
    tensor = _field(1, dims) + _varint(2 << 3) + _varint(1) + _field(8, b"w")
    (case / arg.get("file", "model.onnx")).write_bytes(_model(_relu_node() + _field(5, tensor)))


def onnx_empty_int64_max(case: Path, arg: dict[str, Any]) -> None:
    """An empty fp32 embedding table ``[0, INT64_MAX]`` gathered by input_ids."""
    import onnx
    from onnx import TensorProto, helper

    table = helper.make_tensor("embed", TensorProto.FLOAT, [0, 2**63 - 1], vals=[])
    ids = helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, 1])
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)
    node = helper.make_node("Gather", ["embed", "input_ids"], ["logits"], name="embed_tokens")
    graph = helper.make_graph([node], "g", [ids], [out], initializer=[table])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (case / arg.get("file", "model.onnx")).write_bytes(model.SerializeToString())
    del onnx


def onnx_sparse_raw_data(case: Path, arg: dict[str, Any]) -> None:
    """A ~2 GiB model file, sparse, whose one initializer's raw_data spans the whole file: the
    graph parsed whole would copy every byte (twice)."""
    size = int(arg.get("size", 2 * 1024**3 - 4096))
    name = _field(8, b"w")
    head = _field(1, _varint(4)) + _varint(2 << 3) + _varint(1) + name
    raw_len = size - 200
    tensor_head = head + _varint(9 << 3 | 2) + _varint(raw_len)
    tensor_len = len(tensor_head) + raw_len
    graph_head = _relu_node() + _varint(5 << 3 | 2) + _varint(tensor_len)
    graph_len = len(graph_head) + tensor_len
    prefix = (
        _varint(1 << 3)
        + _varint(8)
        + _varint(7 << 3 | 2)
        + _varint(graph_len)
        + graph_head
        + tensor_head
    )
    path = case / arg.get("file", "model.onnx")
    with path.open("wb") as fh:
        fh.write(prefix)
        fh.truncate(len(prefix) + raw_len)


def onnx_empty_nodes(case: Path, arg: dict[str, Any]) -> None:
    """A graph of millions of empty nodes (each two bytes; hundreds of bytes once parsed)."""
    count = int(arg.get("count", 4_000_000))
    (case / arg.get("file", "model.onnx")).write_bytes(_model(b"\x0a\x00" * count))


def onnx_nested_subgraphs(case: Path, arg: dict[str, Any]) -> None:
    """``depth`` If nodes nested through their then_branch attribute."""
    depth = int(arg.get("depth", 120))
    graph = _relu_node()
    for _ in range(depth):
        attr = _field(1, b"then_branch") + _field(6, graph) + _varint(20 << 3) + _varint(5)
        graph = _field(1, _field(4, b"If") + _field(5, attr))
    (case / arg.get("file", "model.onnx")).write_bytes(_model(graph))


def onnx_rank(case: Path, arg: dict[str, Any]) -> None:
    """An initializer of rank ``rank`` (all dims 1)."""
    rank = int(arg.get("rank", 65))
    tensor = _field(1, _varint(1) * rank) + _varint(2 << 3) + _varint(1) + _field(8, b"w")
    (case / arg.get("file", "model.onnx")).write_bytes(_model(_relu_node() + _field(5, tensor)))


def hub_cache(case: Path, arg: dict[str, Any]) -> None:
    """Turn the built artifact in ``case`` into a Hugging Face hub cache: every file becomes
    ``models--org--name/blobs/<hash>`` and ``snapshots/rev1/<sub>/<name>`` links to it. With
    ``escape``, one link leads into another repository's blobs instead."""
    sub = arg.get("sub", "")
    repo = case / "models--org--name"
    blobs = repo / "blobs"
    snap = repo / "snapshots" / "rev1" / sub
    blobs.mkdir(parents=True)
    snap.mkdir(parents=True)
    up = "../" * (2 + len(Path(sub).parts)) if sub else "../../"
    for i, item in enumerate(sorted(p for p in case.iterdir() if p.is_file())):
        blob = blobs / f"blob{i:04d}"
        shutil.move(str(item), blob)
        (snap / item.name).symlink_to(f"{up}blobs/{blob.name}")
    escape = arg.get("escape")
    if escape:
        other = case / "models--other--repo" / "blobs"
        other.mkdir(parents=True)
        target = snap / escape
        shutil.move(str(target.resolve()), other / "stolen")
        target.unlink()
        target.symlink_to(f"{up}../models--other--repo/blobs/stolen")


def sparse_library(case: Path, arg: dict[str, Any]) -> None:
    """A 4 KiB ELF header followed by a sparse hole up to ``size`` bytes."""
    path = case / arg.get("file", "lib.so")
    path.write_bytes(b"\x7fELF" + bytes(4092))
    with path.open("ab") as fh:
        fh.truncate(int(arg["size"]))


def _tar_header(name: str, size: int, typeflag: bytes, *, base256: bool = False) -> bytes:
    h = bytearray(512)
    raw = name.encode()[:100]
    h[0 : len(raw)] = raw
    for start, width, value in ((100, 8, 0o644), (108, 8, 0), (116, 8, 0), (136, 12, 0)):
        h[start : start + width] = oct(value)[2:].rjust(width - 1, "0").encode() + b"\0"
    if base256:
        h[124:136] = b"\x80" + size.to_bytes(11, "big")
    else:
        h[124:136] = oct(size)[2:].rjust(11, "0").encode() + b"\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = oct(sum(h))[2:].rjust(6, "0").encode() + b"\0 "
    return bytes(h)


def tar_sparse_member(case: Path, arg: dict[str, Any]) -> None:
    """A tar whose one regular member (named ``../../devc.o``) declares ``size`` bytes, the file
    sparse to match."""
    size = int(arg["size"])
    path = case / arg.get("file", "lib.tar")
    path.write_bytes(_tar_header("../../devc.o", size, b"0", base256=True))
    with path.open("ab") as fh:
        fh.truncate(512 + size + 1024)


def tar_pax_flood(case: Path, arg: dict[str, Any]) -> None:
    """``count`` pax headers of ``record`` bytes each before one small member."""
    count, record = int(arg.get("count", 1100)), int(arg.get("record", 5000))
    body = b" comment=" + b"x" * (record - 20) + b"\n"
    total = len(body) + 1
    while len(str(total)) + len(body) != total:  # the length counts its own digits
        total = len(str(total)) + len(body)
    line = str(total).encode() + body
    payload = line + b"\0" * (-len(line) % 512)
    out = bytearray()
    for _ in range(count):
        out += _tar_header("PaxHeader", len(line), b"x") + payload
        out += _tar_header("lib0.o", 0, b"0")
    out += bytes(1024)
    (case / arg.get("file", "lib.tar")).write_bytes(bytes(out))


def nested_markers(case: Path, arg: dict[str, Any]) -> None:
    """A library whose bytes hold ``count`` nested metadata markers, the innermost followed by
    a dense JSON array filling ``size`` bytes."""
    count, size = int(arg.get("count", 16)), int(arg.get("size", 16 * 1024 * 1024))
    head = b'{"model_type":' * count
    filler = b"[" + b"{}," * ((size - len(head)) // 3) + b"{}]"
    (case / arg.get("file", "lib.so")).write_bytes(b"\x7fELF" + head + filler + b"}" * count)


def repeat(case: Path, arg: dict[str, Any]) -> None:
    """``head + item × count + tail`` into ``file`` (text)."""
    text = arg.get("head", "") + arg["item"] * int(arg["count"]) + arg.get("tail", "")
    (case / arg["file"]).write_text(text, encoding="utf-8")


def safetensors_flood(case: Path, arg: dict[str, Any]) -> None:
    """A safetensors file whose header lists ``count`` zero-element tensors."""
    count = int(arg.get("count", 400_000))
    entries = ",".join(
        f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(count)
    )
    raw = ("{" + entries + "}").encode()
    (case / arg.get("file", "model.safetensors")).write_bytes(struct.pack("<Q", len(raw)) + raw)


def mlc_library(case: Path, arg: dict[str, Any]) -> None:
    """A real ``lib.so`` for the MLC model in ``case`` (metadata from its chat config)."""
    chat = json.loads((case / "mlc-chat-config.json").read_text())
    tensors = mlc_factory.tensors_for(mlc_factory.TINY_LLAMA, chat["quantization"])
    meta = mlc_factory.lib_metadata(chat, tensors, memory_usage={"prefill": 1234, "decode": 56})
    (case / arg.get("file", "lib.so")).write_bytes(
        mlc_factory.elf_object(mlc_factory.metadata_blob(meta))
    )


def unix_socket(case: Path, arg: dict[str, Any]) -> None:
    """A listening-less bound unix socket at ``file``."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(case / arg["file"]))
    sock.close()


def char_device(case: Path, arg: dict[str, Any]) -> None:
    """A private copy of /dev/null (needs root; the case is skipped otherwise)."""
    import stat

    os.mknod(case / arg["file"], stat.S_IFCHR | 0o666, os.makedev(1, 3))


def tar_library(case: Path, arg: dict[str, Any]) -> None:
    """A valid ``.tar`` library whose members use pax headers (real exporters do)."""
    chat = json.loads((case / "mlc-chat-config.json").read_text())
    tensors = mlc_factory.tensors_for(mlc_factory.TINY_LLAMA, chat["quantization"])
    meta = mlc_factory.lib_metadata(chat, tensors, memory_usage={"prefill": 1234})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as archive:
        data = mlc_factory.elf_object(mlc_factory.metadata_blob(meta))
        info = tarfile.TarInfo("d" * 120 + "/devc.o")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    (case / arg.get("file", "lib.tar")).write_bytes(buf.getvalue())


def runconfig_devices(case: Path, arg: dict[str, Any]) -> None:
    """A planner.yaml whose one job lists ``count`` devices (all ``device``, or distinct)."""
    count = int(arg["count"])
    if arg.get("distinct"):
        names = [f"phone-{i}" for i in range(count)]
    else:
        names = [arg.get("device", "pixel-8-pro")] * count
    text = (
        "version: 1\njobs:\n  - model: .\n    quantization: q4f16_1\n    context: 4096\n"
        f"    devices: [{', '.join(names)}]\n"
    )
    (case / arg.get("file", "planner.yaml")).write_text(text, encoding="utf-8")


def runconfig_matrix(case: Path, arg: dict[str, Any]) -> None:
    """``jobs`` jobs (distinct models) inheriting ``devices`` distinct devices from defaults."""
    devices = ", ".join(f"phone-{i}" for i in range(int(arg["devices"])))
    jobs = "".join(f"  - model: m{i}\n" for i in range(int(arg["jobs"])))
    text = f"version: 1\ndefaults:\n  devices: [{devices}]\njobs:\n{jobs}"
    (case / arg.get("file", "planner.yaml")).write_text(text, encoding="utf-8")


RECIPES: dict[str, Callable[[Path, dict[str, Any]], None]] = {
    "onnx_dims_then_zero": onnx_dims_then_zero,
    "onnx_empty_int64_max": onnx_empty_int64_max,
    "onnx_sparse_raw_data": onnx_sparse_raw_data,
    "onnx_empty_nodes": onnx_empty_nodes,
    "onnx_nested_subgraphs": onnx_nested_subgraphs,
    "onnx_rank": onnx_rank,
    "hub_cache": hub_cache,
    "sparse_library": sparse_library,
    "tar_sparse_member": tar_sparse_member,
    "tar_pax_flood": tar_pax_flood,
    "nested_markers": nested_markers,
    "repeat": repeat,
    "safetensors_flood": safetensors_flood,
    "mlc_library": mlc_library,
    "unix_socket": unix_socket,
    "char_device": char_device,
    "tar_library": tar_library,
    "runconfig_devices": runconfig_devices,
    "runconfig_matrix": runconfig_matrix,
}
