"""``planner devices``: list the device profiles (and the names that resolve to them), or show
one with the source of every number."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from planner.cli.options import FormatOpt, OutputOpt, ProfilesOpt, TextOrJson
from planner.cli.output import emit, guarded, text_style

devices_app = typer.Typer(
    help="List device profiles or show one with its sources.",
    no_args_is_help=False,
    invoke_without_command=True,
)


class OsChoice(str, Enum):
    """--os values of ``planner devices`` (planner.device.OS_NAMES)."""

    android = "android"
    ios = "ios"
    ipados = "ipados"
    macos = "macos"
    linux = "linux"
    windows = "windows"


@devices_app.callback(invoke_without_command=True)
@guarded
def devices_list(
    ctx: typer.Context,
    profiles: ProfilesOpt = None,
    os_name: Annotated[
        OsChoice | None, typer.Option("--os", help="Only profiles of this operating system.")
    ] = None,
    min_ram: Annotated[
        str | None,
        typer.Option("--min-ram", help="Only profiles with at least this RAM (e.g. 8GB)."),
    ] = None,
    format: FormatOpt = TextOrJson.text,
    output: OutputOpt = None,
) -> None:
    """List device profiles (bundled and --profiles) and the names that resolve to them."""
    if ctx.invoked_subcommand is not None:
        return
    from planner import api
    from planner.device import name_table
    from planner.device_tiers import parse_ram
    from planner.render.devices_table import (
        devices_dict,
        filter_names,
        filter_profiles,
        render_devices_text,
    )
    from planner.render.dicts import SCHEMA_VERSION, dumps

    found = api.profiles(list(profiles or []))
    min_bytes = parse_ram(min_ram, "--min-ram") if min_ram is not None else None
    os_value = os_name.value if os_name is not None else None
    shown = filter_profiles(found, os_value, min_bytes)
    names = filter_names(name_table(found), shown)
    if format is TextOrJson.json:
        body = devices_dict(shown, names, os=os_value, min_ram_bytes=min_bytes)
        emit(dumps({"schema_version": SCHEMA_VERSION, "kind": "devices", **body}), output)
        return
    filtered = os_value is not None or min_bytes is not None
    emit(render_devices_text(shown, names, text_style(output), filtered=filtered), output)


@devices_app.command("show")
@guarded
def devices_show(
    device_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="Device id, alias or family, or a tier such as android:6GB."
        ),
    ],
    profiles: ProfilesOpt = None,
    format: FormatOpt = TextOrJson.text,
) -> None:
    """Show one profile with the source of every number."""
    from planner import api
    from planner.device import describe, profile_dict
    from planner.device_tiers import resolve_device
    from planner.render.dicts import SCHEMA_VERSION, dumps

    d = resolve_device(device_id, api.profiles(list(profiles or [])))
    if format is TextOrJson.json:
        doc = {"schema_version": SCHEMA_VERSION, "kind": "device", "device": profile_dict(d)}
        typer.echo(dumps(doc), nl=False)
        return
    typer.echo(f"{d.name} ({d.id})")
    for row in describe(d):
        est = " [estimate]" if row.estimate else ""
        src = f"  — {row.source}" if row.source else ""
        typer.echo(f"  {row.field:<30}{row.value}{est}{src}")
