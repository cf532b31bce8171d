"""``planner devices``: list the device profiles, or show one with the source of every number."""

from __future__ import annotations

from typing import Annotated

import typer

from planner.cli.options import FormatOpt, ProfilesOpt, TextOrJson
from planner.cli.output import guarded

devices_app = typer.Typer(
    help="List device profiles or show one with its sources.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@devices_app.callback(invoke_without_command=True)
@guarded
def devices_list(
    ctx: typer.Context,
    profiles: ProfilesOpt = None,
    format: FormatOpt = TextOrJson.text,
) -> None:
    """List every device profile (bundled and --profiles)."""
    if ctx.invoked_subcommand is not None:
        return
    from planner import api
    from planner.render.dicts import SCHEMA_VERSION, device_dict, dumps

    found = api.profiles(list(profiles or []))
    if format is TextOrJson.json:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "kind": "devices",
            "devices": [device_dict(d) for d in found],
        }
        typer.echo(dumps(doc), nl=False)
        return
    for d in found:
        aliases = f"  (aliases: {', '.join(d.aliases)})" if d.aliases else ""
        typer.echo(f"{d.id:<26}{d.name:<34}{d.os:<8}{d.ram_bytes.value / 2**30:>5.0f} GiB{aliases}")


@devices_app.command("show")
@guarded
def devices_show(
    device_id: Annotated[str, typer.Argument(metavar="ID", help="Device id or alias.")],
    profiles: ProfilesOpt = None,
    format: FormatOpt = TextOrJson.text,
) -> None:
    """Show one profile with the source of every number."""
    from planner import api
    from planner.device import describe, profile_dict, resolve_device
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
