"""SoC families by key: bandwidth and decode efficiency per family, and lookups."""

from __future__ import annotations

from planner.device import (
    name_key,
)
from planner.device_tiers.soc_types import SocFamily
from planner.device_tiers.socs_android import ANDROID_SOCS
from planner.device_tiers.socs_other import OTHER_SOCS

SOC_FAMILIES: dict[str, SocFamily] = {f.key: f for f in (*ANDROID_SOCS, *OTHER_SOCS)}
"""SoC families by key (``soc_family:`` in a profile, ``soc=`` in a tier string)."""


def soc_family(name: str) -> SocFamily | None:
    """The family a key or alias names (spelling-insensitive), or None."""
    key = name_key(name)
    for family in SOC_FAMILIES.values():
        if key in {name_key(family.key), *(name_key(a) for a in family.aliases)}:
            return family
    return None


def soc_family_names() -> list[str]:
    """Every accepted SoC family key and alias (for messages)."""
    names = list(SOC_FAMILIES)
    names.extend(a for f in SOC_FAMILIES.values() for a in f.aliases)
    return names
