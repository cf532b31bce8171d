"""Adapter plugins: the ``Adapter`` protocol and discovery through entry points.

Adapters register in the ``planner.adapters`` entry-point group; the built-in ONNX, MLC and
Hugging Face adapters register there too, so third parties use the very same contract. The
right adapter for a path is the one whose ``sniff`` gives the highest score. Every adapter is
loaded to sniff, so an adapter's entry-point module stays light and imports its reader in
``read`` (``planner_adapters.onnx``, ``mlc_adapter``, ``hf_adapter``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from planner.entrypoints import entry_points
from planner.errors import InputError, PlannerError, UnsupportedArtifactError, UsageError
from planner.spec import ModelSpec

ENTRY_POINT_GROUP = "planner.adapters"


@runtime_checkable
class Adapter(Protocol):
    """What an adapter plugin provides. Instances are created with no arguments."""

    name: str
    """Short name used with ``--adapter`` and shown in reports."""

    def sniff(self, path: Path) -> int:
        """How sure this adapter is that it can read ``path``: 0 (no) to 100 (certain).

        Must be cheap (look at names and at most a few bytes) and must not raise.
        """
        ...

    def read(self, path: Path) -> ModelSpec:
        """Read the artifact at ``path`` into a spec, without loading weight bytes.

        Raises ``planner.errors.InputError`` subclasses on bad input.
        """
        ...


@dataclass(frozen=True, slots=True)
class AdapterEntry:
    """A discovered adapter: its entry-point name and where it comes from."""

    name: str
    value: str


def discover() -> tuple[AdapterEntry, ...]:
    """Every adapter registered in the entry-point group, sorted by name."""
    found = {ep.name: ep.value for ep in entry_points(ENTRY_POINT_GROUP)}
    return tuple(AdapterEntry(n, v) for n, v in sorted(found.items()))


def load_adapters() -> list[Adapter]:
    """Instantiate every registered adapter. A broken plugin is an error naming it."""
    adapters: list[Adapter] = []
    for ep in sorted(entry_points(ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
            adapter = cls()
        except Exception as exc:  # a third-party plugin failing to import is reported, not fatal
            raise PlannerError(
                f"adapter plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                hint="uninstall or fix the plugin package",
            ) from exc
        if not isinstance(adapter, Adapter):
            raise PlannerError(f"adapter plugin {ep.name!r} does not implement sniff() and read()")
        adapters.append(adapter)
    return adapters


def choose(path: Path, adapters: list[Adapter], forced: str | None = None) -> Adapter:
    """Pick the adapter for ``path``: the one named by ``forced``, else the best sniffer."""
    if forced is not None:
        for adapter in adapters:
            if adapter.name == forced:
                return adapter
        names = ", ".join(a.name for a in adapters)
        raise UsageError(f"unknown adapter {forced!r}; installed adapters: {names}")
    scored = sorted(((a.sniff(path), a.name, a) for a in adapters), key=lambda t: (-t[0], t[1]))
    if not scored or scored[0][0] <= 0:
        raise UnsupportedArtifactError(
            "no adapter recognises this path",
            path=str(path),
            hint="point at a .onnx file, an onnxruntime-genai or Optimum folder, an MLC folder "
            "(mlc-chat-config.json) or a Hugging Face folder (config.json)",
        )
    return scored[0][2]


def read_model(path: Path, forced: str | None = None) -> ModelSpec:
    """Read ``path`` with the right adapter. The one entry point the CLI uses."""
    if not path.exists() and not path.is_symlink():
        from planner.hub import parse_hub_id, read_hub_model

        hid = parse_hub_id(str(path))
        if hid is not None:  # org/name[@revision]: configs and headers through huggingface_hub
            return read_hub_model(hid, lambda folder: read_model(folder, forced))
        raise InputError("no such file or folder", path=str(path))
    adapter = choose(path, load_adapters(), forced)
    return adapter.read(path)
