"""``planner.io``: the one reader of untrusted files, and ``planner.text``'s sanitiser.

Each defence is tested on its own here; ``tests/bad_inputs`` runs the same classes of input
through the real command line.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import struct
import tarfile
import threading
from pathlib import Path

import pytest

from planner.errors import (
    ArtifactFormatError,
    ConfigFileError,
    InputError,
    PlannerError,
    ProfileError,
    UnsafeArtifactError,
)
from planner.io import (
    MAX_DIM,
    Budget,
    ModelFolder,
    checked_dims,
    json_object_end,
    load_yaml,
    open_regular,
    parse_json_bytes,
    project_file,
    read_text,
    resolve_inside,
    scan_tar,
    write_atomic,
)
from planner.io.atomic import TEMP_PREFIX
from planner.io.jsonio import json_budget, measure
from planner.text import one_line, sanitize, sanitize_fields, xml_text
from planner_adapters.onnx.proto import PROJECTION, ModelProto

# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("llama", "llama"),
        ("a\x1b]0;t\x07b", "a\\x1b]0;t\\x07b"),
        ("line\nbreak", "line\\x0abreak"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("\ud800x", "\\ud800x"),
        ("c1\x9bcsi", "c1\\x9bcsi"),
        ("ünïcödé ✓", "ünïcödé ✓"),
    ],
)
def test_sanitize_makes_controls_visible(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown
    sanitize(raw).encode("utf-8")  # always encodable


def test_sanitize_keeps_what_it_is_told_and_cuts() -> None:
    assert xml_text("a\tb\nc\x00d") == "a\tb\nc\\x00d"
    assert sanitize("x" * 10, limit=5) == "xxxx…"
    assert one_line("two\n  lines\x1b") == "two lines\\x1b"


def test_sanitize_fields_rebuilds_only_what_changed() -> None:
    from planner.spec import FieldSource, Origin

    clean = FieldSource("name", Origin.ARTIFACT, "ok")
    assert sanitize_fields(clean) is clean
    dirty = FieldSource("name", Origin.ARTIFACT, "bad\x1b")
    fixed = sanitize_fields(dirty)
    assert fixed.detail == "bad\\x1b" and fixed.origin is Origin.ARTIFACT
    assert sanitize_fields(("a", ("b\n",))) == ("a", ("b\\x0a",))


def test_error_lines_stay_one_line_and_escaped() -> None:
    err = InputError("bad name 'x\ny\x1b[2J'", path="dir\nname/\x1bfile")
    line = err.one_line()
    assert "\n" not in line and "\x1b" not in line
    assert line == "dir\\x0aname/\\x1bfile: bad name 'x y\\x1b[2J'"


# --------------------------------------------------------------------------- limits


def test_checked_dims_bounds_before_multiplying() -> None:
    assert checked_dims([2, 3, 4], "f", "t") == 24
    assert checked_dims([], "f", "t") == 1
    assert checked_dims([5, 0, MAX_DIM], "f", "t") == 0
    with pytest.raises(ArtifactFormatError, match="absurd dimension"):
        checked_dims([0, 2**63 - 1], "f", "t")
    with pytest.raises(ArtifactFormatError, match="65 dimensions"):
        checked_dims([1] * 65, "f", "t")
    with pytest.raises(ArtifactFormatError, match="invalid dimension -1"):
        checked_dims([4, -1], "f", "t")
    with pytest.raises(ArtifactFormatError, match="absurd element count"):
        checked_dims([MAX_DIM, MAX_DIM], "f", "t")
    with pytest.raises(ArtifactFormatError, match="invalid dimension True"):
        checked_dims([True], "f", "t")


def test_budget_refuses_past_each_limit() -> None:
    budget = Budget("scan", "f", max_bytes=10, max_items=2, seconds=60)
    budget.spend(10, 2)
    with pytest.raises(UnsafeArtifactError, match="over 10 bytes"):
        budget.spend(1)
    with pytest.raises(UnsafeArtifactError, match="more than 2 items"):
        Budget("scan", "f", 10, 2, 60).spend(0, 3)
    with pytest.raises(UnsafeArtifactError, match="took over 0 s"):
        Budget("scan", "f", 10, 2, 0).spend()


# --------------------------------------------------------------------------- files


def test_open_regular_refuses_special_files(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeArtifactError, match="is a FIFO, not a regular file"):
        open_regular(fifo, "config")
    with pytest.raises(UnsafeArtifactError, match="is a directory"):
        open_regular(tmp_path, "config")
    with pytest.raises(InputError, match="config not found"):
        open_regular(tmp_path / "missing", "config")


def test_read_text_messages_name_the_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(10_000)
    with pytest.raises(ConfigFileError, match="config file is larger than 100 bytes"):
        read_text(big, 100, "config file", ConfigFileError)
    with pytest.raises(ProfileError, match="profile is a directory"):
        read_text(tmp_path, 100, "profile", ProfileError)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"id: \xff")
    with pytest.raises(ProfileError, match=r"not UTF-8 text \(byte 4\)"):
        read_text(bad, 100, "profile", ProfileError)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfid: x")
    assert read_text(bom, 100, "profile", ProfileError, bom=True) == "id: x"


# --------------------------------------------------------------------------- containment


def _hub(tmp_path: Path, sub: str = "") -> tuple[Path, Path]:
    repo = tmp_path / "models--org--name"
    blobs = repo / "blobs"
    snap = repo / "snapshots" / "abc" / sub
    blobs.mkdir(parents=True)
    snap.mkdir(parents=True)
    (blobs / "h1").write_text("{}")
    up = "../" * (2 + len(Path(sub).parts)) if sub else "../../"
    (snap / "config.json").symlink_to(f"{up}blobs/h1")
    return repo, snap


@pytest.mark.parametrize("sub", ["", "cpu-int4", "a/b"])
def test_hub_cache_links_into_blobs_are_accepted(tmp_path: Path, sub: str) -> None:
    _, snap = _hub(tmp_path, sub)
    assert ModelFolder.of(snap).resolve("config.json", "file").read_text() == "{}"


def test_hub_cache_links_elsewhere_are_refused(tmp_path: Path) -> None:
    repo, snap = _hub(tmp_path)
    (repo / "other.json").write_text("{}")  # in the repository, but not a blob
    (snap / "a.json").symlink_to("../../other.json")
    other = tmp_path / "models--x--y" / "blobs"
    other.mkdir(parents=True)
    (other / "h").write_text("{}")
    (snap / "b.json").symlink_to("../../../models--x--y/blobs/h")
    (repo / "blobs" / "sub").mkdir()
    (repo / "blobs" / "sub" / "deep").write_text("{}")
    (snap / "c.json").symlink_to("../../blobs/sub/deep")  # not directly in blobs/
    folder = ModelFolder.of(snap)
    for name in ("a.json", "b.json", "c.json"):
        with pytest.raises(UnsafeArtifactError, match="resolves outside the model folder"):
            folder.resolve(name, "file")


def test_a_plain_folder_is_its_own_root(tmp_path: Path) -> None:
    (tmp_path / "outside.json").write_text("{}")
    model = tmp_path / "model"
    model.mkdir()
    (model / "inner.json").write_text("{}")
    (model / "link.json").symlink_to("../outside.json")
    (model / "ok.json").symlink_to("inner.json")
    assert resolve_inside(model, "ok.json", "file") == model / "ok.json"
    with pytest.raises(UnsafeArtifactError, match="resolves outside"):
        resolve_inside(model, "link.json", "file")
    for name, why in (("/etc/passwd", "absolute"), ("a/../../x", "'..'"), ("", "empty")):
        with pytest.raises(UnsafeArtifactError, match=why):
            resolve_inside(model, name, "file")


# --------------------------------------------------------------------------- JSON


def test_json_budget_is_proportional_to_the_file() -> None:
    real = json.dumps({"records": [{"name": f"w{i}", "shape": [64, 64]} for i in range(500)]})
    assert measure(real.encode()).memory(len(real)) < json_budget(len(real))
    parse_json_bytes(real.encode(), Path("t.json"))
    dense = b"[" + b"{}," * 2_000_000 + b"{}]"
    with pytest.raises(UnsafeArtifactError, match="parsing it would take about"):
        parse_json_bytes(dense, Path("t.json"))
    flat = b"[" + b"0," * 3_000_000 + b"0]"
    with pytest.raises(UnsafeArtifactError, match="over planner's budget"):
        parse_json_bytes(flat, Path("t.json"))


@pytest.mark.parametrize(
    "doc",
    [
        b"[" * 65 + b"]" * 65,
        b"[" * 5000 + b"]" * 5000,
        b'["' + b"]" * 80 + b'", ' + b"[" * 70 + b"]" * 70 + b"]",
    ],
)
def test_json_depth_limit_holds_with_brackets_in_strings(doc: bytes) -> None:
    with pytest.raises(ArtifactFormatError, match="nests deeper than 64 levels"):
        parse_json_bytes(doc, Path("t.json"))


def test_json_brackets_inside_strings_do_not_count() -> None:
    doc = b'{"template": "' + b"[" * 200 + b'", "x": [[1]]}'
    assert parse_json_bytes(doc, Path("t.json"))["x"] == [[1]]


def test_json_object_end() -> None:
    data = b'{"a": "}{", "b": [1, {"c": 2}]} trailing \x00\xff'
    end, tokens = json_object_end(data, 0, max_tokens=100)
    assert end == data.index(b" trailing") and tokens > 0
    assert json_object_end(b'{"a": [', 0, max_tokens=100)[0] is None
    assert json_object_end(b"[1]", 0, max_tokens=100)[0] is None
    assert json_object_end(b'{"a": ' + b"[" * 100, 0, max_tokens=1000)[0] is None
    assert json_object_end(b'{"a": [[[[]]]]}', 0, max_tokens=3)[0] is None


# --------------------------------------------------------------------------- YAML


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x 1\nb: *x\n", "aliases"),
        ("a: !!python/object/apply:os.system [ls]\n", "unsupported YAML tag"),
        ("a: !!binary aGk=\n", "unsupported YAML tag"),
        ("a: !custom x\n", "unsupported YAML tag"),
        ("a: 2024-01-01\n", "a date"),
        ("a: 1\na: 2\n", "duplicate key 'a'"),
        ("a: [" + "[" * 80 + "\n", "nested too deeply"),
        ("a: [" + "1, " * 60_000 + "1]\n", "more than 50000 values"),
        ("a: !!float x\n", "invalid YAML value"),
        ("? [1, 2]\n: x\n", "keys must be plain values"),
        ("a: [\n", "invalid YAML"),
    ],
)
def test_strict_yaml_refuses(text: str, message: str) -> None:
    with pytest.raises(ConfigFileError, match=message) as err:
        load_yaml(text, "c.yaml", ConfigFileError)
    assert err.value.path == "c.yaml"


def test_strict_yaml_reads_core_values() -> None:
    doc = load_yaml("a: 1\nb: [x, 2.5, true, null]\nc: {d: 'e'}\n", "c.yaml", ConfigFileError)
    assert doc == {"a": 1, "b": ["x", 2.5, True, None], "c": {"d": "e"}}
    assert load_yaml("", "c.yaml", ConfigFileError) is None


# --------------------------------------------------------------------------- tar


def _tar(fmt: int, members: list[tuple[str, bytes]], pax: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            if pax:
                info.pax_headers = dict(pax)
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link")
        link.type = tarfile.SYMTYPE
        link.linkname = "x"
        archive.addfile(link)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_scan_tar_agrees_with_tarfile(tmp_path: Path, fmt: int) -> None:
    members = [("d" * 120 + "/long.o", b"\x01" * 700), ("devc.o", b"abc"), ("empty", b"")]
    if fmt == tarfile.USTAR_FORMAT:
        members[0] = ("d" * 90 + "/" + "e" * 50 + ".o", b"\x01" * 700)
    data = _tar(fmt, members, {"comment": "é" * 20} if fmt == tarfile.PAX_FORMAT else None)
    path = tmp_path / "lib.tar"
    path.write_bytes(data)
    with path.open("rb") as fh:
        found = scan_tar(fh, len(data), path)
    with tarfile.open(path) as archive:
        expected = [(m.name, m.isfile(), m.offset_data, m.size) for m in archive]
    assert [(m.name, m.regular, m.offset, m.size) for m in found] == expected


def test_scan_tar_caps_extended_headers(tmp_path: Path) -> None:
    from tests.bad_input_recipes import tar_pax_flood

    tar_pax_flood(tmp_path, {"file": "lib.tar", "count": 1100, "record": 5000})
    path = tmp_path / "lib.tar"
    with path.open("rb") as fh, pytest.raises(UnsafeArtifactError, match="over 4194304 bytes"):
        scan_tar(fh, path.stat().st_size, path)


def test_scan_tar_refuses_non_tar(tmp_path: Path) -> None:
    path = tmp_path / "x.tar"
    path.write_bytes(b"not a tar" * 100)
    with path.open("rb") as fh, pytest.raises(ArtifactFormatError, match="not a readable tar"):
        scan_tar(fh, path.stat().st_size, path)


# --------------------------------------------------------------------------- protobuf


def test_projection_parses_to_the_same_graph(tmp_path: Path) -> None:
    from tests.onnx_factory import ModelConfig, OptimumOptions, build_optimum

    folder = tmp_path / "m"
    build_optimum(folder, ModelConfig(), OptimumOptions(merged=True))  # weights inside
    path = folder / "model.onnx"
    raw = path.read_bytes()
    whole = ModelProto()
    whole.ParseFromString(raw)
    data, size = project_file(path, PROJECTION, "ModelProto", "ONNX model")
    assert size == len(raw) and len(data) < len(raw)
    projected = ModelProto()
    projected.ParseFromString(data)
    assert [n.op_type for n in projected.graph.node] == [n.op_type for n in whole.graph.node]
    for a, b in zip(projected.graph.initializer, whole.graph.initializer, strict=True):
        assert (a.name, list(a.dims), a.data_type) == (b.name, list(b.dims), b.data_type)
        assert not a.HasField("raw_data") or len(a.raw_data) <= 1024
        assert (a.raw_data_length if a.HasField("raw_data_length") else len(a.raw_data)) == len(
            b.raw_data
        )


def test_projection_refuses_floods_and_garbage(tmp_path: Path) -> None:
    from tests.bad_input_recipes import onnx_empty_nodes, onnx_nested_subgraphs

    onnx_empty_nodes(tmp_path, {"count": 3_000_000, "file": "flood.onnx"})
    with pytest.raises(UnsafeArtifactError, match="parsing it would take over"):
        project_file(tmp_path / "flood.onnx", PROJECTION, "ModelProto", "ONNX model")
    onnx_nested_subgraphs(tmp_path, {"depth": 80, "file": "deep.onnx"})
    with pytest.raises(ArtifactFormatError, match="nest deeper than 64"):
        project_file(tmp_path / "deep.onnx", PROJECTION, "ModelProto", "ONNX model")
    (tmp_path / "bad.onnx").write_bytes(b"\x0b\x0c")
    with pytest.raises(ArtifactFormatError, match="does not parse"):
        project_file(tmp_path / "bad.onnx", PROJECTION, "ModelProto", "ONNX model")


# --------------------------------------------------------------------------- output


def test_output_temporary_name_fits_any_valid_name(tmp_path: Path) -> None:
    target = tmp_path / ("r" * 250)
    write_atomic(target, "report")
    assert target.read_text() == "report"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_output_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("old")
    (tmp_path / "real.txt").chmod(0o640)
    (tmp_path / "link.txt").symlink_to("real.txt")
    write_atomic(tmp_path / "link.txt", "new")
    assert (tmp_path / "link.txt").is_symlink()
    assert (tmp_path / "real.txt").read_text() == "new"
    assert stat.S_IMODE((tmp_path / "real.txt").stat().st_mode) == 0o640


def test_output_into_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO that no process is reading"):
        write_atomic(fifo, "x")
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    for _ in range(200):  # until the reader has opened its end
        try:
            write_atomic(fifo, "report\n" * 20_000)
            break
        except InputError:
            threading.Event().wait(0.01)
    reader.join(10)
    assert got == [b"report\n" * 20_000]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_output_refuses_sockets_dangling_links_and_loops(tmp_path: Path) -> None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(tmp_path / "s"))
    sock.close()
    (tmp_path / "dangling").symlink_to("nowhere/x")
    (tmp_path / "loop").symlink_to("loop")
    for name, why in (("s", "socket"), ("dangling", "symlink to nothing"), ("loop", "loop")):
        with pytest.raises(InputError, match=why):
            write_atomic(tmp_path / name, "x")
    assert stat.S_ISSOCK((tmp_path / "s").lstat().st_mode)
    assert (tmp_path / "dangling").is_symlink() and not (tmp_path / "nowhere").exists()


def test_output_to_a_character_device_is_never_replaced(tmp_path: Path) -> None:
    dev = tmp_path / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device needs root")
    write_atomic(dev, "report")
    assert stat.S_ISCHR(dev.lstat().st_mode)


def test_output_to_a_descriptor_path(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    write_atomic(Path("/dev/stdout"), "to stdout\n")
    write_atomic(Path("/proc/self/fd/2"), "to stderr\n")
    out, err = capfd.readouterr()
    assert "to stdout" in out and "to stderr" in err


def test_planner_errors_from_io_are_planner_errors() -> None:
    assert issubclass(UnsafeArtifactError, PlannerError)
    assert struct.calcsize("<Q") == 8
