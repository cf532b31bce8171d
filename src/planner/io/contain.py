"""One folder-containment rule for every file an adapter reads.

A model is a folder (a file path stands for its folder). Every file read for it — the configs
and graph the adapter looks for itself, and every name written inside an artifact (shards,
external data, library members) — must resolve, symlinks followed, to a file inside that
folder. Names written inside an artifact are also checked as text first: no absolute paths,
no ``..``, no NUL, nothing longer than the file system allows.

One exception, the Hugging Face hub cache: in ``models--org--name/snapshots/<rev>/`` (or a
folder below it) files are symlinks into ``models--org--name/blobs/``. A file that resolves to
an entry directly inside that repository's ``blobs`` folder is accepted. Anything else leaving
the model folder is refused.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from planner.errors import UnsafeArtifactError

MAX_PATH_BYTES = 4096
"""Longest file name an artifact may give (Linux PATH_MAX; a component is at most 255)."""
HUB_REPO_PREFIXES = ("models--", "datasets--")


def _real(path: Path) -> Path:
    return path.resolve(strict=False)


def _hub_blobs(real_folder: Path) -> Path | None:
    """``<repo>/blobs`` (resolved) when ``real_folder`` sits in a hub-cache snapshot."""
    for ancestor in (real_folder, *real_folder.parents):
        snapshots = ancestor.parent
        repo = snapshots.parent
        if (
            snapshots.name == "snapshots"
            and repo.name.startswith(HUB_REPO_PREFIXES)
            and ancestor != snapshots
        ):
            return _real(repo / "blobs")
    return None


def check_name(name: str, what: str, shown: str) -> Path:
    """A file name written inside an artifact, checked as text: not empty, no NUL, not
    absolute, no ``..``, no longer than the file system allows. Returns it as a relative path."""
    if not name or "\x00" in name:
        raise UnsafeArtifactError(f"{what} has an empty or invalid file name", path=shown)
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:  # a lone surrogate from a JSON "\ud800" escape
        raise UnsafeArtifactError(f"{what} has an invalid file name {name!r}", path=shown) from None
    if len(encoded) > MAX_PATH_BYTES or any(len(part) > 255 for part in encoded.split(b"/")):
        raise UnsafeArtifactError(
            f"{what} names a path longer than the file system allows ({len(encoded)} bytes)",
            path=shown,
        )
    candidate = Path(name)
    if not candidate.parts:  # "." or "./": the folder itself
        raise UnsafeArtifactError(f"{what} {name!r} names the model folder, not a file", path=shown)
    if candidate.is_absolute() or name.startswith(("/", "\\")) or ":" in candidate.parts[0]:
        raise UnsafeArtifactError(
            f"{what} names an absolute path {name!r}; only files inside the model folder are read",
            path=shown,
        )
    if any(part == ".." for part in Path(name.replace("\\", "/")).parts):
        raise UnsafeArtifactError(
            f"{what} path {name!r} contains '..'; only files inside the model folder are read",
            path=shown,
        )
    return candidate


@dataclass(frozen=True, slots=True)
class ModelFolder:
    """The folder a model's files must stay in (see the module docstring)."""

    folder: Path
    """As given (relative stays relative), for the paths returned and shown."""
    real: Path
    """The folder with symlinks resolved."""
    blobs: Path | None
    """The hub cache's resolved ``blobs`` folder, when the model sits in a snapshot."""

    @classmethod
    def of(cls, folder: Path) -> ModelFolder:
        """The containment rule for ``folder`` (a hub-cache snapshot is recognised)."""
        try:
            real = folder.resolve(strict=True)
        except (OSError, RuntimeError):
            raise UnsafeArtifactError(
                "the model folder cannot be resolved (missing, or a symlink loop?)",
                path=str(folder),
            ) from None
        return cls(folder, real, _hub_blobs(real))

    def contains(self, real: Path) -> bool:
        """Whether a resolved path may be read for this model."""
        if real == self.real or self.real in real.parents:
            return True
        return self.blobs is not None and real.parent == self.blobs

    def resolve(self, name: str, what: str, *, referrer: Path | None = None) -> Path:
        """``folder / name`` for a name written inside an artifact (or a file the adapter looks
        for), refusing absolute names, ``..`` and symlinks that lead outside the folder."""
        shown = str(referrer) if referrer is not None else str(self.folder)
        candidate = check_name(name, what, shown)
        path = self.folder / candidate
        try:
            real = _real(path)
        except (OSError, RuntimeError):
            raise UnsafeArtifactError(
                f"{what} {name!r} cannot be resolved (symlink loop?)", path=shown
            ) from None
        if not self.contains(real):
            raise UnsafeArtifactError(
                f"{what} {name!r} resolves outside the model folder (through a symlink)",
                path=shown,
            )
        return path


def resolve_inside(root: Path, name: str, what: str, *, referrer: Path | None = None) -> Path:
    """``root / name``, refusing names and symlinks that leave ``root`` (hub-cache rule too)."""
    return ModelFolder.of(root).resolve(name, what, referrer=referrer)
