"""Device profiles: the bundled data, name resolution, and the strict profile schema.

Bad profiles are written as real YAML files in ``tmp_path`` and loaded through the same
functions the CLI uses; every error must be a ``ProfileError`` naming the file and the line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.device import (
    DeviceProfile,
    describe,
    family_members,
    normalize_name,
    profile_dict,
)
from planner.device_loader import (
    MAX_PROFILE_BYTES,
    load_bundled_profiles,
    load_profile_dir,
    load_profiles,
    parse_profile,
)
from planner.device_tiers import resolve_device
from planner.errors import PlannerError, ProfileError, UnknownDeviceError

GIB = 1024**3
MIB = 1024**2

VALID = """\
schema_version: 1
id: test-phone
name: Test Phone
vendor: Example
os: android
soc: Example SoC
aliases: [tp1]
families: [testfam]
ram:
  value: 8 GiB
  source: "example.com spec sheet"
  estimate: false
gpu: Example GPU
gpu_api: opencl
mlc_device: android
android_foreground_budget:
  value: 3.5 GB
  source: "own measurement"
  estimate: true
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


def load_error(tmp_path: Path, text: str, name: str = "bad.yaml") -> tuple[ProfileError, Path]:
    path = write(tmp_path / "profiles", name, text)
    with pytest.raises(ProfileError) as info:
        load_profiles([path.parent])
    return info.value, path


# --------------------------------------------------------------------------------------------
# Bundled profiles


@pytest.fixture(scope="module")
def bundled() -> tuple[DeviceProfile, ...]:
    return load_profiles()


def test_bundled_profiles_load(bundled: tuple[DeviceProfile, ...]) -> None:
    assert len(bundled) >= 25
    ids = [p.id for p in bundled]
    assert len(ids) == len(set(ids))
    for profile in bundled:
        assert profile.bundled
        assert Path(profile.source_path).stem == profile.id, "one file per device, named by id"
        assert profile.vendor and profile.soc and profile.gpu


def test_bundled_profiles_cover_the_requested_devices(bundled: tuple[DeviceProfile, ...]) -> None:
    ids = {p.id for p in bundled}
    for generation in range(6, 10):
        assert f"pixel-{generation}" in ids
    assert any(i.startswith("pixel-10") for i in ids)
    for model in ("s23", "s24", "s25"):
        assert any(i.startswith(f"galaxy-{model}") for i in ids)
    assert any(i.startswith("oneplus-") for i in ids)
    assert any(i.startswith("xiaomi-") for i in ids)
    for generation in range(12, 18):
        assert f"iphone-{generation}" in ids
    assert "iphone-17-pro" in ids
    assert any(i.startswith("ipad-pro-m4") for i in ids)
    assert any(i.startswith("raspberry-pi-5") for i in ids)
    assert any(i.startswith("jetson-orin-nano") for i in ids)
    assert any(i.startswith("macbook-air-m") for i in ids)
    assert any(i.startswith("snapdragon-x") for i in ids)


def test_every_number_has_a_source(bundled: tuple[DeviceProfile, ...]) -> None:
    for profile in bundled:
        numbers = dict(profile.numbers())
        assert "ram_bytes" in numbers and "decode_efficiency" in numbers
        for field, sourced in numbers.items():
            assert sourced.source.strip(), f"{profile.id}.{field} has no source"
            values = sourced.value if isinstance(sourced.value, tuple) else (sourced.value,)
            assert all(v > 0 for v in values), f"{profile.id}.{field}"


def test_basis_tags_agree_with_estimate_flags(bundled: tuple[DeviceProfile, ...]) -> None:
    # The research tags values [S]tated, [D]erived, [L]eak, [E]stimate, [U]nsourced; the
    # profiles copy the tag into the note, and the estimate flag must follow it.
    tagged = 0
    for profile in bundled:
        for field, sourced in profile.numbers():
            tags = set(re.findall(r"\[([SDLEU])(?:/[SDLEU])?\]", sourced.note))
            if not tags:
                continue
            tagged += 1
            expect = bool(tags & {"L", "E", "U"})
            assert sourced.estimate == expect, f"{profile.id}.{field}: {sourced.note}"
    assert tagged >= 25


def test_platform_fields(bundled: tuple[DeviceProfile, ...]) -> None:
    for p in bundled:
        ram = p.ram_bytes.value
        if p.ram_variants_bytes is not None:
            assert ram in p.ram_variants_bytes.value
        if p.os == "ios":
            assert p.ios_app_limit_bytes is not None, p.id
            assert p.ios_app_limit_entitled_bytes is not None, p.id
            assert p.ios_app_limit_bytes.value <= p.ios_app_limit_entitled_bytes.value <= ram
            assert p.mlc_device == "iphone"
        if p.gpu_api == "metal":
            assert p.metal_working_set_bytes is not None, p.id
            assert p.metal_working_set_bytes.value < ram
            # MLC's Metal engine takes recommendedMaxWorkingSetSize as device memory.
            assert p.mlc_engine_memory_bytes is not None
            assert p.mlc_engine_memory_bytes.value == p.metal_working_set_bytes.value
        if p.os == "android":
            assert p.android_foreground_budget_bytes is not None, p.id
            assert p.android_foreground_budget_bytes.estimate
            assert p.android_foreground_budget_bytes.value < ram
            assert p.android_background_note
            assert p.gpu_api == "opencl"
            assert p.mlc_engine_memory_bytes is not None
        else:
            assert p.android_foreground_budget_bytes is None
        assert 0 < p.decode_efficiency.value <= 1


def test_android_mlc_engine_memory_is_the_opencl_floor(bundled: tuple[DeviceProfile, ...]) -> None:
    android = [p for p in bundled if p.os == "android"]
    assert android
    for p in android:
        engine = p.mlc_engine_memory_bytes
        assert engine is not None
        assert engine.value == 5 * GIB
        assert "mlc-ai/mlc-llm" in engine.source
        # 0.85 x the 5 GiB floor is the 4352 MB budget MLC logged on a Pixel 8 Pro.
        assert round(0.85 * engine.value / MIB) == 4352
    pixel = resolve_device("pixel-8-pro", bundled)
    assert pixel.mlc_engine_memory_bytes is not None
    assert not pixel.mlc_engine_memory_bytes.estimate  # observed on that phone
    assert "2703" in pixel.mlc_engine_memory_bytes.source


def test_describe_rows_carry_sources(bundled: tuple[DeviceProfile, ...]) -> None:
    for profile in bundled:
        rows = describe(profile)
        fields = [r.field for r in rows]
        assert fields[0] == "id" and "ram" in fields and "decode_efficiency" in fields
        numbers = dict(profile.numbers())
        for row in rows:
            key = {
                "ram": "ram_bytes",
                "ram_variants": "ram_variants_bytes",
                "mem_bandwidth": "mem_bandwidth_bytes_per_s",
                "ios_app_limit": "ios_app_limit_bytes",
                "ios_app_limit_entitled": "ios_app_limit_entitled_bytes",
                "metal_working_set": "metal_working_set_bytes",
                "android_foreground_budget": "android_foreground_budget_bytes",
                "mlc_engine_memory": "mlc_engine_memory_bytes",
                "decode_efficiency": "decode_efficiency",
            }.get(row.field)
            if key is None:
                continue
            sourced = numbers.get(key)
            if sourced is None:
                assert row.value == "unknown"
            else:
                assert row.source == sourced.source and row.estimate == sourced.estimate
        json.dumps(profile_dict(profile))  # JSON-ready


def test_describe_formats_units(bundled: tuple[DeviceProfile, ...]) -> None:
    rows = {r.field: r for r in describe(resolve_device("iphone-15-pro", bundled))}
    assert rows["ram"].value.startswith("8 GiB")
    assert rows["mem_bandwidth"].value.startswith("51.2 GB/s")


# --------------------------------------------------------------------------------------------
# Resolution


@pytest.mark.parametrize("spelling", ["pixel-8-pro", "Pixel 8 Pro", "PIXEL_8_PRO", "pixel8pro"])
def test_resolve_exact_id_any_spelling(bundled: tuple[DeviceProfile, ...], spelling: str) -> None:
    assert resolve_device(spelling, bundled).id == "pixel-8-pro"


def test_resolve_alias_and_display_name(bundled: tuple[DeviceProfile, ...]) -> None:
    for profile in bundled:
        for alias in profile.aliases:
            assert resolve_device(alias, bundled) is profile
        assert resolve_device(profile.name, bundled) is profile


def test_family_alias_resolves_to_documented_default(bundled: tuple[DeviceProfile, ...]) -> None:
    defaults = {f: p for p in bundled for f in p.default_for}
    assert {"pixel", "iphone", "galaxy", "pi5"} <= set(defaults)
    for family, profile in defaults.items():
        assert resolve_device(family, bundled) is profile
        assert profile in family_members(family, bundled)
    assert resolve_device("pixel", bundled).id.startswith("pixel-")
    assert resolve_device("iphone", bundled).id.startswith("iphone-")


def test_family_with_one_member_resolves(bundled: tuple[DeviceProfile, ...]) -> None:
    members = family_members("mac-mini", bundled)
    assert len(members) == 1
    assert resolve_device("mac-mini", bundled) is members[0]


# What every family and alias resolved to before the long tail was added (planner 0.1 bundle).
# Defaults are pinned: a newer profile joining a family does not take its default, so
# `--device pixel` in a CI job keeps meaning the same phone.
PINNED = {
    "pixel": "pixel-9",
    "pixel-pro": "pixel-10-pro",
    "galaxy": "galaxy-s24",
    "galaxy-ultra": "galaxy-s25-ultra",
    "iphone": "iphone-17",
    "iphone-pro": "iphone-17-pro",
    "ipad": "ipad-pro-m4-8gb",
    "ipad-pro": "ipad-pro-m4-8gb",
    "ipad-pro-m4": "ipad-pro-m4-8gb",
    "macbook-air": "macbook-air-m3-8gb",
    "macbook-air-m3": "macbook-air-m3-8gb",
    "macbook-air-m2": "macbook-air-m2-8gb",
    "raspberry-pi": "raspberry-pi-5-8gb",
    "raspberry-pi-5": "raspberry-pi-5-8gb",
    "pi5": "raspberry-pi-5-8gb",
    "rpi5": "raspberry-pi-5-8gb",
    "oneplus": "oneplus-12",
    "xiaomi": "xiaomi-14",
    "jetson": "jetson-orin-nano-8gb",
    "orin-nano": "jetson-orin-nano-8gb",
    "jetson-orin-nano": "jetson-orin-nano-8gb",
    "snapdragon-x": "snapdragon-x-elite-laptop",
    "x-elite": "snapdragon-x-elite-laptop",
    "snapdragon-x-elite": "snapdragon-x-elite-laptop",
    "s23": "galaxy-s23",
    "s23-ultra": "galaxy-s23-ultra",
    "s23u": "galaxy-s23-ultra",
    "s24": "galaxy-s24",
    "s24-ultra": "galaxy-s24-ultra",
    "s24u": "galaxy-s24-ultra",
    "s25-ultra": "galaxy-s25-ultra",
    "s25u": "galaxy-s25-ultra",
    "orin-nano-super": "jetson-orin-nano-8gb",
    "x1e-80-100": "snapdragon-x-elite-laptop",
    "x1e-84-100": "snapdragon-x-elite-laptop",
}


@pytest.mark.parametrize(("name", "target"), sorted(PINNED.items()))
def test_names_keep_resolving_as_before(
    bundled: tuple[DeviceProfile, ...], name: str, target: str
) -> None:
    assert resolve_device(name, bundled).id == target


def test_ambiguous_family_lists_candidates(bundled: tuple[DeviceProfile, ...]) -> None:
    members = family_members("snapdragon-8-gen-3", bundled)
    assert len(members) > 1 and not any("snapdragon-8-gen-3" in p.default_for for p in members)
    with pytest.raises(UnknownDeviceError) as info:
        resolve_device("snapdragon-8-gen-3", bundled)
    assert "ambiguous" in info.value.message
    for member in members:
        assert member.id in info.value.message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(("typo", "meant"), [("pixle-8", "pixel-8"), ("iphnoe-15", "iphone-15")])
def test_unknown_device_suggests_close_names(
    bundled: tuple[DeviceProfile, ...], typo: str, meant: str
) -> None:
    with pytest.raises(UnknownDeviceError) as info:
        resolve_device(typo, bundled)
    assert "unknown device" in info.value.message
    assert meant in info.value.message


def test_unknown_and_empty_names(bundled: tuple[DeviceProfile, ...]) -> None:
    with pytest.raises(UnknownDeviceError) as info:
        resolve_device("zzzz-qqqq", bundled)
    assert "did you mean" not in info.value.message
    with pytest.raises(UnknownDeviceError):
        resolve_device("  - ", bundled)


# --------------------------------------------------------------------------------------------
# User profiles


def test_user_dir_profile_loads_and_resolves(
    tmp_path: Path, bundled: tuple[DeviceProfile, ...]
) -> None:
    path = write(tmp_path / "mine", "test-phone.yaml", VALID)
    profiles = load_profiles([path.parent])
    assert len(profiles) == len(bundled) + 1
    mine = resolve_device("test-phone", profiles)
    assert not mine.bundled and mine.source_path == str(path)
    assert mine.ram_bytes.value == 8 * GIB
    assert mine.android_foreground_budget_bytes is not None
    assert mine.android_foreground_budget_bytes.value == 3_500_000_000
    assert resolve_device("tp1", profiles) is mine
    assert resolve_device("testfam", profiles) is mine  # single-member family
    # Without a decode_efficiency the default is used and marked as an estimate.
    assert mine.decode_efficiency.estimate and mine.decode_efficiency.source


def test_single_file_may_be_given(tmp_path: Path) -> None:
    path = write(tmp_path, "one.yaml", VALID)
    assert [p.id for p in load_profile_dir(path)] == ["test-phone"]


def test_user_default_takes_over_a_bundled_family(tmp_path: Path) -> None:
    text = VALID.replace("families: [testfam]", "families: [pixel]\ndefault_for: [pixel]")
    profiles = load_profiles([write(tmp_path / "p", "mine.yaml", text).parent])
    assert resolve_device("pixel", profiles).id == "test-phone"
    assert sum("pixel" in p.default_for for p in profiles) == 1


def test_user_profile_cannot_silently_replace_bundled(tmp_path: Path) -> None:
    text = VALID.replace("id: test-phone", "id: pixel-8").replace("aliases: [tp1]", "")
    error, path = load_error(tmp_path, text)
    assert error.path == str(path)
    assert "pixel-8" in error.message and "overrides" in error.message


def test_user_profile_overrides_bundled(tmp_path: Path, bundled: tuple[DeviceProfile, ...]) -> None:
    text = (
        VALID.replace("id: test-phone", "id: pixel-8").replace("aliases: [tp1]", "")
        + "overrides: true\n"
    )
    profiles = load_profiles([write(tmp_path / "p", "pixel-8.yaml", text).parent])
    assert len(profiles) == len(bundled)
    replaced = resolve_device("pixel-8", profiles)
    assert not replaced.bundled and replaced.name == "Test Phone"


def test_overrides_without_target_is_an_error(tmp_path: Path) -> None:
    error, _ = load_error(tmp_path, VALID + "overrides: true\n")
    assert "no earlier profile" in error.message


def test_duplicate_id_in_one_folder(tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    write(folder, "a.yaml", VALID)
    second = write(folder, "b.yaml", VALID.replace("aliases: [tp1]", ""))
    with pytest.raises(ProfileError) as info:
        load_profiles([folder])
    assert info.value.path == str(second)
    assert "duplicate device id 'test-phone'" in info.value.message
    assert "a.yaml" in info.value.message


def test_alias_clash_with_bundled_id(tmp_path: Path) -> None:
    error, _ = load_error(tmp_path, VALID.replace("aliases: [tp1]", "aliases: [Pixel 8]"))
    assert "clashes" in error.message and "pixel-8" in error.message


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        load_profiles([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProfileError, match=r"no \*\.yaml"):
        load_profiles([tmp_path / "empty"])


# --------------------------------------------------------------------------------------------
# Strict schema: each error names the file and the line


def assert_at(error: ProfileError, path: Path, line: int) -> None:
    assert error.path == str(path)
    assert error.message.startswith(f"line {line}:"), error.message
    assert error.one_line().startswith(f"{path}: line {line}:")
    assert error.exit_code == 3


def test_unknown_top_level_key(tmp_path: Path) -> None:
    text = VALID.replace("gpu: Example GPU", "gpu: Example GPU\nrma: 8 GiB")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "rma:"))
    assert "unknown key 'rma'" in error.message


def test_unknown_key_inside_sourced_value(tmp_path: Path) -> None:
    text = VALID.replace('  source: "example.com spec sheet"', '  sorce: "example.com spec sheet"')
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "sorce:"))
    assert "did you mean 'source'" in error.message


@pytest.mark.parametrize(
    ("old", "new", "needle", "words"),
    [
        ("value: 8 GiB", "value: true", "value: true", "integer number of bytes"),
        ("value: 8 GiB", "value: 8.5", "value: 8.5", "integer number of bytes"),
        ("value: 8 GiB", "value: 8 KB", "value: 8 KB", "use one of"),
        ("value: 8 GiB", "value: eight gigs", "value: eight gigs", "not a size"),
        ("gpu_api: opencl", "gpu_api: directx", "gpu_api:", "must be one of"),
        ("name: Test Phone", "name: 2023", "name:", "must be a string"),
        ("soc: Example SoC", "soc: Example SoC\nyear: '2023'", "year:", "must be an integer"),
        ("estimate: false", "estimate: maybe", "estimate: maybe", "true or false"),
        ("mlc_device: android", "mlc_device: android:mali", "mlc_device:", "must be one of"),
    ],
)
def test_wrong_types(tmp_path: Path, old: str, new: str, needle: str, words: str) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, needle))
    assert words in error.message


@pytest.mark.parametrize("value", ["-8 GiB", "-1", "0", "0 MiB"])
def test_non_positive_ram(tmp_path: Path, value: str) -> None:
    text = VALID.replace("value: 8 GiB", f"value: {value}")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, f"value: {value}"))
    assert "positive" in error.message


def test_missing_source(tmp_path: Path) -> None:
    text = VALID.replace('  source: "example.com spec sheet"\n', "")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "value: 8 GiB"))
    assert "missing required key 'source'" in error.message


def test_empty_source(tmp_path: Path) -> None:
    text = VALID.replace('source: "example.com spec sheet"', 'source: "  "')
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, 'source: "  "'))


def test_bare_number_without_source(tmp_path: Path) -> None:
    text = re.sub(r"ram:\n(  .*\n)+", "ram: 8 GiB\n", VALID)
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "ram: 8 GiB"))
    assert "every number needs a source" in error.message


def test_missing_required_key(tmp_path: Path) -> None:
    text = VALID.replace("vendor: Example\n", "")
    error, path = load_error(tmp_path, text)
    assert "missing required key 'vendor'" in error.message
    assert error.path == str(path)


def test_python_tags_are_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]'
    text = VALID.replace("name: Test Phone", f"name: {payload}")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "name:"))
    assert "unsupported YAML tag" in error.message
    assert not marker.exists()


@pytest.mark.parametrize(
    "tagged",
    ["!!python/name:os.system", "!!binary aGVsbG8=", "!custom thing", "!!timestamp 2024-01-01"],
)
def test_other_tags_are_refused(tmp_path: Path, tagged: str) -> None:
    text = VALID.replace("soc: Example SoC", f"soc: {tagged}")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "soc:"))


def test_unquoted_date_is_not_a_string(tmp_path: Path) -> None:
    text = VALID.replace("soc: Example SoC", "soc: 2024-01-01")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "soc:"))


def test_platform_only_fields(tmp_path: Path) -> None:
    text = VALID + 'ios_app_limit:\n  value: 3 GiB\n  source: "x"\n'
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "ios_app_limit:"))
    assert "only allowed with os ios or ipados" in error.message


def test_limit_above_ram(tmp_path: Path) -> None:
    text = VALID.replace("value: 3.5 GB", "value: 9 GiB")
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "android_foreground_budget:"))


def test_default_for_must_name_a_family(tmp_path: Path) -> None:
    text = VALID + "default_for: [otherfam]\n"
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "default_for:"))


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = VALID + "gpu: Other GPU\n"
    error, path = load_error(tmp_path, text)
    assert_at(error, path, len(text.splitlines()))
    assert "duplicate key 'gpu'" in error.message


def test_anchors_and_aliases_are_refused(tmp_path: Path) -> None:
    text = VALID.replace("name: Test Phone", "name: &n Test Phone").replace(
        "vendor: Example", "vendor: *n"
    )
    error, path = load_error(tmp_path, text)
    assert_at(error, path, line_of(text, "vendor: *n"))


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    text = VALID.replace("gpu: Example GPU", "gpu: [unclosed")
    error, path = load_error(tmp_path, text)
    assert error.path == str(path)
    assert re.match(r"line \d+: invalid YAML", error.message)


def test_deep_nesting_is_a_profile_error(tmp_path: Path) -> None:
    error, _ = load_error(tmp_path, "notes: " + "[" * 800)
    assert "nested too deeply" in error.message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    error, path = load_error(tmp_path, "- just\n- a list\n")
    assert_at(error, path, 1)


def test_empty_and_binary_files(tmp_path: Path) -> None:
    error, _ = load_error(tmp_path, "", "empty.yaml")
    assert "empty" in error.message
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "x.yaml").write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_profiles([folder])


def test_size_limit(tmp_path: Path) -> None:
    text = VALID + "notes:\n" + '  - "x"\n' * (MAX_PROFILE_BYTES // 8 + 1)
    error, _ = load_error(tmp_path, text)
    assert "larger than" in error.message


def test_units_are_parsed_exactly() -> None:
    text = (
        VALID.replace("value: 8 GiB", "value: 8589934592")
        + 'mem_bandwidth:\n  value: 51.2 GB/s\n  source: "x"\n'
        + 'mlc_engine_memory:\n  value: 5461.34 MiB\n  source: "y"\n  estimate: true\n'
    )
    profile = parse_profile(text, "inline.yaml")
    assert profile.ram_bytes.value == 8 * GIB
    assert profile.mem_bandwidth_bytes_per_s is not None
    assert profile.mem_bandwidth_bytes_per_s.value == 51_200_000_000
    assert profile.mlc_engine_memory_bytes is not None
    assert profile.mlc_engine_memory_bytes.value == round(5461.34 * MIB)
    assert profile.mlc_engine_memory_bytes.estimate


def test_bundled_cannot_set_overrides() -> None:
    with pytest.raises(ProfileError, match="bundled profiles cannot set overrides"):
        parse_profile(VALID + "overrides: true\n", "bundled.yaml", bundled=True)


def test_bundled_cache_is_stable() -> None:
    assert load_bundled_profiles() is load_bundled_profiles()


def test_normalize_name() -> None:
    assert normalize_name("  Galaxy S24 Ultra ") == "galaxy-s24-ultra"
    assert normalize_name("x1e_80--100") == "x1e-80-100"


# --------------------------------------------------------------------------------------------
# Robustness: whatever the document, only ProfileError (or a valid profile) comes out

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
_keys = st.sampled_from(
    ["id", "name", "vendor", "os", "soc", "ram", "gpu", "gpu_api", "year", "aliases", "families"]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_keys | st.text(max_size=6), _json, max_size=8))
def test_random_documents_raise_only_profile_errors(document: dict[str, object]) -> None:
    text = yaml.safe_dump(document)
    try:
        parse_profile(text, "fuzz.yaml")
    except ProfileError:
        pass


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_random_text_raises_only_profile_errors(text: str) -> None:
    try:
        parse_profile(text, "fuzz.yaml")
    except PlannerError as error:
        assert isinstance(error, ProfileError)


def test_readme_example_is_a_valid_profile(tmp_path: Path) -> None:
    readme = Path(__file__).resolve().parents[1] / "device_profiles" / "README.md"
    text = readme.read_text(encoding="utf-8")
    example = text.split("Example (`my-profiles/nothing-phone-2.yaml`):", 1)[1]
    block = example.split("```yaml\n", 1)[1].split("```", 1)[0]
    profiles = load_profiles(
        [write(tmp_path / "my-profiles", "nothing-phone-2.yaml", block).parent]
    )
    mine = resolve_device("nothing-phone-2", profiles)
    assert mine.tier == "android:12GB,soc=snapdragon-8-gen-1,android=14"
    assert "android_foreground_budget_bytes" in mine.from_tier
    assert all(s.source for _, s in mine.numbers())
    # It joins the bundled SoC family without taking a default; its own family resolves to it.
    assert mine in family_members("snapdragon-8-gen-1", profiles)
    assert resolve_device("nothing", profiles) is mine
