"""Constants shared by the tier rules: units, the fields tiers fill, defaults."""

from __future__ import annotations

from planner.device import (
    DEFAULT_DECODE_EFFICIENCY_NOTE,
    Sourced,
)

MIB = 1024**2
GIB = 1024**3

MLC_CONFIG_CC = "mlc-ai/mlc-llm cpp/serve/config.cc TotalDetectGlobalMemory (@79d603f)"

TIER_FIELDS: tuple[str, ...] = (
    "mem_bandwidth_bytes_per_s",
    "ios_app_limit_bytes",
    "ios_app_limit_entitled_bytes",
    "metal_working_set_bytes",
    "android_foreground_budget_bytes",
    "mlc_engine_memory_bytes",
    "decode_efficiency",
)
"""``DeviceProfile`` fields the tier rules can fill."""

LIMIT_FIELDS: tuple[str, ...] = (
    "ios_app_limit_bytes",
    "ios_app_limit_entitled_bytes",
    "android_foreground_budget_bytes",
    "mlc_engine_memory_bytes",
)
"""The fields a verdict depends on (besides RAM): the limits the checks compare against."""

DEFAULT_DECODE_EFFICIENCY = Sourced(
    value=0.5,
    source=(
        "planner phone nominal from measured Adreno points: mlc-ai/relax PR #319 "
        "(Snapdragon 8 Gen 3: 0.59-0.64), wangzhaode/mnn-llm#146 (8 Gen 2: >=0.54)"
    ),
    estimate=True,
    note=DEFAULT_DECODE_EFFICIENCY_NOTE,
)
"""Decode efficiency when neither the profile nor its SoC family gives one."""


# --------------------------------------------------------------------------------------------
