"""Reading device profiles: the I/O boundary for ``device_profiles/*.yaml`` and user folders.

Profiles ship in the ``planner.device_profiles`` package; users add folders with
``--profiles DIR`` (or the config file). Files are untrusted input: each is size-limited, parsed
with PyYAML's safe loader into a node tree (never constructed into Python objects by tags, so
``!!python/object`` cannot run), and checked against a strict schema. Every error is a
``ProfileError`` naming the file and line. The schema is documented in
``device_profiles/README.md``.

Later layers (bundled, then each folder in order) may replace a profile of an earlier layer
only when they say ``overrides: true``; a family default claimed in a later layer replaces the
earlier claim.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from planner.device import (
    ANDROID_BACKGROUND_NOTE,
    GPU_APIS,
    MLC_DEVICES,
    OS_NAMES,
    DeviceProfile,
    GpuApi,
    OsName,
    Sourced,
    check_profile_names,
    name_key,
    normalize_name,
)
from planner.device_tiers import DEFAULT_DECODE_EFFICIENCY, apply_tier, soc_family, soc_family_names
from planner.errors import ProfileError
from planner.io.files import read_text
from planner.io.yamlio import StrictLoader as _StrictSafeLoader

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

T = TypeVar("T")

MAX_PROFILE_BYTES = 1024 * 1024
"""Largest profile file read (bundled profiles are a few KiB)."""
MAX_PROFILE_FILES = 1000
"""Most ``*.yaml`` files read from one folder."""
MAX_STRING_CHARS = 4000
MAX_NAME_CHARS = 64
MAX_SIZE_BYTES = 1 << 50
"""Sizes above 1 PiB are rejected as implausible (and keep arithmetic far from overflow)."""
SCHEMA_VERSION = 1
PROFILE_SUFFIXES = (".yaml", ".yml")

__all__ = ["DEFAULT_DECODE_EFFICIENCY"]  # used when neither profile nor SoC family gives one


_FAST_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL})
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$")
_SIZE_UNITS = {
    "B": 1,
    "kB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
}
_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)/s\s*$")


# --------------------------------------------------------------------------------------------
# YAML → located plain values


@dataclass(frozen=True, slots=True)
class _Loc:
    """A plain YAML value with the 1-based line it starts on."""

    value: object
    """str | int | float | bool | None | list[_Loc] | dict[str, _Entry]"""
    line: int


@dataclass(frozen=True, slots=True)
class _Entry:
    key_line: int
    value: _Loc


class _Ctx:
    """The file being read (for messages)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, line: int | None, message: str) -> ProfileError:
        where = f"line {line}: " if line is not None else ""
        return ProfileError(f"{where}{message}", path=self.path)


def _compose(text: str, ctx: _Ctx, *, trusted: bool = False) -> Node:
    # libyaml is ~10x faster but its composer recurses in C and crashes on deeply nested
    # input, so only the bundled (shipped) files use it; user files get the pure-Python
    # parser, whose recursion limit turns into a ProfileError below.
    loader_class = _FAST_LOADER if trusted else _StrictSafeLoader
    try:
        loader = loader_class(text)  # the reader already rejects control characters
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ctx.error(line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ctx.error(None, f"invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ctx.error(None, "invalid YAML: nested too deeply") from None
    if node is None:
        raise ctx.error(None, "empty profile")
    return node


def _plain(node: Node, ctx: _Ctx, seen: set[int], depth: int = 0) -> _Loc:
    """Convert a composed node to plain values, allowing only core YAML types.

    Tags are checked before any value is built, so no constructor beyond str/int/float/bool/null
    ever runs. A node met twice is an alias; aliases are refused (no "billion laughs").
    """
    line = node.start_mark.line + 1
    if id(node) in seen:
        raise ctx.error(line, "YAML anchors and aliases are not allowed in profiles")
    seen.add(id(node))
    if depth > 20:
        raise ctx.error(line, "nested too deeply")
    if isinstance(node, ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            raise ctx.error(line, f"unsupported YAML tag {node.tag!r}")
        try:
            value = SafeConstructor().construct_object(node)
        except (ValueError, TypeError, OverflowError):  # "!!float x", a 5000-digit integer
            raise ctx.error(
                line, f"invalid {node.tag.rsplit(':', 1)[-1]} value {str(node.value)[:40]!r}"
            ) from None
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
            raise ctx.error(line, f"string longer than {MAX_STRING_CHARS} characters")
        return _Loc(value, line)
    if isinstance(node, SequenceNode):
        if node.tag != _SEQ:
            raise ctx.error(line, f"unsupported YAML tag {node.tag!r}")
        return _Loc([_plain(item, ctx, seen, depth + 1) for item in node.value], line)
    if isinstance(node, MappingNode):
        if node.tag != _MAP:
            raise ctx.error(line, f"unsupported YAML tag {node.tag!r}")
        out: dict[str, _Entry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                raise ctx.error(key_line, "keys must be plain strings")
            key = str(key_node.value)
            if key in out:
                raise ctx.error(key_line, f"duplicate key {key!r}")
            out[key] = _Entry(key_line, _plain(value_node, ctx, seen, depth + 1))
        return _Loc(out, line)
    raise ctx.error(line, "unsupported YAML node")  # pragma: no cover - PyYAML has 3 kinds


# --------------------------------------------------------------------------------------------
# Typed getters


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _mapping(loc: _Loc, ctx: _Ctx, what: str) -> dict[str, _Entry]:
    if not isinstance(loc.value, dict):
        raise ctx.error(loc.line, f"{what} must be a mapping, not {_type_name(loc.value)}")
    return cast("dict[str, _Entry]", loc.value)


def _check_keys(
    entries: dict[str, _Entry],
    ctx: _Ctx,
    where: str,
    allowed: Sequence[str],
    required: Sequence[str],
    line: int,
) -> None:
    for key, entry in entries.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ctx.error(entry.key_line, f"unknown key {key!r} in {where}{hint}")
    for key in required:
        if key not in entries:
            raise ctx.error(line, f"{where} is missing required key {key!r}")


def _str(loc: _Loc, ctx: _Ctx, what: str, *, max_chars: int = MAX_STRING_CHARS) -> str:
    if not isinstance(loc.value, str):
        raise ctx.error(loc.line, f"{what} must be a string, not {_type_name(loc.value)}")
    text = loc.value.strip()
    if not text:
        raise ctx.error(loc.line, f"{what} must not be empty")
    if len(text) > max_chars:
        raise ctx.error(loc.line, f"{what} is longer than {max_chars} characters")
    return text


def _bool(loc: _Loc, ctx: _Ctx, what: str) -> bool:
    if not isinstance(loc.value, bool):
        raise ctx.error(loc.line, f"{what} must be true or false, not {_type_name(loc.value)}")
    return loc.value


def _int(loc: _Loc, ctx: _Ctx, what: str, lo: int, hi: int) -> int:
    if isinstance(loc.value, bool) or not isinstance(loc.value, int):
        raise ctx.error(loc.line, f"{what} must be an integer, not {_type_name(loc.value)}")
    if not lo <= loc.value <= hi:
        raise ctx.error(loc.line, f"{what} must be between {lo} and {hi}, got {loc.value}")
    return loc.value


def _str_list(loc: _Loc, ctx: _Ctx, what: str, *, max_chars: int = MAX_STRING_CHARS) -> list[str]:
    if isinstance(loc.value, str):
        return [_str(loc, ctx, what, max_chars=max_chars)]
    if not isinstance(loc.value, list):
        raise ctx.error(loc.line, f"{what} must be a list of strings, not {_type_name(loc.value)}")
    return [_str(item, ctx, f"{what} item", max_chars=max_chars) for item in loc.value]


def _name_list(loc: _Loc, ctx: _Ctx, what: str) -> tuple[str, ...]:
    items = cast("list[_Loc]", loc.value) if isinstance(loc.value, list) else [loc]
    names: list[str] = []
    for item in items:
        raw = _str(item, ctx, f"{what} item", max_chars=MAX_NAME_CHARS)
        name = normalize_name(raw)
        if not name:
            raise ctx.error(item.line, f"{what} item {raw!r} has no letters or digits")
        if name not in names:
            names.append(name)
    return tuple(names)


def _choice(loc: _Loc, ctx: _Ctx, what: str, choices: Sequence[str] | frozenset[str]) -> str:
    text = _str(loc, ctx, what)
    if text not in choices:
        listed = ", ".join(sorted(choices))
        raise ctx.error(loc.line, f"{what} must be one of {listed}; got {text!r}")
    return text


def _number_with_unit(
    loc: _Loc, ctx: _Ctx, what: str, pattern: re.Pattern[str], unit_word: str, example: str
) -> int:
    value = loc.value
    if isinstance(value, bool) or value is None or isinstance(value, (float, list, dict)):
        raise ctx.error(
            loc.line,
            f"{what} must be an integer number of {unit_word} or a string with a unit "
            f"like {example!r}, not {_type_name(value)}",
        )
    if isinstance(value, int):
        number = value
    else:
        text = str(value)
        match = pattern.match(text) if len(text) <= 40 else None
        if match is None:
            raise ctx.error(
                loc.line,
                f"{what} {text!r} is not a size; write a number and a unit like {example!r}"
                " (units: " + ", ".join(_SIZE_UNITS) + ")",
            )
        amount, unit = match.groups()
        if unit not in _SIZE_UNITS:
            raise ctx.error(
                loc.line,
                f"{what} has unit {unit!r}; use one of "
                + ", ".join(_SIZE_UNITS)
                + " (kB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024)",
            )
        number = round(float(amount) * _SIZE_UNITS[unit])
    if number <= 0:
        raise ctx.error(loc.line, f"{what} must be positive, got {value!r}")
    if number > MAX_SIZE_BYTES:
        raise ctx.error(loc.line, f"{what} {value!r} is implausibly large")
    return number


def _size(loc: _Loc, ctx: _Ctx, what: str) -> int:
    if isinstance(loc.value, str) and loc.value.strip().startswith("-"):
        raise ctx.error(loc.line, f"{what} must be positive, got {loc.value!r}")
    return _number_with_unit(loc, ctx, what, _SIZE_RE, "bytes", "12 GiB")


def _size_list(loc: _Loc, ctx: _Ctx, what: str) -> tuple[int, ...]:
    if not isinstance(loc.value, list) or not loc.value:
        raise ctx.error(loc.line, f"{what} must be a non-empty list of sizes")
    return tuple(_size(item, ctx, f"{what} item") for item in loc.value)


def _rate(loc: _Loc, ctx: _Ctx, what: str) -> int:
    if isinstance(loc.value, str) and loc.value.strip().startswith("-"):
        raise ctx.error(loc.line, f"{what} must be positive, got {loc.value!r}")
    return _number_with_unit(loc, ctx, what, _RATE_RE, "bytes per second", "51.2 GB/s")


def _fraction(loc: _Loc, ctx: _Ctx, what: str) -> float:
    value = loc.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ctx.error(loc.line, f"{what} must be a number, not {_type_name(value)}")
    number = float(value)
    if not math.isfinite(number) or not 0.0 < number <= 1.0:
        raise ctx.error(loc.line, f"{what} must be a fraction in (0, 1], got {value!r}")
    return number


_SOURCED_KEYS = ("value", "source", "estimate", "note")


def _sourced(loc: _Loc, ctx: _Ctx, what: str, parse: Callable[[_Loc, _Ctx, str], T]) -> Sourced[T]:
    if not isinstance(loc.value, dict):
        raise ctx.error(
            loc.line,
            f"{what} must be a mapping {{value: ..., source: ..., estimate: ...}} "
            f"(every number needs a source), not {_type_name(loc.value)}",
        )
    entries = cast("dict[str, _Entry]", loc.value)
    _check_keys(entries, ctx, what, _SOURCED_KEYS, ("value", "source"), loc.line)
    value = parse(entries["value"].value, ctx, f"{what}.value")
    source = _str(entries["source"].value, ctx, f"{what}.source")
    estimate = (
        _bool(entries["estimate"].value, ctx, f"{what}.estimate")
        if "estimate" in entries
        else False
    )
    note = _str(entries["note"].value, ctx, f"{what}.note") if "note" in entries else ""
    return Sourced(value=value, source=source, estimate=estimate, note=note)


# --------------------------------------------------------------------------------------------
# The profile schema

_PROFILE_KEYS = (
    "schema_version",
    "id",
    "name",
    "vendor",
    "os",
    "os_detail",
    "soc",
    "soc_family",
    "android_version",
    "year",
    "ram",
    "ram_variants",
    "memory_type",
    "mem_bandwidth",
    "gpu",
    "gpu_api",
    "npu",
    "mlc_device",
    "ios_app_limit",
    "ios_app_limit_entitled",
    "metal_working_set",
    "android_foreground_budget",
    "android_background_note",
    "mlc_engine_memory",
    "decode_efficiency",
    "aliases",
    "families",
    "default_for",
    "notes",
    "sources",
    "overrides",
)
_REQUIRED_KEYS = ("id", "name", "vendor", "os", "soc", "ram", "gpu", "gpu_api")


def parse_profile(text: str, source_path: str, *, bundled: bool = False) -> DeviceProfile:
    """Parse and validate one profile document (pure: no file access).

    ``bundled`` marks a file shipped with planner: it may use the libyaml parser and may not
    set ``overrides``. Raises ``ProfileError`` naming ``source_path`` and the line for any
    problem.
    """
    ctx = _Ctx(source_path)
    root = _plain(_compose(text, ctx, trusted=bundled), ctx, set())
    top = _mapping(root, ctx, "a profile")
    _check_keys(top, ctx, "profile", _PROFILE_KEYS, _REQUIRED_KEYS, root.line)

    def get(key: str) -> _Loc | None:
        entry = top.get(key)
        return entry.value if entry is not None else None

    def line_of(key: str) -> int:
        entry = top.get(key)
        return entry.key_line if entry is not None else root.line

    def opt_str(key: str) -> str | None:
        loc = get(key)
        return None if loc is None or loc.value is None else _str(loc, ctx, key)

    def opt_size(key: str) -> Sourced[int] | None:
        loc = get(key)
        return None if loc is None or loc.value is None else _sourced(loc, ctx, key, _size)

    def req(key: str) -> _Loc:
        loc = get(key)
        if loc is None:  # pragma: no cover - _check_keys(required) ran first
            raise ctx.error(root.line, f"profile is missing required key {key!r}")
        return loc

    version_loc = get("schema_version")
    if version_loc is not None:
        _int(version_loc, ctx, "schema_version", SCHEMA_VERSION, SCHEMA_VERSION)

    profile_id = _str(req("id"), ctx, "id", max_chars=MAX_NAME_CHARS)
    if not _ID_RE.match(profile_id):
        raise ctx.error(
            req("id").line,
            f"id {profile_id!r} must be lower-case letters and digits joined by single hyphens",
        )
    os_name = cast("OsName", _choice(req("os"), ctx, "os", OS_NAMES))
    gpu_api = cast("GpuApi", _choice(req("gpu_api"), ctx, "gpu_api", GPU_APIS))

    mlc_loc = get("mlc_device")
    mlc_device = (
        None
        if mlc_loc is None or mlc_loc.value is None
        else _choice(mlc_loc, ctx, "mlc_device", MLC_DEVICES)
    )

    year_loc = get("year")
    year = None if year_loc is None else _int(year_loc, ctx, "year", 1990, 2100)

    ram = _sourced(req("ram"), ctx, "ram", _size)
    variants_loc = get("ram_variants")
    variants = (
        None
        if variants_loc is None or variants_loc.value is None
        else _sourced(variants_loc, ctx, "ram_variants", _size_list)
    )
    if variants is not None and ram.value not in variants.value:
        raise ctx.error(line_of("ram_variants"), "ram_variants must include the profile's ram")

    bw_loc = get("mem_bandwidth")
    bandwidth = (
        None
        if bw_loc is None or bw_loc.value is None
        else _sourced(bw_loc, ctx, "mem_bandwidth", _rate)
    )

    eff_loc = get("decode_efficiency")
    efficiency = (
        DEFAULT_DECODE_EFFICIENCY
        if eff_loc is None
        else _sourced(eff_loc, ctx, "decode_efficiency", _fraction)
    )

    family_loc = get("soc_family")
    family_key = None
    if family_loc is not None and family_loc.value is not None:
        raw = _str(family_loc, ctx, "soc_family", max_chars=MAX_NAME_CHARS)
        found = soc_family(raw)
        if found is None:
            close = difflib.get_close_matches(normalize_name(raw), soc_family_names(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ctx.error(
                family_loc.line,
                f"unknown soc_family {raw!r}{hint} (the families are listed in docs/devices.md)",
            )
        family_key = found.key

    version_loc_android = get("android_version")
    android_version = (
        None
        if version_loc_android is None or version_loc_android.value is None
        else _int(version_loc_android, ctx, "android_version", 4, 99)
    )
    if android_version is not None and os_name != "android":
        raise ctx.error(
            line_of("android_version"), "android_version is only allowed with os android"
        )

    ios_limit = opt_size("ios_app_limit")
    ios_entitled = opt_size("ios_app_limit_entitled")
    metal = opt_size("metal_working_set")
    android_budget = opt_size("android_foreground_budget")
    mlc_memory = opt_size("mlc_engine_memory")

    # Fields that only make sense on some platforms: a mistake, not a harmless extra.
    apple_mobile = os_name in ("ios", "ipados")
    for key, present, allowed, why in (
        ("ios_app_limit", ios_limit, apple_mobile, "os ios or ipados"),
        ("ios_app_limit_entitled", ios_entitled, apple_mobile, "os ios or ipados"),
        ("metal_working_set", metal, gpu_api == "metal", "gpu_api metal"),
        ("android_foreground_budget", android_budget, os_name == "android", "os android"),
        (
            "android_background_note",
            get("android_background_note"),
            os_name == "android",
            "os android",
        ),
    ):
        if present is not None and not allowed:
            raise ctx.error(line_of(key), f"{key} is only allowed with {why}")
    for key, limit in (
        ("ios_app_limit", ios_limit),
        ("ios_app_limit_entitled", ios_entitled),
        ("metal_working_set", metal),
        ("android_foreground_budget", android_budget),
    ):
        if limit is not None and limit.value > ram.value:
            raise ctx.error(line_of(key), f"{key} is larger than ram")
    if ios_limit is not None and ios_entitled is not None and ios_entitled.value < ios_limit.value:
        raise ctx.error(
            line_of("ios_app_limit_entitled"),
            "ios_app_limit_entitled is smaller than ios_app_limit",
        )

    background = opt_str("android_background_note")
    if background is None and os_name == "android":
        background = ANDROID_BACKGROUND_NOTE

    def names(key: str) -> tuple[str, ...]:
        loc = get(key)
        return () if loc is None or loc.value is None else _name_list(loc, ctx, key)

    aliases = names("aliases")
    families = names("families")
    default_for = names("default_for")
    for family in default_for:
        if family not in families:
            raise ctx.error(line_of("default_for"), f"default_for {family!r} is not in families")

    def texts(key: str) -> tuple[str, ...]:
        loc = get(key)
        return () if loc is None or loc.value is None else tuple(_str_list(loc, ctx, key))

    overrides_loc = get("overrides")
    overrides = False if overrides_loc is None else _bool(overrides_loc, ctx, "overrides")
    if overrides and bundled:
        raise ctx.error(line_of("overrides"), "bundled profiles cannot set overrides")

    profile = DeviceProfile(
        id=profile_id,
        name=_str(req("name"), ctx, "name"),
        vendor=_str(req("vendor"), ctx, "vendor"),
        os=os_name,
        os_detail=opt_str("os_detail"),
        soc=_str(req("soc"), ctx, "soc"),
        year=year,
        ram_bytes=ram,
        ram_variants_bytes=variants,
        memory_type=opt_str("memory_type"),
        mem_bandwidth_bytes_per_s=bandwidth,
        gpu=_str(req("gpu"), ctx, "gpu"),
        gpu_api=gpu_api,
        npu=opt_str("npu"),
        mlc_device=mlc_device,
        ios_app_limit_bytes=ios_limit,
        ios_app_limit_entitled_bytes=ios_entitled,
        metal_working_set_bytes=metal,
        android_foreground_budget_bytes=android_budget,
        android_background_note=background,
        mlc_engine_memory_bytes=mlc_memory,
        decode_efficiency=efficiency,
        aliases=aliases,
        families=families,
        default_for=default_for,
        notes=texts("notes"),
        sources=texts("sources"),
        source_path=source_path,
        bundled=bundled,
        overrides=overrides,
        soc_family=family_key,
        android_version=android_version,
    )
    # A profile is its tier plus what is known better: every number it leaves out comes from
    # the tier rules (planner.device_tiers), recorded in from_tier.
    return apply_tier(profile, decode_efficiency_given=eff_loc is not None)


# --------------------------------------------------------------------------------------------
# Files and folders


def _decode(data: bytes, path: str) -> str:
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError(f"profile is larger than {MAX_PROFILE_BYTES} bytes", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(f"profile is not UTF-8 text (byte {exc.start})", path=path) from None


def _read_user_file(path: Path) -> str:
    return read_text(path, MAX_PROFILE_BYTES, "profile", ProfileError, bom=True)


def load_profile_file(path: Path) -> DeviceProfile:
    """Read and validate one user profile file."""
    return parse_profile(_read_user_file(path), str(path))


def load_profile_dir(path: Path) -> tuple[DeviceProfile, ...]:
    """Read every ``*.yaml``/``*.yml`` file of a user folder (not recursive), or one file.

    Duplicate ids inside the folder are an error.
    """
    if path.is_file():
        return (load_profile_file(path),)
    if not path.is_dir():
        raise ProfileError("profile folder does not exist", path=str(path))
    try:
        files = sorted(
            (p for p in path.iterdir() if p.suffix in PROFILE_SUFFIXES),
            key=lambda p: _natural(p.name),
        )
    except OSError as exc:
        raise ProfileError(f"cannot list profiles: {exc.strerror or exc}", path=str(path)) from None
    if not files:
        raise ProfileError("no *.yaml profiles in this folder", path=str(path))
    if len(files) > MAX_PROFILE_FILES:
        raise ProfileError(f"more than {MAX_PROFILE_FILES} profiles in one folder", path=str(path))
    profiles = tuple(load_profile_file(f) for f in files)
    _check_unique_ids(profiles)
    return profiles


def _natural(name: str) -> list[str | int]:
    """Sort key for file names: ``pixel-9`` before ``pixel-10``, ``s23`` before ``s23-ultra``."""
    stem = name.rsplit(".", 1)[0]
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", stem)]


def _bundled_files() -> list[Traversable]:
    root = resources.files("planner.device_profiles")
    return sorted(
        (f for f in root.iterdir() if f.name.endswith(PROFILE_SUFFIXES) and f.is_file()),
        key=lambda f: _natural(f.name),
    )


@cache
def load_bundled_profiles() -> tuple[DeviceProfile, ...]:
    """The profiles shipped in ``planner.device_profiles`` (read once per process)."""
    profiles: list[DeviceProfile] = []
    for item in _bundled_files():
        with item.open("rb") as handle:
            data = handle.read(MAX_PROFILE_BYTES + 1)
        path = str(item)
        profiles.append(parse_profile(_decode(data, path), path, bundled=True))
    result = tuple(profiles)
    _check_unique_ids(result)
    check_profile_names(result)
    return result


def _check_unique_ids(profiles: Sequence[DeviceProfile]) -> None:
    seen: dict[str, DeviceProfile] = {}
    for profile in profiles:
        first = seen.get(profile.id)
        if first is not None:
            raise ProfileError(
                f"duplicate device id {profile.id!r} (also in {first.source_path})",
                path=profile.source_path,
            )
        seen[profile.id] = profile


def merge_layers(layers: Sequence[Sequence[DeviceProfile]]) -> tuple[DeviceProfile, ...]:
    """Merge profile layers (bundled first, then user folders in order).

    A profile whose id exists in an earlier layer needs ``overrides: true`` and replaces it;
    ``overrides: true`` without such a profile is an error. A family default claimed in a later
    layer replaces the earlier claim. Name clashes are then checked across the result.
    """
    merged: dict[str, DeviceProfile] = {}
    for layer in layers:
        _check_unique_ids(layer)
        for profile in layer:
            earlier = merged.get(profile.id)
            if earlier is not None and not profile.overrides:
                raise ProfileError(
                    f"device id {profile.id!r} is already defined in {earlier.source_path}; "
                    "add `overrides: true` to replace it, or choose another id",
                    path=profile.source_path,
                )
            if earlier is None and profile.overrides:
                raise ProfileError(
                    f"`overrides: true` but no earlier profile has id {profile.id!r}",
                    path=profile.source_path,
                )
        claimed = {name_key(f) for p in layer for f in p.default_for}
        if claimed:
            for key, profile in list(merged.items()):
                kept = tuple(f for f in profile.default_for if name_key(f) not in claimed)
                if kept != profile.default_for:
                    merged[key] = dataclasses.replace(profile, default_for=kept)
        for profile in layer:
            merged[profile.id] = profile
    result = tuple(merged.values())
    check_profile_names(result)
    return result


def load_profiles(extra_dirs: Sequence[Path] = ()) -> tuple[DeviceProfile, ...]:
    """Bundled profiles plus those in ``extra_dirs`` (folders or single files), validated."""
    layers: list[Sequence[DeviceProfile]] = [load_bundled_profiles()]
    layers.extend(load_profile_dir(Path(d)) for d in extra_dirs)
    return merge_layers(layers)
