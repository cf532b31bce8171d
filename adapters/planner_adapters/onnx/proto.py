"""A read-only subset of the ONNX protobuf schema, built at import time (no ``onnx`` import).

Only the fields planner reads are declared, with the field numbers and types of the public
ONNX specification (onnx/onnx.proto, IR version 10). Importing the ``onnx`` package costs
~0.3 s (it pulls in numpy); this keeps ``planner inspect`` as cheap as
``onnx.load(path, load_external_data=False)`` itself.

The same table drives ``PROJECTION``, the rules ``planner.io.protobuf`` projects a model file
with before it is parsed: undeclared fields (weight payloads in ``float_data`` & co., docs,
training info) are dropped, and ``TensorProto.raw_data`` is replaced by its length in the
private field ``raw_data_length`` (``RAW_DATA_LENGTH``), so no weight byte is ever copied.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from planner.io.protobuf import Rule

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "planner_onnx_subset"

# (message, [(field name, number, type, label, message type name or None, oneof index)])
_OPT, _REP = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED
_I64, _I32, _F32, _STR, _BYTES, _MSG = (
    _F.TYPE_INT64,
    _F.TYPE_INT32,
    _F.TYPE_FLOAT,
    _F.TYPE_STRING,
    _F.TYPE_BYTES,
    _F.TYPE_MESSAGE,
)
_MESSAGES: list[tuple[str, list[tuple[str, int, int, int, str | None, int | None]]]] = [
    (
        "StringStringEntryProto",
        [("key", 1, _STR, _OPT, None, None), ("value", 2, _STR, _OPT, None, None)],
    ),
    (
        "OperatorSetIdProto",
        [("domain", 1, _STR, _OPT, None, None), ("version", 2, _I64, _OPT, None, None)],
    ),
    (
        "TensorProto",
        [
            ("dims", 1, _I64, _REP, None, None),
            ("data_type", 2, _I32, _OPT, None, None),
            ("name", 8, _STR, _OPT, None, None),
            ("raw_data", 9, _BYTES, _OPT, None, None),
            ("raw_data_length", 536_870_000, _I64, _OPT, None, None),
            ("external_data", 13, _MSG, _REP, "StringStringEntryProto", None),
            ("data_location", 14, _I32, _OPT, None, None),
        ],
    ),
    ("Dimension", [("dim_value", 1, _I64, _OPT, None, 0), ("dim_param", 2, _STR, _OPT, None, 0)]),
    ("TensorShapeProto", [("dim", 1, _MSG, _REP, "Dimension", None)]),
    (
        "TensorTypeProto",
        [
            ("elem_type", 1, _I32, _OPT, None, None),
            ("shape", 2, _MSG, _OPT, "TensorShapeProto", None),
        ],
    ),
    ("TypeProto", [("tensor_type", 1, _MSG, _OPT, "TensorTypeProto", 0)]),
    (
        "ValueInfoProto",
        [("name", 1, _STR, _OPT, None, None), ("type", 2, _MSG, _OPT, "TypeProto", None)],
    ),
    (
        "AttributeProto",
        [
            ("name", 1, _STR, _OPT, None, None),
            ("f", 2, _F32, _OPT, None, None),
            ("i", 3, _I64, _OPT, None, None),
            ("s", 4, _BYTES, _OPT, None, None),
            ("t", 5, _MSG, _OPT, "TensorProto", None),
            ("g", 6, _MSG, _OPT, "GraphProto", None),
            ("floats", 7, _F32, _REP, None, None),
            ("ints", 8, _I64, _REP, None, None),
            ("strings", 9, _BYTES, _REP, None, None),
            ("graphs", 11, _MSG, _REP, "GraphProto", None),
            ("type", 20, _I32, _OPT, None, None),
        ],
    ),
    (
        "NodeProto",
        [
            ("input", 1, _STR, _REP, None, None),
            ("output", 2, _STR, _REP, None, None),
            ("name", 3, _STR, _OPT, None, None),
            ("op_type", 4, _STR, _OPT, None, None),
            ("attribute", 5, _MSG, _REP, "AttributeProto", None),
            ("domain", 7, _STR, _OPT, None, None),
        ],
    ),
    (
        "GraphProto",
        [
            ("node", 1, _MSG, _REP, "NodeProto", None),
            ("name", 2, _STR, _OPT, None, None),
            ("initializer", 5, _MSG, _REP, "TensorProto", None),
            ("input", 11, _MSG, _REP, "ValueInfoProto", None),
            ("output", 12, _MSG, _REP, "ValueInfoProto", None),
            ("value_info", 13, _MSG, _REP, "ValueInfoProto", None),
        ],
    ),
    (
        "ModelProto",
        [
            ("ir_version", 1, _I64, _OPT, None, None),
            ("producer_name", 2, _STR, _OPT, None, None),
            ("producer_version", 3, _STR, _OPT, None, None),
            ("graph", 7, _MSG, _OPT, "GraphProto", None),
            ("opset_import", 8, _MSG, _REP, "OperatorSetIdProto", None),
        ],
    ),
]
_ONEOFS = {"Dimension": "value", "TypeProto": "value"}
RAW_DATA_LENGTH = 536_870_000
"""Field number (near protobuf's maximum, never used by ONNX) of the projected payload length."""


def _projection() -> dict[str, dict[int, Rule]]:
    rules: dict[str, dict[int, Rule]] = {}
    for msg_name, fields in _MESSAGES:
        table = rules[msg_name] = {}
        for name, number, ftype, label, type_name, _ in fields:
            if msg_name == "TensorProto" and name == "raw_data":
                table[number] = Rule(length_as=RAW_DATA_LENGTH)
            elif type_name is not None:
                table[number] = Rule(message=type_name)
            elif label == _REP and ftype in (_I64, _F32):
                table[number] = Rule(packed_width=8)  # packed varints: up to 8 bytes per byte
            else:
                table[number] = Rule()
    return rules


def _build() -> Any:
    fd = descriptor_pb2.FileDescriptorProto(
        name=f"{_PACKAGE}.proto", package=_PACKAGE, syntax="proto2"
    )
    for msg_name, fields in _MESSAGES:
        msg = fd.message_type.add(name=msg_name)
        if msg_name in _ONEOFS:
            msg.oneof_decl.add(name=_ONEOFS[msg_name])
        for name, number, ftype, label, type_name, oneof in fields:
            f = msg.field.add(name=name, number=number, type=ftype, label=label)
            if type_name is not None:
                f.type_name = f".{_PACKAGE}.{type_name}"
            if oneof is not None:
                f.oneof_index = oneof
    pool = descriptor_pool.DescriptorPool()  # private pool: never clashes with onnx's own
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.ModelProto"))


ModelProto: Any = _build()
"""Parses an ONNX model file's bytes (``ModelProto().ParseFromString(data)``)."""
PROJECTION = _projection()
"""``planner.io.protobuf`` rules for a model file (root message ``ModelProto``)."""
