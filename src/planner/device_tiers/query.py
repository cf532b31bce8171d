"""Queries (a device by its facts) and profiles built from tiers."""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass

from planner.device import (
    ANDROID_BACKGROUND_NOTE,
    GPU_APIS,
    OS_NAMES,
    DeviceProfile,
    GpuApi,
    OsName,
    Sourced,
)
from planner.device_tiers.common import (
    DEFAULT_DECODE_EFFICIENCY,
    GIB,
    MIB,
    TIER_FIELDS,
)
from planner.device_tiers.limits import (
    android_budget,
    ios_limits,
    metal_working_set,
    mlc_engine_memory,
)
from planner.device_tiers.socs import SOC_FAMILIES, soc_family, soc_family_names
from planner.errors import UsageError

# --------------------------------------------------------------------------------------------
# Queries: a device by its facts


OS_ALIASES: dict[str, OsName] = {
    "iphone": "ios",
    "ipad": "ipados",
    "mac": "macos",
    "osx": "macos",
}

QUERY_USAGE = (
    "OS:RAM[,soc=FAMILY][,gpu-memory=SIZE][,gpu-api=API][,android=VERSION], e.g. android:6GB, "
    "ios:4GB, linux:8GB,soc=orin-nano"
)

MIN_RAM = 256 * MIB
MAX_RAM = 4096 * GIB

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(tb|tib|gb|gib|g|mb|mib|m)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"t": 1024 * GIB, "g": GIB, "m": MIB}


def parse_ram(text: str, what: str = "RAM") -> int:
    """A RAM size as marketed: ``6GB``, ``6``, ``5.5 GB``, ``6144MB`` (GB means GiB, as phone and
    laptop RAM is sold); raises ``UsageError`` with a one-line message."""
    match = _SIZE_RE.match(text) if len(text) <= 32 else None
    if match is None:
        raise UsageError(
            f"{what} {text!r} is not a size; write a number of GB like 6GB or 5.5GB "
            "(GB as marketed, i.e. GiB; MB and TB also accepted)"
        )
    number = float(match.group(1))
    unit = (match.group(2) or "g").lower()[0]
    value = round(number * _SIZE_FACTORS[unit])
    if not MIN_RAM <= value <= MAX_RAM:
        raise UsageError(f"{what} {text!r} is out of range (256 MB to 4096 GB)")
    return value


def size_text(n: int) -> str:
    """``6GB``, ``5.5GB``, ``6144MB``: the canonical spelling in tier ids."""
    if n % GIB == 0:
        return f"{n // GIB}GB"
    gib = n / GIB
    if round(gib, 2) * GIB == n:
        return f"{gib:g}GB"
    if n % MIB == 0:
        return f"{n // MIB}MB"
    return f"{n}B"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceQuery:
    """A device described by its facts (``--device android:6GB``)."""

    os: OsName
    ram_bytes: int
    soc_family: str | None = None
    """Key of ``SOC_FAMILIES``."""
    gpu_memory_bytes: int | None = None
    """What the GPU API reports as device memory (CL_DEVICE_GLOBAL_MEM_SIZE,
    recommendedMaxWorkingSetSize, totalGlobalMem)."""
    gpu_api: GpuApi | None = None
    """Override of the GPU path (default: the SoC family's, else the OS's usual one)."""
    android_version: int | None = None

    @property
    def tier_id(self) -> str:
        """Canonical spelling, also the id of the profile built from it."""
        parts = [f"{self.os}:{size_text(self.ram_bytes)}"]
        if self.soc_family:
            parts.append(f"soc={self.soc_family}")
        if self.gpu_memory_bytes is not None:
            parts.append(f"gpu-memory={size_text(self.gpu_memory_bytes)}")
        if self.gpu_api is not None:
            parts.append(f"gpu-api={self.gpu_api}")
        if self.android_version is not None:
            parts.append(f"android={self.android_version}")
        return ",".join(parts)


def looks_like_query(name: str) -> bool:
    """Whether a ``--device`` value is a tier string (profile ids never contain ``:``)."""
    return ":" in name


def _usage(text: str, why: str) -> UsageError:
    return UsageError(f"bad device tier {text!r}: {why}; expected {QUERY_USAGE}")


def _os_name(raw: str, text: str) -> OsName:
    name = raw.strip().lower()
    if name in OS_ALIASES:
        return OS_ALIASES[name]
    if name in OS_NAMES:
        return name  # type: ignore[return-value]  # checked against the Literal's values
    raise _usage(text, f"unknown OS {raw.strip()!r} (one of {', '.join(OS_NAMES)})")


def _soc(raw: str, text: str) -> str:
    family = soc_family(raw)
    if family is None:
        close = difflib.get_close_matches(raw.strip().lower(), soc_family_names(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise _usage(text, f"unknown SoC family {raw.strip()!r}{hint}")
    return family.key


def _gpu_api(raw: str, text: str) -> GpuApi:
    name = raw.strip().lower()
    if name not in GPU_APIS:
        raise _usage(text, f"unknown GPU API {raw.strip()!r} (one of {', '.join(GPU_APIS)})")
    return name  # type: ignore[return-value]  # checked against the Literal's values


def _version(raw: str, text: str) -> int:
    if not raw.strip().isdigit() or not 4 <= int(raw) <= 99:
        raise _usage(text, f"Android version {raw.strip()!r} is not a major version like 14")
    return int(raw)


def _check_query(q: DeviceQuery, text: str) -> DeviceQuery:
    if q.android_version is not None and q.os != "android":
        raise _usage(text, "android=VERSION only applies to os android")
    return q


def parse_device_query(text: str) -> DeviceQuery:
    """Parse ``OS:RAM[,soc=FAMILY][,gpu-memory=SIZE][,gpu-api=API][,android=VERSION]``.

    Raises ``UsageError`` (exit 2) with a one-line message naming what is wrong and the syntax.
    """
    raw = text.strip()
    if len(raw) > 200:
        raise _usage(raw[:40] + "…", "longer than 200 characters")
    os_part, sep, rest = raw.partition(":")
    if not sep or not rest.strip():
        raise _usage(raw, "missing RAM after the colon")
    os_name = _os_name(os_part, raw)
    ram_part, *options = rest.split(",")
    try:
        ram = parse_ram(ram_part.strip())
    except UsageError as exc:
        raise _usage(raw, exc.message) from None
    values: dict[str, str] = {}
    for option in options:
        key, eq, value = option.partition("=")
        key = key.strip().lower().replace("_", "-")
        if not eq or not value.strip():
            raise _usage(raw, f"option {option.strip()!r} is not KEY=VALUE")
        if key not in ("soc", "gpu-memory", "gpu-api", "android"):
            raise _usage(raw, f"unknown option {key!r} (soc, gpu-memory, gpu-api, android)")
        if key in values:
            raise _usage(raw, f"option {key!r} given twice")
        values[key] = value.strip()
    gpu_memory = None
    if "gpu-memory" in values:
        try:
            gpu_memory = parse_ram(values["gpu-memory"], "GPU memory")
        except UsageError as exc:
            raise _usage(raw, exc.message) from None
    return _check_query(
        DeviceQuery(
            os=os_name,
            ram_bytes=ram,
            soc_family=_soc(values["soc"], raw) if "soc" in values else None,
            gpu_memory_bytes=gpu_memory,
            gpu_api=_gpu_api(values["gpu-api"], raw) if "gpu-api" in values else None,
            android_version=_version(values["android"], raw) if "android" in values else None,
        ),
        raw,
    )


def query_from_options(
    os: str,
    ram: str,
    *,
    soc: str | None = None,
    gpu_memory: str | None = None,
    gpu_api: str | None = None,
    android_version: int | None = None,
) -> DeviceQuery:
    """A query from separate CLI options (``--os``, ``--ram``, ``--soc``, ``--gpu-memory``)."""
    text = f"{os}:{ram}"
    for key, value in (("soc", soc), ("gpu-memory", gpu_memory), ("gpu-api", gpu_api)):
        if value is not None:
            text += f",{key}={value}"
    if android_version is not None:
        text += f",android={android_version}"
    return parse_device_query(text)


def query_for_profile(profile: DeviceProfile) -> DeviceQuery:
    """The tier a profile belongs to: its OS, RAM, SoC family and Android version."""
    query = DeviceQuery(
        os=profile.os,
        ram_bytes=profile.ram_bytes.value,
        soc_family=profile.soc_family,
        android_version=profile.android_version,
    )
    if _gpu_path(query)[1] != profile.gpu_api:  # e.g. a Linux board whose GPU runs MLC
        query = dataclasses.replace(query, gpu_api=profile.gpu_api)
    return query


# --------------------------------------------------------------------------------------------
# Building profiles


_OS_DEFAULTS: dict[str, tuple[str, GpuApi, str | None]] = {
    "android": ("unknown GPU (OpenCL assumed)", "opencl", "android"),
    "ios": ("Apple GPU", "metal", "iphone"),
    "ipados": ("Apple GPU", "metal", "iphone"),
    "macos": ("Apple GPU", "metal", "metal"),
    "linux": ("none assumed (CPU runtimes)", "cpu", None),
    "windows": ("unknown GPU (Vulkan assumed)", "vulkan", "vulkan"),
}
_MLC_FOR_API: dict[str, str | None] = {
    "opencl": "opencl",
    "metal": "metal",
    "vulkan": "vulkan",
    "cuda": "cuda",
    "cpu": None,
}
_OS_LABEL = {
    "android": "Android device",
    "ios": "iPhone",
    "ipados": "iPad",
    "macos": "Mac",
    "linux": "Linux device",
    "windows": "Windows device",
}


def tier_values(
    query: DeviceQuery, gpu_api: GpuApi, metal_override: Sourced[int] | None = None
) -> dict[str, Sourced[int] | Sourced[float] | None]:
    """Every number the tier rules give for ``query`` on the ``gpu_api`` path, by field name."""
    family = SOC_FAMILIES.get(query.soc_family) if query.soc_family else None
    ram = query.ram_bytes
    out: dict[str, Sourced[int] | Sourced[float] | None] = dict.fromkeys(TIER_FIELDS)
    out["mem_bandwidth_bytes_per_s"] = family.bandwidth if family else None
    out["decode_efficiency"] = family.decode_efficiency if family else DEFAULT_DECODE_EFFICIENCY
    if query.os in ("ios", "ipados"):
        out["ios_app_limit_bytes"], out["ios_app_limit_entitled_bytes"] = ios_limits(query.os, ram)
    metal = None
    if gpu_api == "metal":
        metal = metal_override
        if metal is None and query.gpu_memory_bytes is not None:
            metal = Sourced(
                value=min(query.gpu_memory_bytes, ram),
                source="recommendedMaxWorkingSetSize as given (gpu-memory)",
                note="[S] as given",
            )
        if metal is None:
            metal = metal_working_set(ram)
        out["metal_working_set_bytes"] = metal
    if query.os == "android":
        out["android_foreground_budget_bytes"] = android_budget(ram, query.android_version)
    out["mlc_engine_memory_bytes"] = mlc_engine_memory(gpu_api, ram, query.gpu_memory_bytes, metal)
    return out


def _gpu_path(query: DeviceQuery) -> tuple[str, GpuApi, str | None]:
    family = SOC_FAMILIES.get(query.soc_family) if query.soc_family else None
    gpu, api, mlc = _OS_DEFAULTS[query.os]
    if family is not None:
        gpu, api, mlc = family.gpu, family.gpu_api, family.mlc_device
        if query.os in ("ios", "ipados") and api == "metal":
            mlc = "iphone"  # an M-series iPad builds with the iphone preset
        elif query.os == "macos" and api == "metal":
            mlc = "metal"
    if query.gpu_api is not None and query.gpu_api != api:
        api = query.gpu_api
        mlc = _MLC_FOR_API[api] if query.os != "android" or api != "opencl" else "android"
        gpu = f"{gpu} ({api} given)"
    return gpu, api, mlc


def tier_profile(query: DeviceQuery) -> DeviceProfile:
    """A profile built from the tier rules alone (every number but RAM an estimate)."""
    gpu, api, mlc = _gpu_path(query)
    family = SOC_FAMILIES.get(query.soc_family) if query.soc_family else None
    values = tier_values(query, api)
    tid = query.tier_id
    filled = tuple(k for k in TIER_FIELDS if values[k] is not None)
    ram_text = size_text(query.ram_bytes).replace("GB", " GB").replace("MB", " MB")
    return DeviceProfile(
        id=tid,
        name=f"{_OS_LABEL[query.os]} with {ram_text} RAM (tier)",
        vendor="any",
        os=query.os,
        os_detail=f"Android {query.android_version}" if query.android_version else None,
        soc=family.name if family else "any (tier)",
        ram_bytes=Sourced(value=query.ram_bytes, source=f"given: --device {tid}"),
        memory_type=family.memory_type if family else None,
        mem_bandwidth_bytes_per_s=_int(values["mem_bandwidth_bytes_per_s"]),
        gpu=gpu,
        gpu_api=api,
        mlc_device=mlc,
        ios_app_limit_bytes=_int(values["ios_app_limit_bytes"]),
        ios_app_limit_entitled_bytes=_int(values["ios_app_limit_entitled_bytes"]),
        metal_working_set_bytes=_int(values["metal_working_set_bytes"]),
        android_foreground_budget_bytes=_int(values["android_foreground_budget_bytes"]),
        android_background_note=ANDROID_BACKGROUND_NOTE if query.os == "android" else None,
        mlc_engine_memory_bytes=_int(values["mlc_engine_memory_bytes"]),
        decode_efficiency=_float(values["decode_efficiency"]) or DEFAULT_DECODE_EFFICIENCY,
        soc_family=query.soc_family,
        android_version=query.android_version,
        tier=tid,
        from_tier=filled,
        notes=(
            "Built from planner's tier rules (docs/devices.md): every number but RAM is an "
            "estimate for a typical device of this tier.",
        ),
    )


def _int(value: Sourced[int] | Sourced[float] | None) -> Sourced[int] | None:
    if value is None:
        return None
    assert isinstance(value.value, int)
    return value  # type: ignore[return-value]  # value checked to be an int


def _float(value: Sourced[int] | Sourced[float] | None) -> Sourced[float] | None:
    if value is None:
        return None
    assert isinstance(value.value, float)
    return value  # type: ignore[return-value]  # value checked to be a float


def apply_tier(profile: DeviceProfile, *, decode_efficiency_given: bool = True) -> DeviceProfile:
    """Fill every number the profile leaves out from its tier; record which in ``from_tier``."""
    query = query_for_profile(profile)
    values = tier_values(query, profile.gpu_api, profile.metal_working_set_bytes)
    changes: dict[str, object] = {}
    for name in TIER_FIELDS:
        if name == "decode_efficiency":
            if not decode_efficiency_given:
                changes[name] = values[name]
            continue
        if name in ("ios_app_limit_bytes", "ios_app_limit_entitled_bytes") and profile.os not in (
            "ios",
            "ipados",
        ):
            continue
        if getattr(profile, name) is None and values[name] is not None:
            changes[name] = values[name]
    if profile.mlc_device is None and "mlc_engine_memory_bytes" in changes:
        del changes["mlc_engine_memory_bytes"]  # no MLC GPU target: no engine figure
    limit = changes.get("ios_app_limit_bytes", profile.ios_app_limit_bytes)
    entitled = changes.get("ios_app_limit_entitled_bytes", profile.ios_app_limit_entitled_bytes)
    if (
        isinstance(limit, Sourced)
        and isinstance(entitled, Sourced)
        and entitled.value < limit.value
        and "ios_app_limit_entitled_bytes" in changes
    ):
        # A device-specific limit above the tier's entitled value: the entitlement never lowers
        # the limit, so take the profile's own.
        note = f"{limit.note}; " if limit.note else ""
        changes["ios_app_limit_entitled_bytes"] = dataclasses.replace(
            limit, note=f"{note}entitled limit assumed no lower than this"
        )
    return dataclasses.replace(
        profile,
        tier=query.tier_id,
        from_tier=tuple(k for k in TIER_FIELDS if k in changes),
        **changes,  # type: ignore[arg-type]  # field names from TIER_FIELDS
    )
