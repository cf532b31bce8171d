"""The command-line options every command shares, and the one place they become a request.

Typer reads each command's signature, so every command spells its options out; the option
*definitions* (flags, help, checks) live here once, as ``Annotated`` aliases, and
``plan_request`` turns parsed values into a ``planner.request.PlanRequest``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.settings import DEFAULT_RAM_FRACTION, CheckOptions, Runtime

if TYPE_CHECKING:
    from planner.request import PlanRequest


class TextOrJson(str, Enum):
    """Output formats of inspect, estimate, measure and devices."""

    text = "text"
    json = "json"


class TextJsonHtml(str, Enum):
    """Output formats of suggest (html: a self-contained report with the chart)."""

    text = "text"
    json = "json"
    html = "html"


class RuntimeChoice(str, Enum):
    """--runtime values (one per ``planner.settings.Runtime``)."""

    mlc = "mlc"
    onnxruntime = "onnxruntime"


class Entitlement(str, Enum):
    """iOS entitlements that change memory limits."""

    increased_memory_limit = "increased-memory-limit"


PathArg = Annotated[
    Path,
    typer.Argument(
        help="Model artifact: .onnx file, onnxruntime-genai/Optimum folder, MLC folder, "
        "Hugging Face folder, or a Hugging Face Hub id org/name[@revision] (configs and "
        "safetensors headers only; needs the hub extra)."
    ),
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="Write the report to this file (atomically)."),
]
AdapterOpt = Annotated[str | None, typer.Option("--adapter", help="Force an adapter by name.")]
DevicesOpt = Annotated[
    list[str],
    typer.Option(
        "--device",
        "-d",
        help="Device id, alias or family, or a tier such as android:6GB (repeatable).",
    ),
]
RuntimeOpt = Annotated[
    RuntimeChoice | None,
    typer.Option(
        "--runtime",
        "-r",
        help="Runtime to plan for (default: mlc for MLC and Hugging Face folders, "
        "onnxruntime for ONNX).",
    ),
]
QuantOpt = Annotated[
    str | None,
    typer.Option(
        "--quantization",
        "-q",
        help="Target quantization: an MLC scheme (q4f16_1, q0f16, …) or an "
        "onnxruntime precision (int4, int4-bs128, int8, fp32, …).",
    ),
]
ContextOpt = Annotated[
    int | None,
    typer.Option(
        "--context",
        "-c",
        help="Tokens the KV cache must hold (MLC context_window_size; "
        "onnxruntime-genai max_length).",
    ),
]
PrefillOpt = Annotated[
    int | None,
    typer.Option(
        "--prefill",
        "-p",
        help="Tokens processed in one forward pass (MLC prefill_chunk_size; the "
        "prompt processed at once for onnxruntime-genai).",
    ),
]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="Concurrent sequences.")]
KvDtypeOpt = Annotated[
    str | None,
    typer.Option(
        "--kv-dtype", help="KV cache dtype (float16, float32, int8, fp8, int4 where supported)."
    ),
]
WindowOpt = Annotated[
    int | None,
    typer.Option("--sliding-window", help="Sliding-window size (tokens kept per sequence)."),
]
SinkOpt = Annotated[
    int | None,
    typer.Option("--attention-sink", help="Attention-sink tokens kept with a sliding window."),
]
DraftOpt = Annotated[
    Path | None,
    typer.Option("--draft", help="Draft model for speculative decoding (adds its weights and KV)."),
]
OsOpt = Annotated[
    str | None,
    typer.Option(
        "--os",
        help="Describe a device by its facts instead of naming it: its OS (android, ios, "
        "macos, linux, windows, …), with --ram; the same as --device OS:RAM.",
    ),
]
RamOpt = Annotated[
    str | None,
    typer.Option("--ram", help="With --os: the device's RAM, e.g. 6GB or 8GiB."),
]
SocOpt = Annotated[
    str | None,
    typer.Option(
        "--soc",
        help="With --os: the SoC family, e.g. snapdragon-8-gen-2 (docs/devices.md lists them).",
    ),
]
GpuMemoryOpt = Annotated[
    str | None,
    typer.Option(
        "--gpu-memory",
        help="With --os: what the GPU API reports as device memory (e.g. 4GB), when known.",
    ),
]


def tier_devices(
    devices: list[str] | None,
    os: str | None,
    ram: str | None,
    soc: str | None = None,
    gpu_memory: str | None = None,
    *,
    command: str | None = None,
) -> list[str]:
    """``--device`` values plus the tier ``--os/--ram/--soc/--gpu-memory`` describe.

    With ``command``, at least one device is required (the message names the command).
    """
    from planner.errors import UsageError

    chosen = list(devices or ())
    if os is None and ram is None:
        if soc is not None or gpu_memory is not None:
            raise UsageError("--soc and --gpu-memory describe a device tier: add --os and --ram")
        if command is not None and not chosen:
            raise UsageError(f"planner {command} needs at least one --device (or --os with --ram)")
        return chosen
    if os is None or ram is None:
        raise UsageError("a device tier needs both --os and --ram (e.g. --os android --ram 6GB)")
    from planner.device_tiers import query_from_options

    chosen.append(query_from_options(os, ram, soc=soc, gpu_memory=gpu_memory).tier_id)
    return chosen


ProfilesOpt = Annotated[
    list[Path] | None,
    typer.Option("--profiles", help="Extra folder of device profile YAML files (repeatable)."),
]
EntitlementOpt = Annotated[
    Entitlement | None,
    typer.Option("--entitlement", help="Assume this iOS entitlement is granted."),
]
PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform",
        help="onnxruntime platform to plan for: linux-x86_64 (default without a device), "
        "linux-arm64, android-arm64, ios-arm64, macos-arm64, windows-arm64, or an arm64 one "
        "with -nodotprod (CPU without the dot-product extension); a Linux one with -fixedheap "
        "(glibc's mmap threshold fixed, as measure --fixed-heap runs). With --device: the "
        "device's.",
    ),
]
OrtVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--ort-version",
        help="onnxruntime version to plan for (default: the newest measured, 1.32).",
    ),
]
CalibrationOpt = Annotated[
    Path | None,
    typer.Option(
        "--calibration",
        help="Calibration file from `planner measure --calibration-out` (fixed terms measured "
        "on your own hardware).",
    ),
]
RamFractionOpt = Annotated[
    float,
    typer.Option("--ram-fraction", min=0.05, max=1.0, help="Fraction of RAM the model may use."),
]


def plan_request(
    model: Path,
    *,
    devices: list[str] | None = None,
    runtime: RuntimeChoice | None = None,
    quantization: str | None = None,
    context: int | None = None,
    prefill: int | None = None,
    batch: int = 1,
    kv_dtype: str | None = None,
    sliding_window: int | None = None,
    attention_sink: int | None = None,
    draft: Path | None = None,
    entitlement: Entitlement | None = None,
    ram_fraction: float = DEFAULT_RAM_FRACTION,
    profiles: list[Path] | None = None,
    adapter: str | None = None,
    platform: str | None = None,
    ort_version: str | None = None,
    calibration: Path | None = None,
) -> PlanRequest:
    """The request the parsed options describe (values are validated downstream; a calibration
    file is read here)."""
    from planner.calibration import load_calibration
    from planner.request import PlanRequest

    return PlanRequest(
        model=model,
        runtime=Runtime(runtime.value) if runtime is not None else None,
        quantization=quantization,
        context=context,
        prefill=prefill,
        batch=batch,
        kv_dtype=kv_dtype,
        sliding_window=sliding_window,
        attention_sink=attention_sink,
        draft=draft,
        devices=tuple(devices or ()),
        profile_dirs=tuple(profiles or ()),
        options=CheckOptions(ram_fraction=ram_fraction, entitlement=entitlement is not None),
        adapter=adapter,
        label=str(model),
        platform=_checked_platform(platform),
        runtime_version=_checked_version(ort_version),
        calibration=load_calibration(calibration) if calibration is not None else None,
    )


def _checked_platform(key: str | None) -> str | None:
    from planner.runtimes.onnxruntime.platforms import platform

    return None if key is None else platform(key).key


def _checked_version(version: str | None) -> str | None:
    from planner.runtimes.onnxruntime.versions import parse_version

    if version is not None:
        parse_version(version)
    return version
