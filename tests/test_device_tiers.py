"""Device tiers: any device by its facts (``android:6GB``), the sourced tier rules behind it, and
named profiles as "a tier plus what is known better".

Real bundled profiles are loaded through the real loader; the CLI is run as a user runs it.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from planner.checks import CheckOptions, run_checks
from planner.device import DeviceProfile
from planner.device_loader import load_profiles, parse_profile
from planner.device_tiers import (
    ANDROID_ANCHORS,
    ANDROID_ERAS,
    GIB,
    IPAD_TIERS,
    IPHONE_TIERS,
    LIMIT_FIELDS,
    MIB,
    SOC_FAMILIES,
    TIER_FIELDS,
    DeviceQuery,
    android_budget,
    ios_limits,
    metal_working_set,
    mlc_engine_memory,
    parse_device_query,
    parse_ram,
    query_for_profile,
    query_from_options,
    resolve_device,
    tier_profile,
    tier_values,
)
from planner.errors import ExitCode, ProfileError, UsageError
from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "hf-llama-3.2-1b"


@pytest.fixture(scope="module")
def bundled() -> tuple[DeviceProfile, ...]:
    return load_profiles()


def planner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100", "PLANNER_QUIET": ""},
        check=False,
    )


# --------------------------------------------------------------------------------------------
# Parsing tier strings


@pytest.mark.parametrize(
    ("text", "os", "ram"),
    [
        ("android:6GB", "android", 6 * GIB),
        ("ios:4GB", "ios", 4 * GIB),
        ("linux:8GB", "linux", 8 * GIB),
        ("ANDROID : 6 gb", "android", 6 * GIB),
        ("android:6", "android", 6 * GIB),
        ("android:5.5GB", "android", 5632 * MIB),
        ("android:6144MB", "android", 6 * GIB),
        ("ipad:8GiB", "ipados", 8 * GIB),
        ("iphone:12G", "ios", 12 * GIB),
        ("mac:1TB", "macos", 1024 * GIB),
    ],
)
def test_parse_tier_strings(text: str, os: str, ram: int) -> None:
    q = parse_device_query(text)
    assert (q.os, q.ram_bytes) == (os, ram)
    assert parse_device_query(q.tier_id) == q, "the canonical spelling parses back"


def test_parse_options() -> None:
    q = parse_device_query("android:8GB,soc=SD8G2,android=14,gpu-memory=5.5GB")
    assert q.soc_family == "snapdragon-8-gen-2"  # an alias, any case
    assert q.android_version == 14
    assert q.gpu_memory_bytes == 5632 * MIB
    assert q.tier_id == "android:8GB,soc=snapdragon-8-gen-2,gpu-memory=5.5GB,android=14"
    assert parse_device_query("linux:8GB,gpu-api=cuda").gpu_api == "cuda"


def test_query_from_separate_options() -> None:
    q = query_from_options("android", "6GB", soc="dimensity-1080", android_version=14)
    assert q == parse_device_query("android:6GB,soc=dimensity-1080,android=14")
    with pytest.raises(UsageError):
        query_from_options("android", "six")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("android:", "missing RAM"),
        ("android:6XB", "not a size"),
        ("android:six", "not a size"),
        ("androd:6GB", "unknown OS"),
        (":6GB", "unknown OS"),
        ("android:0GB", "out of range"),
        ("android:9000GB", "out of range"),
        ("android:6GB,soc=snapdragon-9", "unknown SoC family"),
        ("android:6GB,soc", "not KEY=VALUE"),
        ("android:6GB,colour=red", "unknown option"),
        ("android:6GB,soc=sd8g2,soc=sd8g3", "given twice"),
        ("ios:4GB,android=14", "only applies to os android"),
        ("android:6GB,android=fourteen", "not a major version"),
        ("android:6GB,gpu-api=directx", "unknown GPU API"),
        ("android:6GB,gpu-memory=lots", "not a size"),
    ],
)
def test_bad_tier_strings(text: str, words: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_device_query(text)
    error = info.value
    assert words in error.message
    assert error.exit_code == ExitCode.USAGE == 2
    assert "\n" not in error.one_line() and "expected OS:RAM" in error.message
    assert error.hint is None, "one line: the syntax is in the message itself"


def test_close_soc_family_names_are_suggested() -> None:
    with pytest.raises(UsageError, match="did you mean snapdragon-8-gen-"):
        parse_device_query("android:8GB,soc=snapdragon-8-gen-5")
    assert parse_device_query("android:8GB,soc=Snapdragon 8 Gen2").soc_family == (
        "snapdragon-8-gen-2"
    ), "spelling-insensitive, like device names"


def test_parse_ram() -> None:
    assert parse_ram("8GB") == parse_ram("8 gib") == parse_ram("8192MB") == 8 * GIB
    with pytest.raises(UsageError, match="--min-ram"):
        parse_ram("eight", "--min-ram")


# --------------------------------------------------------------------------------------------
# The rules


def test_every_rule_number_is_sourced_and_marked() -> None:
    for tier in (*IPHONE_TIERS, *IPAD_TIERS):
        for value in (tier.limit, tier.entitled):
            assert value.source and value.estimate and value.note.startswith("[E]")
        assert tier.limit.value <= tier.entitled.value <= tier.ram_gib * GIB
    for ram_gib, evidence in ANDROID_ANCHORS:
        budget = android_budget(ram_gib * GIB)
        assert budget.estimate and evidence in budget.source
        assert "lmkd" in budget.source and "docs/devices.md" in budget.source
    for family in SOC_FAMILIES.values():
        assert family.bandwidth is not None and family.bandwidth.source
        tags = re.findall(r"\[([SDLE])", family.bandwidth.note)
        assert tags, family.key
        assert family.bandwidth.estimate == bool(set(tags) & {"L", "E"}), family.key
        assert family.decode_efficiency.source


def test_ios_limits_grow_with_ram_and_never_drop_with_the_entitlement() -> None:
    for os in ("ios", "ipados"):
        previous = (0, 0)
        for ram_mib in range(1024, 64 * 1024 + 1, 512):
            limit, entitled = ios_limits(os, ram_mib * MIB)  # type: ignore[arg-type]
            assert entitled.value >= limit.value
            assert limit.value < ram_mib * MIB
            assert (limit.value, entitled.value) >= previous
            previous = (limit.value, entitled.value)


def test_ios_tiers_between_anchors_are_interpolated_estimates() -> None:
    at4 = ios_limits("ios", 4 * GIB)[0]
    at6 = ios_limits("ios", 6 * GIB)[0]
    at5 = ios_limits("ios", 5 * GIB)[0]
    assert at4.value < at5.value < at6.value
    assert "interpolated between the 4 and 6 GB tiers" in at5.note and at5.estimate
    above = ios_limits("ios", 16 * GIB)[0]
    assert above.value == ios_limits("ios", 12 * GIB)[0].value and "largest known" in above.note


def test_iphone_tiers_match_the_field_reports() -> None:
    # MLC maintainer: a 4 GB iPhone leaves about 2 GB to an app (mlc-ai/mlc-llm#1141).
    assert 1.9 * GIB < ios_limits("ios", 4 * GIB)[0].value < 2.1 * GIB
    # 6 GB: jetsam limit 2867 MB (iPhone 14 Pro Max); with the entitlement ~4 GB.
    limit6, ent6 = ios_limits("ios", 6 * GIB)
    assert limit6.value == 2867 * MIB and ent6.value == 4 * 10**9
    # 8 and 12 GB iPhones: the default limit barely grows (3341 / 3342 MB).
    assert abs(ios_limits("ios", 8 * GIB)[0].value - ios_limits("ios", 12 * GIB)[0].value) <= MIB


def test_android_budget_rule() -> None:
    values = [android_budget(g * GIB).value for g in (2, 3, 4, 6, 8, 12, 16, 24, 32)]
    assert values == sorted(values) and len(set(values)) == len(values)
    at8 = android_budget(8 * GIB).value
    # MLC's engine fills 0.85 x 5 GiB of OpenCL buffers on Android (planner's total at a full
    # pool: 4362 MiB) with models it ships for 8 GB phones, which ran; a Galaxy S21 (8 GB) held
    # ~5.5 GB (mlc-ai/mlc-llm#3270): the 8 GB budget lies between.
    assert 4362 * MIB < at8 < 5.1 * GIB
    assert 2.5 * GIB < android_budget(6 * GIB).value < 3 * GIB  # A34, Pixel 6a reports
    assert 6 * GIB < android_budget(12 * GIB).value < 7 * GIB  # MNN#4435: 6-7 GB "available"


def test_android_versions() -> None:
    assert [e.first for e in ANDROID_ERAS] == [1, 10, 11, 17]
    base = android_budget(8 * GIB)
    for version in (9, 10, 14, 16, 17):
        budget = android_budget(8 * GIB, version)
        assert budget.value == base.value, "no field report separates the versions (yet)"
        assert f"Android {version}" in budget.note
    assert "Memory Limiter" not in android_budget(8 * GIB, 16).source
    assert "memory-limiter" in android_budget(8 * GIB, 17).source
    assert "undocumented memory.high" in android_budget(8 * GIB, 17).note
    assert "Android 11-16 assumed" in base.note


def test_metal_working_set_rule() -> None:
    assert abs(metal_working_set(8 * GIB).value - 5461.34 * MIB) < MIB  # llama.cpp#6861
    assert metal_working_set(48 * GIB).value == 36 * GIB  # 3/4 above 36 GB (M3 Max log)


def test_mlc_engine_memory_per_api() -> None:
    floor = mlc_engine_memory("opencl", 8 * GIB, None, None)
    assert floor is not None and floor.value == 5 * GIB and floor.estimate
    assert round(0.85 * floor.value / MIB) == 4352  # mlc-ai/mlc-llm#2703
    bigger = mlc_engine_memory("opencl", 12 * GIB, 5603 * MIB, None)
    assert bigger is not None and bigger.value == 5603 * MIB and not bigger.estimate
    smaller = mlc_engine_memory("opencl", 12 * GIB, 3 * GIB, None)
    assert smaller is not None and smaller.value == 5 * GIB
    metal = metal_working_set(8 * GIB)
    from_metal = mlc_engine_memory("metal", 8 * GIB, None, metal)
    assert from_metal is not None and from_metal.value == metal.value
    cuda = mlc_engine_memory("cuda", 8 * GIB, None, None)
    assert cuda is not None and cuda.value == 8 * GIB and cuda.estimate
    assert mlc_engine_memory("cpu", 8 * GIB, None, None) is None


# --------------------------------------------------------------------------------------------
# Tier profiles


def test_tier_profiles(bundled: tuple[DeviceProfile, ...]) -> None:
    android = resolve_device("android:6GB", bundled)
    assert android.id == android.tier == "android:6GB"
    assert android.android_foreground_budget_bytes is not None
    assert android.mlc_device == "android" and android.gpu_api == "opencl"
    assert android.ram_bytes.value == 6 * GIB and not android.ram_bytes.estimate
    ios = resolve_device("ios:4GB", bundled)
    assert ios.ios_app_limit_bytes is not None and ios.ios_app_limit_entitled_bytes is not None
    assert ios.mlc_device == "iphone"
    linux = resolve_device("linux:8GB", bundled)
    assert linux.gpu_api == "cpu" and linux.mlc_device is None
    board = resolve_device("linux:8GB,soc=orin-nano", bundled)
    assert board.gpu_api == "cuda" and board.mem_bandwidth_bytes_per_s is not None
    for p in (android, ios, linux, board):
        for name, value in p.numbers():
            assert value.source, name
            if name != "ram_bytes" and name != "decode_efficiency":
                assert value.estimate or name == "mem_bandwidth_bytes_per_s", name


def test_tier_profile_fields_are_all_from_the_tier() -> None:
    p = tier_profile(DeviceQuery(os="android", ram_bytes=8 * GIB, soc_family="tensor-g4"))
    assert set(p.from_tier) == {
        "mem_bandwidth_bytes_per_s",
        "android_foreground_budget_bytes",
        "mlc_engine_memory_bytes",
        "decode_efficiency",
    }
    assert set(p.from_tier) <= set(TIER_FIELDS)


def test_each_tier_across_every_os_builds(bundled: tuple[DeviceProfile, ...]) -> None:
    for os, gib in itertools.product(
        ("android", "ios", "ipados", "macos", "linux", "windows"), (2, 3, 4, 6, 8, 12, 16, 24, 64)
    ):
        p = resolve_device(f"{os}:{gib}GB", bundled)
        for name, value in p.numbers():
            values = value.value if isinstance(value.value, tuple) else (value.value,)
            assert all(v > 0 for v in values), (p.id, name)
        for limit in (p.ios_app_limit_bytes, p.android_foreground_budget_bytes):
            assert limit is None or limit.value < p.ram_bytes.value


# --------------------------------------------------------------------------------------------
# Named profiles: a tier plus what is known better


def test_at_least_100_named_profiles(bundled: tuple[DeviceProfile, ...]) -> None:
    assert len(bundled) >= 100
    by_os = {os: sum(p.os == os for p in bundled) for os in ("android", "ios", "ipados")}
    assert by_os["android"] >= 40 and by_os["ios"] >= 30 and by_os["ipados"] >= 12


def test_every_profile_number_has_a_source_or_a_marked_estimate(
    bundled: tuple[DeviceProfile, ...],
) -> None:
    for p in bundled:
        for name, value in p.numbers():
            assert value.source.strip(), f"{p.id}.{name}"
            if value.estimate:
                basis = value.note + " " + value.source
                assert re.search(r"\[[ELU]|estimate|assum|inferr?|planner|default|leak", basis), (
                    f"{p.id}.{name}: an estimate must say its basis"
                )


def test_profiles_name_their_tier(bundled: tuple[DeviceProfile, ...]) -> None:
    for p in bundled:
        assert p.tier == query_for_profile(p).tier_id
        assert p.tier.startswith(f"{p.os}:")
        assert set(p.from_tier) <= set(TIER_FIELDS)
        if p.soc_family is not None:
            assert p.soc_family in SOC_FAMILIES


def test_own_numbers_are_device_evidence(bundled: tuple[DeviceProfile, ...]) -> None:
    """A limit a bundled profile gives itself (instead of its tier's) is stated or measured for
    that device: that is "the profile says why not"."""
    for p in bundled:
        # The tier's numbers for this device (a Metal engine figure follows the profile's own
        # measured working set, as MLC takes recommendedMaxWorkingSetSize).
        tier = tier_values(query_for_profile(p), p.gpu_api, p.metal_working_set_bytes)
        for name in LIMIT_FIELDS:
            own = getattr(p, name)
            if name in p.from_tier:
                assert own == tier[name], f"{p.id}.{name} differs from its tier"
            elif own is not None:
                assert not own.estimate, f"{p.id}.{name}: an estimate must come from the tier"


def _budgets(spec_of: Callable[[str], ModelSpec]) -> list[tuple[str, object]]:
    out = []
    for model, quant, context in (
        ("qwen2.5-0.5b", "q4f16_1", 4096),
        ("llama-3.2-1b", "q4f16_1", 4096),
        ("phi-3.5-mini", "q4f16_1", 4096),
        ("gemma-2-2b", "q4f16_1", 2048),
        ("llama-2-7b", "q4f16_1", 768),
        ("llama-3.1-8b", "q4f16_1", 4096),
    ):
        settings = RuntimeSettings(Runtime.MLC, quantization=quant, context=context)
        out.append((f"{model} mlc", estimate(spec_of(model), settings)))
    settings = RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4", context=2048)
    out.append(("llama-3.2-1b ort", estimate(spec_of("llama-3.2-1b"), settings)))
    return out


def _verdicts(budget: object, device: DeviceProfile) -> list[tuple[str, str]]:
    out = []
    for entitlement in (False, True):
        checks = run_checks(budget, device, CheckOptions(entitlement=entitlement))  # type: ignore[arg-type]
        out += [(c.id, c.status.value) for c in checks]
    return out


def test_named_profile_verdict_equals_its_tier(
    bundled: tuple[DeviceProfile, ...], spec_of: Callable[[str], ModelSpec]
) -> None:
    """Where every limit comes from the tier, the verdict is the tier's, check by check."""
    budgets = _budgets(spec_of)
    compared = 0
    for p in bundled:
        if not all(f in p.from_tier or getattr(p, f) is None for f in LIMIT_FIELDS):
            continue
        tier = tier_profile(query_for_profile(p))
        for label, budget in budgets:
            assert _verdicts(budget, p) == _verdicts(budget, tier), (p.id, label)
        compared += 1
    assert compared >= 80


@pytest.mark.parametrize("phone", ["galaxy-a34-6gb", "pixel-6a", "poco-x3-pro-6gb"])
def test_named_6gb_phones_equal_android_6gb(
    bundled: tuple[DeviceProfile, ...], spec_of: Callable[[str], ModelSpec], phone: str
) -> None:
    named = resolve_device(phone, bundled)
    tier = resolve_device("android:6GB", bundled)
    assert named.ram_bytes.value == 6 * GIB
    assert named.android_foreground_budget_bytes == replace(
        tier.android_foreground_budget_bytes,  # type: ignore[type-var]
        note=named.android_foreground_budget_bytes.note,  # type: ignore[union-attr]
        source=named.android_foreground_budget_bytes.source,  # type: ignore[union-attr]
    )
    for label, budget in _budgets(spec_of):
        assert _verdicts(budget, named) == _verdicts(budget, tier), label


def test_field_report_verdicts(
    bundled: tuple[DeviceProfile, ...], spec_of: Callable[[str], ModelSpec]
) -> None:
    """The reports the Android rule was calibrated on come out the way they went."""
    mistral = estimate(
        spec_of("mistral-7b-v0.3"),
        RuntimeSettings(
            Runtime.MLC, quantization="q4f16_1", context=768, prefill=256, sliding_window=768
        ),
    )
    phi2ish = estimate(
        spec_of("gemma-2-2b"), RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=1024)
    )

    def lmk(device: str, budget: object) -> str:
        checks = run_checks(budget, resolve_device(device, bundled), CheckOptions())  # type: ignore[arg-type]
        return next(c.status.value for c in checks if c.id == "android-lmk")

    # MLC's Android package ships Mistral-7B for 8 GB phones; 6 GB phones crash on 7B
    # (mlc-ai/mlc-llm#1777, #714); ~2 GB models run there.
    assert lmk("galaxy-s23", mistral) == "pass"
    assert lmk("android:8GB", mistral) == "pass"
    assert lmk("galaxy-a34-6gb", mistral) == "fail"
    assert lmk("galaxy-a34-6gb", phi2ish) == "pass"


# --------------------------------------------------------------------------------------------
# Loader: new keys


VALID = """\
schema_version: 1
id: my-phone
name: My Phone
vendor: Example
os: android
soc: Example SoC
soc_family: snapdragon-8-gen-2
android_version: 14
ram:
  value: 8 GiB
  source: "example.com spec sheet"
gpu: Adreno 740
gpu_api: opencl
mlc_device: android:adreno
"""


def test_user_profile_gets_its_tier() -> None:
    p = parse_profile(VALID, "mine.yaml")
    assert p.tier == "android:8GB,soc=snapdragon-8-gen-2,android=14"
    assert p.android_foreground_budget_bytes == android_budget(8 * GIB, 14)
    assert p.mem_bandwidth_bytes_per_s == SOC_FAMILIES["snapdragon-8-gen-2"].bandwidth
    assert p.decode_efficiency == SOC_FAMILIES["snapdragon-8-gen-2"].decode_efficiency
    assert "android_foreground_budget_bytes" in p.from_tier


def test_user_profile_own_number_wins() -> None:
    text = VALID + 'android_foreground_budget:\n  value: 5 GB\n  source: "own test"\n'
    p = parse_profile(text, "mine.yaml")
    assert p.android_foreground_budget_bytes is not None
    assert p.android_foreground_budget_bytes.value == 5 * 10**9
    assert "android_foreground_budget_bytes" not in p.from_tier


def test_profile_without_new_keys_still_loads() -> None:
    text = VALID.replace("soc_family: snapdragon-8-gen-2\n", "").replace(
        "android_version: 14\n", ""
    )
    p = parse_profile(text, "old.yaml")
    assert p.soc_family is None and p.android_version is None
    assert p.tier == "android:8GB" and p.mem_bandwidth_bytes_per_s is None


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("soc_family: snapdragon-8-gen-2", "soc_family: snapdragon-8-gen-5", "did you mean"),
        ("soc_family: snapdragon-8-gen-2", "soc_family: nope", "unknown soc_family"),
        ("android_version: 14", "android_version: fourteen", "must be an integer"),
        ("os: android", "os: ios", "only allowed with os android"),
    ],
)
def test_new_keys_are_strict(tmp_path: Path, old: str, new: str, words: str) -> None:
    text = VALID.replace(old, new)
    folder = tmp_path / "p"
    folder.mkdir()
    path = folder / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profiles([folder])
    assert words in info.value.message
    assert info.value.path == str(path)
    assert re.match(r"line \d+:", info.value.message)


# --------------------------------------------------------------------------------------------
# CLI


def test_cli_check_with_tiers() -> None:
    result = planner("check", str(EXAMPLE), "-d", "android:6GB", "-d", "ios:4GB", "-f", "json")
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    ids = [d["device"]["id"] for d in data["results"][0]["devices"]]
    assert ids == ["android:6GB", "ios:4GB"]


def test_cli_bad_tier_is_a_one_line_usage_error() -> None:
    result = planner("check", str(EXAMPLE), "-d", "android:6XB")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad device tier 'android:6XB'")
    assert result.stdout == ""


def test_cli_devices_show_tier() -> None:
    result = planner("devices", "show", "android:8GB,soc=sd8g3")
    assert result.returncode == 0, result.stderr
    assert "android_foreground_budget" in result.stdout and "[estimate]" in result.stdout
    assert "android:8GB,soc=snapdragon-8-gen-3" in result.stdout


def test_docs_show_the_rules_as_coded() -> None:
    """docs/devices.md has the derivation; its tables must say what the code does."""
    text = (REPO / "docs" / "devices.md").read_text(encoding="utf-8")
    for ram_gib, _ in ANDROID_ANCHORS:
        mib = android_budget(ram_gib * GIB).value // MIB
        assert f"| {ram_gib} GB | {mib:,} MiB |" in text, ram_gib
    for tier in IPHONE_TIERS:
        assert f"| {tier.ram_gib} GB | {tier.limit.value // MIB:,} MiB |" in text
    for key in SOC_FAMILIES:
        assert f"`{key}`" in text or key.startswith(("tensor-g", "exynos-", "a1", "m")), key
    assert f"{len(load_profiles())} profiles" in text
