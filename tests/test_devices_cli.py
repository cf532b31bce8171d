"""``planner devices``: a table whose columns never run together, the names that resolve to
profiles, filters, and JSON that validates against the documented schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from planner.device import name_table
from planner.device_loader import load_profiles
from planner.render.devices_table import render_devices_text
from planner.render.terminal import TextStyle

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "src" / "planner" / "schemas"


def planner(*args: str, columns: int = 100) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": str(columns)},
        check=False,
    )


def table_rows(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines()
    end = lines.index("")
    return lines[0], lines[1:end]


@pytest.mark.parametrize("columns", [72, 100, 160])
def test_columns_never_run_together(columns: int) -> None:
    result = planner("devices", columns=columns)
    assert result.returncode == 0, result.stderr
    header, rows = table_rows(result.stdout)
    assert header.split() == ["ID", "NAME", "OS", "RAM", "SOC", "FAMILY"]
    starts = [header.index(h) for h in ("ID", "NAME", "OS", "RAM", "SOC FAMILY")]
    profiles = load_profiles()
    assert len(rows) == len(profiles)
    for row, profile in zip(rows, profiles, strict=True):
        assert len(row) <= columns
        # Every cell starts at its column, after at least two spaces (right-aligned RAM aside).
        assert row[: starts[1]].rstrip() == profile.id
        assert row[starts[1] - 2 : starts[1]] == "  "
        assert row[starts[2] - 2 : starts[2]] == "  "
        assert row[starts[2] :].split()[0] == profile.os
        assert row[starts[4] - 2 : starts[4]] == "  "
        family = row[starts[4] :].strip()
        assert family == (profile.soc_family or "-") or (
            family.endswith("…") and (profile.soc_family or "").startswith(family[:-1])
        )


def test_long_names_are_shortened_not_merged() -> None:
    profiles = load_profiles()
    text = render_devices_text(profiles, name_table(profiles), TextStyle(width=72))
    header, rows = table_rows(text)
    name_at, os_at = header.index("NAME"), header.index("OS")
    for row, p in zip(rows, profiles, strict=True):
        cell = row[name_at:os_at].rstrip()
        assert cell == p.name or (cell.endswith("…") and p.name.startswith(cell[:-1]))


def test_aliases_and_families_show_what_they_resolve_to() -> None:
    out = planner("devices").stdout
    section = out.split("Names that resolve to a profile", 1)[1]
    lines = {line.split()[0]: line.split() for line in section.splitlines()[2:] if line.strip()}
    assert lines["pixel"][:3] == ["pixel", "family", "pixel-9"]
    assert lines["s23"][:3] == ["s23", "alias", "galaxy-s23"]
    assert lines["iphone"][2] == "iphone-17"
    assert "snapdragon-8-gen-3" in out.split("Families without a default", 1)[1]
    assert "--device android:6GB" in out


def test_filters() -> None:
    ios = planner("devices", "--os", "ios", "--min-ram", "8GB")
    assert ios.returncode == 0
    _, rows = table_rows(ios.stdout)
    assert rows and all(" ios " in row for row in rows)
    ids = [row.split()[0] for row in rows]
    assert "iphone-15-pro" in ids and "iphone-15" not in ids
    assert "profiles match" in ios.stdout
    big = planner("devices", "--min-ram", "64GB", "-f", "json")
    data = json.loads(big.stdout)
    assert data["filters"] == {"os": None, "min_ram_bytes": 64 * 1024**3}
    assert all(d["ram_bytes"] >= 64 * 1024**3 for d in data["devices"])
    none = planner("devices", "--os", "windows", "--min-ram", "4TB")
    assert none.returncode == 0 and "no device profile matches" in none.stdout


def test_bad_filters_are_usage_errors() -> None:
    bad = planner("devices", "--min-ram", "lots")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --min-ram 'lots'")
    assert planner("devices", "--os", "beos").returncode == 2


def test_json_output_is_documented() -> None:
    result = planner("devices", "--format", "json")
    data = json.loads(result.stdout)
    assert data["schema_version"] == "1" and data["kind"] == "devices"
    schema = json.loads((SCHEMAS / "devices.schema.json").read_text())
    Draft202012Validator(schema).validate(data)
    by_name = {n["name"]: n for n in data["names"]}
    assert by_name["pixel"]["resolves_to"] == "pixel-9"
    assert by_name["snapdragon-8-gen-3"]["resolves_to"] is None
    assert len(by_name["snapdragon-8-gen-3"]["candidates"]) > 1
    entry = next(d for d in data["devices"] if d["id"] == "galaxy-a34-6gb")
    assert entry["tier"] == "android:6GB,soc=dimensity-1080,android=14"
    assert entry["soc_family"] == "dimensity-1080"


def test_show_json_of_a_tier_is_documented() -> None:
    result = planner("devices", "show", "ios:6GB", "--format", "json")
    data = json.loads(result.stdout)
    schema = json.loads((SCHEMAS / "device.schema.json").read_text())
    Draft202012Validator(schema).validate(data)
    assert data["device"]["tier"] == "ios:6GB"
    assert "ios_app_limit_bytes" in data["device"]["from_tier"]
