"""Input mutators for the adapter fuzzer (deterministic: every choice comes from one ``Random``).

Byte-level operators work on any file (bit flips, interesting integers written over length
fields, truncation, splices, chunk deletion and duplication); structured operators parse a
seed (JSON, YAML, ONNX protobuf, safetensors header, MLC library metadata), change one value
or one shape of the tree, and serialise it again, so the mutants get past the first parser and
reach the checks behind it.
"""

from __future__ import annotations

import copy
import json
import random
import struct
from collections.abc import Callable
from typing import Any

import yaml

INTERESTING_INTS: tuple[int, ...] = (
    0,
    1,
    -1,
    2,
    7,
    8,
    15,
    16,
    17,
    31,
    32,
    127,
    128,
    255,
    256,
    1023,
    1024,
    4096,
    65535,
    65536,
    2**31 - 1,
    2**31,
    -(2**31),
    2**32 - 1,
    2**32,
    2**40,
    2**40 + 1,
    2**50,
    2**53 + 1,
    2**62,
    2**63 - 1,
    2**63,
    -(2**63),
    2**64 - 1,
    2**64,
    10**30,
    -(10**30),
)
INTERESTING_FLOATS: tuple[float, ...] = (
    0.0,
    -0.0,
    0.5,
    1.5,
    -1.0,
    1e-320,
    5e-324,
    1e308,
    -1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    4096.0,
    2.0**63,
)
HOSTILE_NAMES: tuple[str, ...] = (
    "../outside.bin",
    "../../outside.bin",
    "/etc/passwd",
    "/dev/zero",
    "sub/../../outside.bin",
    "..",
    ".",
    "",
    "\x00",
    "a\x00b",
    "C:\\evil",
    "\\\\server\\share",
    "outside_link",
    "loop_link",
    "fifo",
    "subdir",
    "model.onnx",
    "nonexistent.bin",
    "x" * 300,
    "%d",
    "%d%d",
    "past_key_values.%d.key",
    "../%d",
    "ü" * 10,
    "\udcff",
    "\ud800",
    "a/" * 3000,
)
LONG_DIGITS = "9" * 5000
CONTROL_TEXTS: tuple[str, ...] = (
    "llama\x1b]0;owned\x07",
    "a\nb",
    "\x1b[2J\x1b[H",
    "bidi\u202eevil",
    "\ud800",
    "tab\tcr\r",
    "\x00nul",
    "\x9bcsi",
    "line\u2028sep",
)
"""Text that must never reach a terminal or a report raw (planner.text escapes it)."""


def _interesting_int(rng: random.Random) -> int:
    if rng.random() < 0.7:
        return rng.choice(INTERESTING_INTS)
    return rng.randint(-(2**16), 2**16)


# --------------------------------------------------------------------------- bytes


def _pack_int(rng: random.Random, value: int) -> bytes:
    width = rng.choice((1, 2, 4, 8))
    fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
    return struct.pack("<" + fmt, value % (1 << (8 * width)))


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def mutate_bytes(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """One to four byte-level mutations of ``data``."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(10)
        n = len(buf)
        if op == 0 and n:  # bit flips
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(n)
                buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:  # random bytes overwritten
            i = rng.randrange(n)
            for j in range(i, min(n, i + rng.randint(1, 16))):
                buf[j] = rng.randrange(256)
        elif op == 2 and n:  # interesting integer over a (possible) length field
            i = rng.randrange(n)
            packed = _pack_int(rng, _interesting_int(rng))
            buf[i : i + len(packed)] = packed
        elif op == 3 and n:  # protobuf-style varint replaced by a huge one
            i = rng.randrange(n)
            j = i
            while j < n and buf[j] & 0x80:
                j += 1
            buf[i : j + 1] = _varint(rng.choice(INTERESTING_INTS))
        elif op == 4:  # truncation
            del buf[rng.randint(0, n) :]
        elif op == 5 and n:  # delete a chunk
            i = rng.randrange(n)
            del buf[i : i + rng.randint(1, max(1, n // 8))]
        elif op == 6 and n:  # duplicate a chunk
            i = rng.randrange(n)
            chunk = buf[i : i + rng.randint(1, 256)]
            j = rng.randint(0, n)
            buf[j:j] = chunk * rng.randint(1, 4)
        elif op == 7 and donors:  # splice with another seed
            donor = rng.choice(donors)
            if donor:
                a = rng.randrange(len(donor))
                piece = donor[a : a + rng.randint(1, 4096)]
                j = rng.randint(0, n)
                buf[j : j + rng.randint(0, len(piece))] = piece
        elif op == 8:  # insert random bytes
            j = rng.randint(0, n)
            buf[j:j] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == 9 and n:  # set a byte to a boundary value
            buf[rng.randrange(n)] = rng.choice((0x00, 0x7F, 0x80, 0xFF, 0x22, 0x5C, 0x5B, 0x7B))
    return bytes(buf)


def random_bytes(rng: random.Random) -> bytes:
    """Pure random bytes (sometimes with a plausible prefix)."""
    size = rng.choice((0, 1, 7, 8, 9, 16, 64, 512, 4096, rng.randint(0, 20000)))
    body = rng.randbytes(size)
    prefix = rng.choice((b"", b"", b"{", b"\x08\x07", b"\x7fELF", b"\x00asm", b"ustar", b"---\n"))
    return prefix + body


# --------------------------------------------------------------------------- JSON trees


def _paths(value: Any, limit: int = 4000) -> list[tuple[Any, ...]]:
    """Paths to every node of a JSON tree (breadth first, bounded)."""
    out: list[tuple[Any, ...]] = [()]
    queue: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while queue and len(out) < limit:
        path, node = queue.pop(0)
        if isinstance(node, dict):
            for k, v in node.items():
                out.append((*path, k))
                queue.append(((*path, k), v))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.append((*path, i))
                queue.append(((*path, i), v))
    return out


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        value = value[p]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _dense(rng: random.Random) -> Any:
    """A flat or dense JSON value: many small items (memory blows up once parsed)."""
    count = rng.choice((1000, 50_000, 200_000))
    item = rng.choice((0, 1.5, "", [], {}, None))
    return [copy.copy(item) for _ in range(count)]


def _interesting_value(rng: random.Random, tree: Any) -> Any:
    kind = rng.randrange(12)
    if kind == 10:
        return rng.choice(CONTROL_TEXTS)
    if kind == 11:
        return _dense(rng) if rng.random() < 0.3 else rng.choice(CONTROL_TEXTS)
    if kind < 3:
        return _interesting_int(rng)
    if kind == 3:
        return rng.choice(INTERESTING_FLOATS)
    if kind == 4:
        return rng.choice(HOSTILE_NAMES)
    if kind == 5:
        return rng.choice((None, True, False, [], {}, "", "-1", "4096", "q4f16_1", "int4"))
    if kind == 6:  # deep nesting
        depth = rng.choice((10, 63, 64, 65, 200, 3000))
        return json.loads("[" * depth + "]" * depth) if depth < 500 else {"deep": depth}
    if kind == 7:  # a copy of another subtree
        paths = _paths(tree, 500)
        return copy.deepcopy(_get(tree, rng.choice(paths)))
    if kind == 8:
        return "A" * rng.choice((1, 100, 5000))
    return [_interesting_int(rng) for _ in range(rng.randint(0, 6))]


def mutate_tree(tree: Any, rng: random.Random) -> Any:
    """One to three structural mutations of a parsed JSON/YAML tree (returns a new tree)."""
    tree = copy.deepcopy(tree)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(tree)
        numbers = [p for p in paths if p and _is_number(_get(tree, p))]
        if numbers and rng.random() < 0.4:  # numbers are where sizes and counts live
            # Depth first, then a path at that depth: a lone top-level field is as likely to
            # be hit as one of a thousand tensor records.
            depth = rng.choice(sorted({len(p) for p in numbers}))
            path = rng.choice([p for p in numbers if len(p) == depth])
            parent = _get(tree, path[:-1])
            parent[path[-1]] = (
                rng.choice(INTERESTING_FLOATS) if rng.random() < 0.3 else _interesting_int(rng)
            )
            continue
        depth = rng.choice(sorted({len(p) for p in paths}))
        path = rng.choice([p for p in paths if len(p) == depth])
        op = rng.randrange(6)
        if not path:
            if op == 0:
                return _interesting_value(rng, tree)
            continue
        parent = _get(tree, path[:-1])
        key = path[-1]
        if op <= 2:  # replace
            parent[key] = _interesting_value(rng, tree)
        elif op == 3:  # delete
            del parent[key]
        elif op == 4:  # add a sibling
            if isinstance(parent, dict):
                parent[
                    rng.choice(
                        (
                            "name",
                            "shape",
                            "dtype",
                            "nbytes",
                            "byteOffset",
                            "dataPath",
                            "format",
                            "records",
                            "__metadata__",
                            "data_offsets",
                            "num_hidden_layers",
                            "sliding_window",
                            "layer_types",
                            "unknown_key",
                            str(rng.randrange(100)),
                        )
                    )
                ] = _interesting_value(rng, tree)
            else:
                parent.insert(rng.randint(0, len(parent)), _interesting_value(rng, tree))
        else:  # repeat a list (many records) or swap a number's sign
            node = parent[key]
            if isinstance(node, list) and node:
                parent[key] = node * rng.choice((2, 10, 200))
            elif isinstance(node, int) and not isinstance(node, bool):
                parent[key] = -node if rng.random() < 0.5 else node * rng.choice((2, 3, 1000))
            else:
                parent[key] = _interesting_value(rng, tree)
    return tree


def _json_text(tree: Any, rng: random.Random) -> bytes:
    text = json.dumps(tree, indent=rng.choice((None, 2)), allow_nan=True)
    if rng.random() < 0.1:  # numbers Python writes but strict JSON forbids, and huge literals
        token = rng.choice(("NaN", "Infinity", "-Infinity", LONG_DIGITS, "1e999", "-0"))
        spots = [i for i, c in enumerate(text) if c in ":,["]
        if spots:
            i = rng.choice(spots) + 1
            j = i
            while j < len(text) and text[j] not in ",]}":
                j += 1
            text = text[:i] + token + text[j:]
    return text.encode("utf-8", "surrogatepass")


def mutate_json(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """A JSON document, structurally mutated (falls back to bytes when it does not parse)."""
    try:
        tree = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng, donors)
    out = _json_text(mutate_tree(tree, rng), rng)
    if rng.random() < 0.15:
        out = mutate_bytes(out, rng, donors)
    return out


# --------------------------------------------------------------------------- YAML


def _alias_bomb(levels: int = 9) -> str:
    """A flow-style "billion laughs": 9 ** levels strings through nested aliases."""
    parts = ["&l0 [" + ", ".join(["lol"] * 9) + "]"]
    parts += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "[" + ", ".join(parts) + "]"


YAML_SNIPPETS: tuple[str, ...] = (
    _alias_bomb(),
    "&r [*r]",
    "!!python/object/apply:os.system ['echo pwned']",
    "!!python/name:os.system",
    "&a [*a]",
    "*undefined",
    "!!binary aGVsbG8=",
    "2001-13-45",
    LONG_DIGITS,
    "!!int abc",
    "!!float x",
    "!!timestamp 2001-99-99",
    "? [a, b]\n: 1",
    "\t",
    "\x00",
    "{{{{",
    "[" * 200,
    "- " * 200,
    "!!set {a, b}",
    "!!omap [a: 1]",
    ".nan",
    ".inf",
    "-.inf",
    "0x" + "f" * 40,
    "0o777",
    "1_000",
    "12 GiB",
    "-5 GiB",
    "1e400 GiB",
    "9" * 40 + " GB",
    "~",
    "null",
    "yes",
    "\ufeff",
    "<<: *a",
    "%YAML 1.1\n---",
    "--- !!map\n",
    "!custom tag",
    "'unterminated",
    '"\\x',
    '"job \\e[31mred\\x07"',
    '"line\\nbreak"',
    "100000000000000000000000",
    "1.0e+23",
    "-4",
    "1000000000",
    "[" + ", ".join(["pixel-8-pro"] * 3000) + "]",
    "[" + ", ".join(f"phone-{i}" for i in range(2100)) + "]",
    "[" * 70 + "]" * 70,
    "[" + "1, " * 3000 + "1]",
    "&a x",
    "{a: 1, a: 2}",
)


def mutate_yaml(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """A YAML document: tree mutation, line edits, or hostile snippets."""
    text = data.decode("utf-8", "replace")
    op = rng.randrange(5)
    if op == 0:
        try:
            tree = yaml.safe_load(text)
        except yaml.YAMLError:
            tree = None
        if tree is not None:
            mutated = mutate_tree(tree, rng)
            try:
                return yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False).encode(
                    "utf-8", "surrogatepass"
                )
            except (yaml.YAMLError, ValueError):
                pass
    lines = text.splitlines()
    if op in (0, 1) and lines:  # replace a value with a snippet
        i = rng.randrange(len(lines))
        line = lines[i]
        if ":" in line:
            head = line.split(":", 1)[0]
            lines[i] = f"{head}: {rng.choice(YAML_SNIPPETS)}"
        else:
            lines[i] = line + " " + rng.choice(YAML_SNIPPETS)
    elif op == 2 and lines:  # delete, duplicate or swap lines
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        choice = rng.randrange(3)
        if choice == 0:
            del lines[i]
        elif choice == 1:
            lines.insert(j, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
    elif op == 3 and lines:  # indentation changes
        i = rng.randrange(len(lines))
        lines[i] = rng.choice(("", " ", "  ", "    ", "\t")) + lines[i].lstrip()
    else:
        return mutate_bytes(data, rng, donors)
    return "\n".join(lines).encode("utf-8", "surrogatepass")


# --------------------------------------------------------------------------- safetensors


def mutate_safetensors(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """Header-aware safetensors mutations: the JSON header, its length field, the data size."""
    if len(data) < 8:
        return mutate_bytes(data, rng, donors)
    (hlen,) = struct.unpack("<Q", data[:8])
    header, body = data[8 : 8 + hlen], data[8 + hlen :]
    op = rng.randrange(4)
    if op == 0:  # the length field
        value = rng.choice(
            (
                0,
                1,
                7,
                hlen - 1,
                hlen + 1,
                len(data),
                len(data) - 8,
                100 * 1024 * 1024,
                100 * 1024 * 1024 + 1,
                2**63,
                2**64 - 1,
            )
        )
        return struct.pack("<Q", value % 2**64) + data[8:]
    if op == 1:  # the header tree, with a consistent length
        new = mutate_json(header, rng, donors)
        pad = b" " * rng.choice((0, 0, 3))
        return struct.pack("<Q", len(new) + len(pad)) + new + pad + body
    if op == 2:  # the data buffer size
        cut = rng.randint(0, len(body))
        return data[: 8 + hlen] + body[:cut]
    return mutate_bytes(data, rng, donors)


# --------------------------------------------------------------------------- ONNX protobuf


def mutate_onnx(
    data: bytes, rng: random.Random, donors: list[bytes], parsed: Callable[[], Any]
) -> bytes:
    """ModelProto-aware mutations (dims, dtypes, external data, attributes, names, nesting),
    then sometimes byte-level noise on the serialised result."""
    from onnx import AttributeProto, ModelProto, helper

    model = ModelProto()
    model.CopyFrom(parsed())
    g = model.graph
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(16)
        if op == 0 and len(g.initializer):  # dims
            t = rng.choice(g.initializer)
            if len(t.dims) and rng.random() < 0.8:
                t.dims[rng.randrange(len(t.dims))] = max(
                    -(2**63), min(2**63 - 1, _interesting_int(rng))
                )
            else:
                t.dims.append(rng.choice((0, 1, 2**31, 2**62)))
        elif op == 1 and len(g.initializer):  # data type
            rng.choice(g.initializer).data_type = rng.randint(0, 30)
        elif op == 2 and len(g.initializer):  # external data entries
            t = rng.choice(g.initializer)
            t.data_location = rng.choice((0, 1, 1, 1, 7))
            key = rng.choice(("location", "offset", "length", "checksum", "location"))
            value = (
                rng.choice(HOSTILE_NAMES)
                if key == "location"
                else rng.choice(
                    (
                        "-1",
                        "0",
                        "1",
                        "18446744073709551615",
                        "99999999999999999999",
                        "1e3",
                        "",
                        " 12",
                        "١٢",
                        "4096",
                        str(rng.randrange(10**6)),
                    )
                )
            )
            entries = [e for e in t.external_data if e.key == key]
            if entries:
                entries[0].value = value
            else:
                e = t.external_data.add()
                e.key, e.value = key, value
        elif op == 3 and len(g.initializer):  # raw data length
            t = rng.choice(g.initializer)
            t.raw_data = t.raw_data[: rng.randint(0, len(t.raw_data))]
        elif op == 4 and len(g.node):  # attributes
            n = rng.choice(g.node)
            if len(n.attribute):
                a = rng.choice(n.attribute)
                choice = rng.randrange(3)
                if choice == 0:
                    a.i = max(-(2**63), min(2**63 - 1, _interesting_int(rng)))
                elif choice == 1:
                    a.type = rng.choice(
                        (
                            0,
                            AttributeProto.FLOAT,
                            AttributeProto.STRING,
                            AttributeProto.INTS,
                            AttributeProto.GRAPH,
                        )
                    )
                else:
                    a.f = rng.choice(INTERESTING_FLOATS)
            else:
                n.attribute.append(
                    helper.make_attribute(
                        rng.choice(
                            (
                                "num_heads",
                                "kv_num_heads",
                                "K",
                                "N",
                                "bits",
                                "block_size",
                                "local_window_size",
                                "transB",
                            )
                        ),
                        _interesting_int(rng) % 2**62,
                    )
                )
        elif op == 5 and len(g.node):  # op types
            rng.choice(g.node).op_type = rng.choice(
                (
                    "MatMulNBits",
                    "GroupQueryAttention",
                    "Attention",
                    "MatMul",
                    "Gemm",
                    "Gather",
                    "GatherBlockQuantized",
                    "If",
                    "Loop",
                    "DequantizeLinear",
                    "Transpose",
                    "Reshape",
                    "MatMulInteger",
                    "RotaryEmbedding",
                    "Cast",
                    "Identity",
                    "X",
                )
            )
        elif op == 6 and len(g.node):  # domains
            rng.choice(g.node).domain = rng.choice(("", "com.microsoft", "ai.onnx", "x"))
        elif op == 7 and len(g.node):  # wiring
            n = rng.choice(g.node)
            names = [*n.input, *n.output]
            target = rng.choice((n.input, n.output))
            new = rng.choice(
                (
                    *names,
                    "",
                    "logits",
                    "input_ids",
                    "cos_cache",
                    "past_key_values.0.key",
                    f"past_key_values.{LONG_DIGITS}.key",
                    f"/model/layers.{LONG_DIGITS}/attn/qkv_proj/MatMul",
                    "past_key_values.1099511627776.key",
                )
            )
            if len(target) and rng.random() < 0.7:
                target[rng.randrange(len(target))] = new
            else:
                target.append(new)
        elif op == 8 and len(g.node):  # node names (layer indices, roles)
            rng.choice(g.node).name = rng.choice(
                (
                    "",
                    f"/model/layers.{LONG_DIGITS}/mlp/down_proj/MatMul",
                    "/model/layers.99999999999/attn/q_proj/MatMul",
                    "/lm_head/MatMul",
                    "/model/layers.0/attn/k_proj/MatMul",
                    "embed_tokens",
                )
            )
        elif op == 9:  # graph input shapes and names
            if len(g.input):
                vi = rng.choice(g.input)
                if rng.random() < 0.3:
                    vi.name = rng.choice(
                        (
                            "past_key_values.0.key",
                            "past_0",
                            f"past_key_values.{LONG_DIGITS}.key",
                            "input_ids",
                        )
                    )
                elif vi.type.HasField("tensor_type"):
                    tt = vi.type.tensor_type
                    if rng.random() < 0.3:
                        tt.elem_type = rng.randint(0, 30)
                    elif len(tt.shape.dim):
                        d = tt.shape.dim[rng.randrange(len(tt.shape.dim))]
                        if rng.random() < 0.5:
                            d.dim_value = max(-(2**63), min(2**63 - 1, _interesting_int(rng)))
                        else:
                            d.dim_param = rng.choice(("kv_cache_dim", "", "x" * 1000))
        elif op == 10:  # delete things
            field = rng.choice((g.node, g.initializer, g.input, g.output))
            if len(field):
                del field[rng.randrange(len(field))]
        elif op == 12 and len(g.initializer):  # many huge dims, then a zero
            t = rng.choice(g.initializer)
            count = rng.choice((63, 64, 65, 1000, 20_000))
            del t.dims[:]
            t.dims.extend([2**62] * count + [0])
            t.ClearField("raw_data")
        elif op == 13 and len(g.initializer):  # an empty tensor with an INT64_MAX dim
            t = rng.choice(g.initializer)
            del t.dims[:]
            t.dims.extend(rng.choice(([0, 2**63 - 1], [2**63 - 1, 0], [0, 2**40 + 1])))
            t.ClearField("raw_data")
        elif op == 14:  # a flood of empty nodes
            for _ in range(rng.choice((1000, 20_000, 100_000))):
                g.node.add()
        elif op == 15:  # control characters in names read into the spec
            text = rng.choice(CONTROL_TEXTS)
            target = rng.randrange(3)
            if target == 0 and len(g.node):
                rng.choice(g.node).name = "/model/layers.0/attn/q_proj/" + text
            elif target == 1:
                model.producer_name = text
            elif len(g.input):
                rng.choice(g.input).name = "past_key_values.0.key" + text
        else:  # nest the graph in If nodes (subgraph walking)
            depth = rng.choice((1, 2, 10, 60))
            empty = helper.make_graph([], "empty", [], [])
            inner = helper.make_graph(list(g.node)[:3], "inner", [], [])
            for _ in range(depth):  # one branch nests, so the size grows linearly
                node = helper.make_node(
                    "If", ["cond"], ["out"], then_branch=inner, else_branch=empty
                )
                inner = helper.make_graph([node], "wrap", [], [])
            g.node.append(
                helper.make_node("If", ["cond"], ["o2"], then_branch=inner, else_branch=empty)
            )
    out: bytes = model.SerializeToString()
    if rng.random() < 0.2:
        out = mutate_bytes(out, rng, donors)
    return out


# --------------------------------------------------------------------------- tar


def _tar_block(name: bytes, size: int, typeflag: bytes, *, base256: bool = False) -> bytes:
    h = bytearray(512)
    h[0 : min(len(name), 100)] = name[:100]
    for start, width in ((100, 8), (108, 8), (116, 8), (136, 12)):
        h[start : start + width] = b"0" * (width - 1) + b"\0"
    if base256:
        h[124:136] = b"\x80" + (size % 2**88).to_bytes(11, "big")
    else:
        h[124:136] = oct(size % 8**11)[2:].rjust(11, "0").encode() + b"\0"
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = oct(sum(h))[2:].rjust(6, "0").encode() + b"\0 "
    return bytes(h)


def _pax(record_bytes: int, key: bytes = b"comment") -> bytes:
    body = b" " + key + b"=" + b"x" * max(record_bytes - len(key) - 12, 0) + b"\n"
    total = len(body) + 1
    while len(str(total)) + len(body) != total:
        total = len(str(total)) + len(body)
    return str(total).encode() + body


def mutate_tar(data: bytes, rng: random.Random, donors: list[bytes]) -> bytes:
    """Header-aware mutations of a tar archive: pax floods, GNU long names, huge or base-256
    sizes, sparse entries, broken checksums, member names with ``..`` and control bytes."""
    op = rng.randrange(7)
    if op == 0:  # a flood of pax headers in front
        record = _pax(rng.choice((100, 5000, 60_000)))
        block = _tar_block(b"PaxHeader", len(record), b"x") + record
        block += b"\0" * (-len(block) % 512)
        return block * rng.choice((1, 100, 1000)) + data
    if op == 1:  # one extended header claiming a huge payload
        kind = rng.choice((b"x", b"g", b"L", b"K"))
        size = rng.choice((1 << 20, (1 << 20) + 1, 1 << 30, 2**33, 2**62))
        return _tar_block(b"././@LongLink", size, kind, base256=size >= 8**11) + data
    if op == 2:  # a member whose size runs past the end (or is base-256 huge)
        size = rng.choice((len(data), len(data) * 2, 2**33, 2**62))
        name = rng.choice((b"../../devc.o", b"devc.o", b"/abs/devc.o", b"dev\x1b]0;c.o"))
        return _tar_block(name, size, b"0", base256=size >= 8**11) + data
    if op == 3:  # an old-style GNU sparse entry with extension blocks
        head = bytearray(_tar_block(b"sparse.o", 512, b"S"))
        head[482] = 1
        ext = bytearray(512)
        ext[504] = rng.choice((0, 1))
        return bytes(head) + bytes(ext) * rng.choice((1, 3)) + bytes(512) + data
    if op == 4:  # pax records that lie about path and size
        record = _pax(40, b"size").replace(b"x" * 28, b"9" * 28)
        record = rng.choice((record, _pax(60, b"path"), _pax(30, b"GNU.sparse.map"), b"99 x\n"))
        block = _tar_block(b"PaxHeader", len(record), b"x") + record
        return block + b"\0" * (-len(block) % 512) + data
    if op == 5 and len(data) >= 512:  # a broken checksum after the first header
        buf = bytearray(data)
        i = 512 * rng.randrange(max(1, len(data) // 512))
        buf[i + 148 : i + 156] = b"0000000\0"
        return bytes(buf)
    return mutate_bytes(data, rng, donors)
