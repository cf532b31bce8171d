"""Device profiles: what a phone, tablet, laptop or board offers an on-device LLM.

Pure types and pure functions only; reading profile files is ``planner.device_loader``'s job.

Every number in a profile is a ``Sourced`` value: the number, where it comes from (a public
source identifier such as ``mlc-ai/mlc-llm#2703``), and whether it is an estimate. Reports can
then say which limits are facts and which are guesses. Sizes are ``int`` bytes, bandwidths
``int`` bytes per second, efficiencies a ``float`` fraction.

``resolve_device`` turns a ``--device`` name into one profile: a tier string (``android:6GB``,
built from the rules in ``planner.device_tiers``), an exact id or alias, then a family name
(``pixel``) that resolves to the family's documented default, or to its only member.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, NamedTuple, TypeAlias, TypeVar, get_args

from planner.errors import ProfileError, UnknownDeviceError

T = TypeVar("T")

OsName = Literal["android", "ios", "ipados", "macos", "linux", "windows"]
GpuApi = Literal["metal", "opencl", "vulkan", "cuda", "cpu"]

OS_NAMES: tuple[str, ...] = get_args(OsName)
GPU_APIS: tuple[str, ...] = get_args(GpuApi)

MLC_DEVICES: frozenset[str] = frozenset(
    {
        # Presets and bare hints of `mlc_llm compile --device` (mlc-ai/mlc-llm
        # python/mlc_llm/support/auto_target.py at 79d603f).
        "iphone",
        "iphone:generic",
        "macabi",
        "macabi:generic",
        "android",
        "android:generic",
        "android:adreno",
        "android:adreno-so",
        "windows:adreno_x86",
        "metal",
        "metal:generic",
        "metal:x86-64",
        "vulkan",
        "vulkan:generic",
        "opencl",
        "opencl:generic",
        "mali",
        "mali:generic",
        "webgpu",
        "webgpu:generic",
        "cuda",
        "rocm",
        "cpu",
    }
)
"""Values accepted for ``DeviceProfile.mlc_device``."""

ANDROID_BACKGROUND_NOTE = (
    "Android has no per-app cap for native memory: lmkd kills cached and background apps first "
    "(by oom_score_adj), so an LLM app sent to the background is likely to be killed, and under "
    "critical pressure (ro.lmk.critical = 0) even the foreground app can be "
    "(AOSP system/memory/lmkd README; pytorch/executorch#5582). Android 17+ adds a per-app "
    "cgroup memory.high limit whose values are not documented (source.android.com "
    "docs/core/perf/memory-limiter)."
)
"""Used for ``android_background_note`` when an Android profile does not give its own."""

DEFAULT_DECODE_EFFICIENCY_NOTE = "default: the profile gives no decode_efficiency"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sourced(Generic[T]):
    """A value with its provenance.

    ``source`` names public evidence (URL, ``owner/repo#issue``, document section);
    ``estimate`` is true when the value is an estimate, a leak, a tier-based inference or
    otherwise not measured/stated for this device; ``note`` qualifies it (OS version, range).
    """

    value: T
    source: str
    estimate: bool = False
    note: str = ""


AnySourced: TypeAlias = "Sourced[int] | Sourced[float] | Sourced[tuple[int, ...]]"
"""Any sourced number of a profile."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    """One device configuration (one RAM size) and the memory facts a plan checks against."""

    id: str
    """Lower-case, hyphenated identifier, e.g. ``pixel-8-pro``."""
    name: str
    vendor: str
    os: OsName
    soc: str
    ram_bytes: Sourced[int]
    """Physical RAM of this configuration (marketed size; phone "GB" of RAM are GiB)."""
    gpu: str
    gpu_api: GpuApi
    """The API the planner assumes for the GPU path (``cpu`` when runtimes use the CPU)."""
    ram_variants_bytes: Sourced[tuple[int, ...]] | None = None
    """All RAM sizes the model is sold with (``ram_bytes`` is one of them)."""
    mem_bandwidth_bytes_per_s: Sourced[int] | None = None
    """Theoretical peak DRAM bandwidth."""
    mlc_device: str | None = None
    """``mlc_llm compile --device`` preset (``iphone``, ``android:adreno``, ``metal``, ...);
    None when MLC has no GPU target for the device."""
    ios_app_limit_bytes: Sourced[int] | None = None
    """iOS/iPadOS per-app memory limit (jetsam) without entitlements."""
    ios_app_limit_entitled_bytes: Sourced[int] | None = None
    """The same with ``com.apple.developer.kernel.increased-memory-limit``."""
    metal_working_set_bytes: Sourced[int] | None = None
    """``MTLDevice.recommendedMaxWorkingSetSize``."""
    android_foreground_budget_bytes: Sourced[int] | None = None
    """Memory a foreground native LLM app can realistically use (model + KV + runtime)."""
    android_background_note: str | None = None
    mlc_engine_memory_bytes: Sourced[int] | None = None
    """What MLC's engine takes as device memory (its budget is ``gpu_memory_utilization``
    (0.85) times this): Android/OpenCL max(reported, 5 GiB), Metal the recommended working
    set, CUDA the total global memory."""
    decode_efficiency: Sourced[float]
    """Fraction of peak DRAM bandwidth reached while decoding (memory-bound decode)."""
    memory_type: str | None = None
    npu: str | None = None
    os_detail: str | None = None
    year: int | None = None
    soc_family: str | None = None
    """Key of ``planner.device_tiers.SOC_FAMILIES`` (bandwidth and efficiency defaults)."""
    android_version: int | None = None
    """Android version the profile assumes (lmkd behaviour; None: a current one, 11-16)."""
    aliases: tuple[str, ...] = ()
    """Other exact names for this profile."""
    families: tuple[str, ...] = ()
    """Family names shared with other profiles (``pixel``, ``iphone-pro``, ``a16``)."""
    default_for: tuple[str, ...] = ()
    """Families for which this profile is the documented default."""
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    """General references for the profile (each number also carries its own source)."""
    source_path: str = ""
    """The file the profile was read from (for messages)."""
    bundled: bool = False
    """True for profiles shipped with planner."""
    overrides: bool = False
    """True when a user profile deliberately replaces an earlier profile with the same id."""
    tier: str = ""
    """The tier the profile belongs to (``android:8GB``, ``ios:6GB,soc=a16``)."""
    from_tier: tuple[str, ...] = ()
    """Fields whose numbers come from the tier rules (the profile leaves them out); every other
    number is the profile's own, device-specific one."""

    def numbers(self) -> tuple[tuple[str, AnySourced], ...]:
        """Every sourced number of the profile as (field name, value), absent ones left out."""
        items: list[tuple[str, AnySourced | None]] = [
            ("ram_bytes", self.ram_bytes),
            ("ram_variants_bytes", self.ram_variants_bytes),
            ("mem_bandwidth_bytes_per_s", self.mem_bandwidth_bytes_per_s),
            ("ios_app_limit_bytes", self.ios_app_limit_bytes),
            ("ios_app_limit_entitled_bytes", self.ios_app_limit_entitled_bytes),
            ("metal_working_set_bytes", self.metal_working_set_bytes),
            ("android_foreground_budget_bytes", self.android_foreground_budget_bytes),
            ("mlc_engine_memory_bytes", self.mlc_engine_memory_bytes),
            ("decode_efficiency", self.decode_efficiency),
        ]
        return tuple((name, value) for name, value in items if value is not None)


# --------------------------------------------------------------------------------------------
# Names and resolution


def normalize_name(name: str) -> str:
    """Lower-case a device name and join its words with single hyphens (``Pixel 8 Pro`` →
    ``pixel-8-pro``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")


def name_key(name: str) -> str:
    """The key names are matched on: hyphens dropped too, so ``pixel8pro`` finds ``pixel-8-pro``."""
    return normalize_name(name).replace("-", "")


@dataclass(frozen=True, slots=True)
class _Index:
    names: dict[str, DeviceProfile] = field(default_factory=dict)
    """compact id/alias → profile."""
    families: dict[str, tuple[str, list[DeviceProfile]]] = field(default_factory=dict)
    """compact family → (family name, members)."""
    display: list[str] = field(default_factory=list)
    """Every normalized id, alias and family (for suggestions)."""


def _build_index(profiles: Iterable[DeviceProfile]) -> _Index:
    """Index names; two profiles claiming one name is a profile error."""
    index = _Index()
    owner: dict[str, tuple[str, DeviceProfile]] = {}

    def claim(name: str, kind: str, profile: DeviceProfile) -> None:
        key = name_key(name)
        if not key:
            raise ProfileError(
                f"{kind} {name!r} of {profile.id!r} is empty", path=profile.source_path
            )
        if key in owner:
            other_kind, other = owner[key]
            if other is profile:
                return  # an alias repeating the id (or itself) is harmless
            raise ProfileError(
                f"{kind} {name!r} of device {profile.id!r} clashes with {other_kind} of device "
                f"{other.id!r} ({other.source_path or 'unknown file'})",
                path=profile.source_path,
            )
        owner[key] = (kind, profile)
        index.names[key] = profile
        index.display.append(normalize_name(name))

    profile_list = list(profiles)
    for profile in profile_list:
        claim(profile.id, "id", profile)
    for profile in profile_list:
        for alias in profile.aliases:
            claim(alias, "alias", profile)
    for profile in profile_list:
        for family in profile.families:
            key = name_key(family)
            if key in owner:
                other_kind, other = owner[key]
                raise ProfileError(
                    f"family {family!r} of device {profile.id!r} clashes with {other_kind} of "
                    f"device {other.id!r} ({other.source_path or 'unknown file'})",
                    path=profile.source_path,
                )
            if key not in index.families:
                index.families[key] = (normalize_name(family), [])
                index.display.append(normalize_name(family))
            members = index.families[key][1]
            if not any(m is profile for m in members):  # "pi5" and "pi-5" are one family
                members.append(profile)
    # Display names resolve too ("Google Pixel 8 Pro"), but only where unambiguous: a name
    # equal to another profile's id, alias or family, or shared by two profiles, is skipped.
    name_owners: dict[str, list[DeviceProfile]] = {}
    for profile in profile_list:
        name_owners.setdefault(name_key(profile.name), []).append(profile)
    for key, owners in name_owners.items():
        if key and len(owners) == 1 and key not in owner and key not in index.families:
            index.names[key] = owners[0]
    for key, (family, members) in index.families.items():
        defaults = [p for p in members if key in {name_key(f) for f in p.default_for}]
        if len(defaults) > 1:
            raise ProfileError(
                f"family {family!r} has several defaults: "
                + ", ".join(f"{p.id} ({p.source_path})" for p in defaults),
                path=defaults[-1].source_path,
            )
    return index


_LAST_INDEX: list[tuple[Sequence[DeviceProfile], _Index]] = []


def _index_for(profiles: Sequence[DeviceProfile]) -> _Index:
    """The name index of ``profiles``, kept for the last sequence seen: a matrix resolves
    thousands of names against one loaded set (profiles are immutable, so identity is enough)."""
    if _LAST_INDEX and _LAST_INDEX[0][0] is profiles:
        return _LAST_INDEX[0][1]
    index = _build_index(profiles)
    if isinstance(profiles, tuple):
        _LAST_INDEX[:] = [(profiles, index)]
    return index


def check_profile_names(profiles: Sequence[DeviceProfile]) -> None:
    """Raise ``ProfileError`` if ids, aliases or family names clash, or a family has two
    defaults."""
    _build_index(profiles)


def family_members(family: str, profiles: Sequence[DeviceProfile]) -> tuple[DeviceProfile, ...]:
    """The profiles in ``family`` (empty when no profile names it)."""
    entry = _index_for(profiles).families.get(name_key(family))
    return tuple(entry[1]) if entry else ()


def resolve_named(name: str, profiles: Sequence[DeviceProfile]) -> DeviceProfile:
    """Find the named profile ``name`` means (tier strings: ``planner.device_tiers``).

    Order: an exact id or alias (case, spaces and hyphens ignored); then a family name, which
    resolves to the family's default (``default_for``) or its only member. A family with
    several members and no default raises ``UnknownDeviceError`` listing the candidates; an
    unknown name raises it with the closest known names.
    """
    key = name_key(name)
    if not key:
        raise UnknownDeviceError("empty device name", hint="`planner devices` lists the profiles")
    index = _index_for(profiles)
    found = index.names.get(key)
    if found is not None:
        return found
    entry = index.families.get(key)
    if entry is not None:
        family, members = entry
        for member in members:
            if key in {name_key(f) for f in member.default_for}:
                return member
        if len(members) == 1:
            return members[0]
        candidates = ", ".join(sorted(p.id for p in members))
        raise UnknownDeviceError(
            f"device {name!r} is ambiguous: family {family!r} has no default; candidates: "
            f"{candidates}",
            hint="name one of the candidates with --device",
        )
    close = difflib.get_close_matches(normalize_name(name), index.display, n=5, cutoff=0.6)
    suggestion = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownDeviceError(
        f"unknown device {name!r}{suggestion}",
        hint="`planner devices` lists the profiles; add your own with --profiles DIR, or "
        "describe the device by its facts: --device android:6GB",
    )


class NameRow(NamedTuple):
    """One name ``--device`` accepts, and what it resolves to."""

    name: str
    kind: str
    """``alias`` or ``family``."""
    resolves_to: str | None
    """The profile id, or None for a family with several members and no default."""
    candidates: tuple[str, ...]
    """Members of a family (for an alias: the one profile)."""


def name_table(profiles: Sequence[DeviceProfile]) -> list[NameRow]:
    """Every alias and family name and the profile it resolves to (sorted by name)."""
    index = _build_index(profiles)
    rows: list[NameRow] = []
    for profile in profiles:
        rows.extend(NameRow(a, "alias", profile.id, (profile.id,)) for a in profile.aliases)
    for key, (family, members) in index.families.items():
        defaults = [m for m in members if key in {name_key(f) for f in m.default_for}]
        target = defaults[0] if defaults else (members[0] if len(members) == 1 else None)
        rows.append(
            NameRow(
                family,
                "family",
                target.id if target else None,
                tuple(sorted(m.id for m in members)),
            )
        )
    return sorted(rows, key=lambda r: (r.name, r.kind))


# --------------------------------------------------------------------------------------------
# Presentation (pure)


class ProfileRow(NamedTuple):
    """One line of ``planner devices show``."""

    field: str
    value: str
    source: str
    estimate: bool


_KIB = 1024
_UNITS = (("TiB", _KIB**4), ("GiB", _KIB**3), ("MiB", _KIB**2), ("KiB", _KIB))


def format_bytes(n: int) -> str:
    """Two decimals at most, in the units the value was written in: ``5.33 GiB``, ``512 MiB``,
    ``3.5 GB`` (a whole number of megabytes that is not whole mebibytes), ``100 B``."""
    if n % _KIB**2 and n % 1000**2 == 0:
        for unit, size in (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2)):
            if n >= size:
                return f"{f'{n / size:.2f}'.rstrip('0').rstrip('.')} {unit}"
    for unit, size in _UNITS:
        if n >= size:
            text = f"{n / size:.2f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
    return f"{n} B"


def format_bandwidth(n: int) -> str:
    """Decimal gigabytes per second, as bandwidth is quoted: ``51.2 GB/s``."""
    text = f"{n / 1e9:.2f}".rstrip("0").rstrip(".")
    return f"{text} GB/s"


def _sourced_row(name: str, value: Sourced[int] | None, fmt: str = "bytes") -> ProfileRow:
    if value is None:
        return ProfileRow(name, "unknown", "", False)
    text = format_bandwidth(value.value) if fmt == "bandwidth" else format_bytes(value.value)
    if value.note:
        text = f"{text} ({value.note})"
    return ProfileRow(name, text, value.source, value.estimate)


def describe(profile: DeviceProfile) -> list[ProfileRow]:
    """Rows for ``planner devices show ID``: every field, with source and estimate flag."""
    p = profile
    rows = [
        ProfileRow("id", p.id, "", False),
        ProfileRow("name", p.name, "", False),
        ProfileRow("vendor", p.vendor, "", False),
        ProfileRow("os", f"{p.os} ({p.os_detail})" if p.os_detail else p.os, "", False),
        ProfileRow("soc", p.soc, "", False),
    ]
    if p.soc_family:
        rows.append(ProfileRow("soc_family", p.soc_family, "", False))
    if p.android_version is not None:
        rows.append(ProfileRow("android_version", str(p.android_version), "", False))
    if p.tier:
        filled = ", ".join(p.from_tier) if p.from_tier else "none"
        rows.append(
            ProfileRow("tier", f"{p.tier} (numbers from the tier rules: {filled})", "", False)
        )
    if p.year is not None:
        rows.append(ProfileRow("year", str(p.year), "", False))
    rows.append(_sourced_row("ram", p.ram_bytes))
    if p.ram_variants_bytes is not None:
        variants = ", ".join(format_bytes(v) for v in p.ram_variants_bytes.value)
        if p.ram_variants_bytes.note:
            variants = f"{variants} ({p.ram_variants_bytes.note})"
        rows.append(
            ProfileRow(
                "ram_variants", variants, p.ram_variants_bytes.source, p.ram_variants_bytes.estimate
            )
        )
    if p.memory_type:
        rows.append(ProfileRow("memory_type", p.memory_type, "", False))
    rows.append(_sourced_row("mem_bandwidth", p.mem_bandwidth_bytes_per_s, "bandwidth"))
    rows.append(ProfileRow("gpu", p.gpu, "", False))
    rows.append(ProfileRow("gpu_api", p.gpu_api, "", False))
    if p.npu:
        rows.append(ProfileRow("npu", p.npu, "", False))
    rows.append(ProfileRow("mlc_device", p.mlc_device or "none", "", False))
    if p.os in ("ios", "ipados"):
        rows.append(_sourced_row("ios_app_limit", p.ios_app_limit_bytes))
        rows.append(_sourced_row("ios_app_limit_entitled", p.ios_app_limit_entitled_bytes))
    if p.gpu_api == "metal":
        rows.append(_sourced_row("metal_working_set", p.metal_working_set_bytes))
    if p.os == "android":
        rows.append(_sourced_row("android_foreground_budget", p.android_foreground_budget_bytes))
        if p.android_background_note:
            rows.append(ProfileRow("android_background_note", p.android_background_note, "", False))
    if p.mlc_device is not None or p.mlc_engine_memory_bytes is not None:
        rows.append(_sourced_row("mlc_engine_memory", p.mlc_engine_memory_bytes))
    eff = p.decode_efficiency
    eff_text = f"{eff.value:g}" + (f" ({eff.note})" if eff.note else "")
    rows.append(ProfileRow("decode_efficiency", eff_text, eff.source, eff.estimate))
    for label, items in (
        ("aliases", p.aliases),
        ("families", p.families),
        ("default_for", p.default_for),
    ):
        if items:
            rows.append(ProfileRow(label, ", ".join(items), "", False))
    rows.extend(ProfileRow("note", note, "", False) for note in p.notes)
    rows.extend(ProfileRow("source", src, "", False) for src in p.sources)
    rows.append(ProfileRow("file", p.source_path, "", False))
    return rows


def _sourced_dict(value: Sourced[T] | None) -> dict[str, object] | None:
    if value is None:
        return None
    raw: object = list(value.value) if isinstance(value.value, tuple) else value.value
    out: dict[str, object] = {"value": raw, "source": value.source, "estimate": value.estimate}
    if value.note:
        out["note"] = value.note
    return out


def profile_dict(profile: DeviceProfile) -> dict[str, object]:
    """A JSON-ready dict of the profile (sizes in bytes, each number with source and flag)."""
    p = profile
    return {
        "id": p.id,
        "name": p.name,
        "vendor": p.vendor,
        "os": p.os,
        "os_detail": p.os_detail,
        "soc": p.soc,
        "soc_family": p.soc_family,
        "android_version": p.android_version,
        "tier": p.tier,
        "from_tier": list(p.from_tier),
        "year": p.year,
        "ram_bytes": _sourced_dict(p.ram_bytes),
        "ram_variants_bytes": _sourced_dict(p.ram_variants_bytes),
        "memory_type": p.memory_type,
        "mem_bandwidth_bytes_per_s": _sourced_dict(p.mem_bandwidth_bytes_per_s),
        "gpu": p.gpu,
        "gpu_api": p.gpu_api,
        "npu": p.npu,
        "mlc_device": p.mlc_device,
        "ios_app_limit_bytes": _sourced_dict(p.ios_app_limit_bytes),
        "ios_app_limit_entitled_bytes": _sourced_dict(p.ios_app_limit_entitled_bytes),
        "metal_working_set_bytes": _sourced_dict(p.metal_working_set_bytes),
        "android_foreground_budget_bytes": _sourced_dict(p.android_foreground_budget_bytes),
        "android_background_note": p.android_background_note,
        "mlc_engine_memory_bytes": _sourced_dict(p.mlc_engine_memory_bytes),
        "decode_efficiency": _sourced_dict(p.decode_efficiency),
        "aliases": list(p.aliases),
        "families": list(p.families),
        "default_for": list(p.default_for),
        "notes": list(p.notes),
        "sources": list(p.sources),
        "bundled": p.bundled,
    }
