"""Device tiers: any device described by its facts (``android:6GB``), from sourced rules.

A *tier* is what planner can say about a device from a few facts alone: its OS, its RAM, and
optionally its SoC family, the memory its GPU API reports and its Android version. The rules
that turn those facts into limits are explicit tables here, every number with its source and
marked as an estimate (a tier value is an inference for any particular device):

* iOS / iPadOS per-app memory limits per RAM tier, without and with the
  ``increased-memory-limit`` entitlement (``IPHONE_TIERS``, ``IPAD_TIERS``);
* the Android foreground budget per RAM tier and Android version, from how lmkd decides whom
  to kill (``ANDROID_ANCHORS``, ``ANDROID_ERAS``; derivation in docs/devices.md);
* MLC's engine device memory per GPU API (OpenCL ``max(CL_DEVICE_GLOBAL_MEM_SIZE, 5 GiB)``,
  Metal ``recommendedMaxWorkingSetSize``, CUDA/Vulkan the reported device memory);
* peak DRAM bandwidth and decode efficiency per SoC family (``SOC_FAMILIES``).

A named profile is a tier plus what is known better about that device: the loader fills every
number a profile leaves out from these rules (``apply_tier``) and records which
(``DeviceProfile.from_tier``), so a named 6 GB phone gets exactly its tier's verdict unless its
profile gives its own, device-specific number.

Pure: no file access. ``parse_device_query`` turns ``--device android:6GB`` into a
``DeviceQuery``; ``query_from_options`` does the same from separate options (``--os``,
``--ram``, ``--soc``, ``--gpu-memory``); ``tier_profile`` builds the profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.device import DeviceProfile, resolve_named
from planner.device_tiers.common import (
    DEFAULT_DECODE_EFFICIENCY,
    GIB,
    LIMIT_FIELDS,
    MIB,
    TIER_FIELDS,
)
from planner.device_tiers.limits import (
    ANDROID_ANCHORS,
    ANDROID_ERAS,
    IPAD_TIERS,
    IPHONE_TIERS,
    android_budget,
    ios_limits,
    metal_working_set,
    mlc_engine_memory,
)
from planner.device_tiers.query import (
    DeviceQuery,
    apply_tier,
    looks_like_query,
    parse_device_query,
    parse_ram,
    query_for_profile,
    query_from_options,
    tier_profile,
    tier_values,
)
from planner.device_tiers.soc_types import SocFamily
from planner.device_tiers.socs import SOC_FAMILIES, soc_family, soc_family_names

__all__ = [
    "ANDROID_ANCHORS",
    "ANDROID_ERAS",
    "DEFAULT_DECODE_EFFICIENCY",
    "GIB",
    "IPAD_TIERS",
    "IPHONE_TIERS",
    "LIMIT_FIELDS",
    "MIB",
    "SOC_FAMILIES",
    "TIER_FIELDS",
    "DeviceQuery",
    "SocFamily",
    "android_budget",
    "apply_tier",
    "ios_limits",
    "looks_like_query",
    "metal_working_set",
    "mlc_engine_memory",
    "parse_device_query",
    "parse_ram",
    "query_for_profile",
    "query_from_options",
    "resolve_device",
    "soc_family",
    "soc_family_names",
    "tier_profile",
    "tier_values",
]


def resolve_device(name: str, profiles: Sequence[DeviceProfile]) -> DeviceProfile:
    """Find the profile ``name`` means: a tier string with a colon (``android:6GB``: a profile
    built from the tier rules; a malformed one raises ``UsageError``), else a named profile,
    alias or family (``planner.device.resolve_named``)."""
    if ":" in name:  # a tier string: profile ids and aliases never contain a colon
        return tier_profile(parse_device_query(name))
    return resolve_named(name, profiles)
