"""Hugging Face Hub ids (``org/name[@revision]``, ``HF://org/name``) as local folders.

planner plans from the small files only: ``config.json`` (and any other ``*.json`` config a
folder adapter reads, e.g. MLC's ``mlc-chat-config.json`` and ``tensor-cache.json``) and the
*headers* of the safetensors shards, fetched with HTTP range reads of their first bytes. Each
shard is stored as a sparse file of its real size holding only the header, so the Hugging Face
adapter reads it exactly like a local download (no weight byte is fetched or written).

Everything goes through ``huggingface_hub`` (its endpoint, token, offline mode and proxies):
``HfApi.model_info`` for the revision's commit and file list, ``hf_hub_download`` for the
small files, its HTTP session for the range reads. Results are cached per commit under
``$PLANNER_HUB_CACHE`` (default ``~/.cache/planner/hub``); with ``HF_HUB_OFFLINE=1`` or
without network the newest cached copy of that id and revision is used. Sizes announced by a
server are untrusted: header lengths and file counts are bounded.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import InputError, MissingDependencyError, UnsafeArtifactError
from planner.spec import ModelSpec

HUB_ID = re.compile(
    r"^(?:HF://)?(?P<repo>[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95})"
    r"(?:@(?P<rev>[A-Za-z0-9][A-Za-z0-9._/-]{0,127}))?$"
)
SMALL_FILES = re.compile(
    r"^(config\.json|generation_config\.json|mlc-chat-config\.json|tensor-cache\.json|"
    r"ndarray-cache\.json|genai_config\.json|model\.safetensors\.index\.json|"
    r"quantize_config\.json|quant_config\.json)$"
)
"""Files planner fetches whole (configs and indexes; each bounded by MAX_SMALL_FILE)."""
MAX_HEADER_BYTES = 100 * 1024 * 1024
"""safetensors headers above this are refused (the format's own readers cap at 100 MB)."""
MAX_SMALL_FILE = 64 * 1024 * 1024
MAX_SHARDS = 10_000
INSTALL_HINT = "pip install 'mlc-planner[hub]'  (adds huggingface_hub)"


@dataclass(frozen=True, slots=True)
class HubId:
    """A parsed hub id."""

    repo: str
    revision: str | None = None

    @property
    def label(self) -> str:
        """As the user would write it."""
        return self.repo + (f"@{self.revision}" if self.revision else "")


def parse_hub_id(text: str) -> HubId | None:
    """``org/name[@rev]`` or ``HF://org/name[@rev]`` → HubId; None when it is not one.

    A path that exists locally is never a hub id, and neither is anything starting with ``.``,
    ``/`` or ``~``.
    """
    if text.startswith((".", "/", "~")) or Path(text).exists():
        return None
    m = HUB_ID.match(text)
    if m is None or ".." in text:
        return None
    return HubId(m.group("repo"), m.group("rev"))


def cache_root() -> Path:
    """Where fetched configs and headers are kept."""
    env = os.environ.get("PLANNER_HUB_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "planner" / "hub"


def _hub(label: str = "") -> Any:
    try:
        huggingface_hub = importlib.import_module("huggingface_hub")
    except ImportError:
        what = f"{label} is no local file or folder; reading it as a " if label else "reading a "
        raise MissingDependencyError(
            f"{what}Hugging Face Hub id needs huggingface_hub, which is not installed",
            hint=INSTALL_HINT,
        ) from None
    return huggingface_hub


def _offline(hub: Any) -> bool:
    constants = getattr(hub, "constants", None)
    return bool(getattr(constants, "HF_HUB_OFFLINE", False)) or os.environ.get(
        "HF_HUB_OFFLINE", ""
    ).lower() in ("1", "true", "yes", "on")


def _folder(hid: HubId, commit: str) -> Path:
    return cache_root() / hid.repo.replace("/", "--") / commit


def _cached(hid: HubId) -> Path | None:
    ref = cache_root() / hid.repo.replace("/", "--") / "refs" / (hid.revision or "main")
    try:
        commit = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    folder = _folder(hid, commit)
    return folder if (folder / ".complete").is_file() else None


def _range(hub: Any, url: str, start: int, end: int) -> tuple[bytes, int | None]:
    """Bytes [start, end] of a remote file and its total size (from Content-Range).

    Streamed and capped: a server that ignores ``Range`` and sends a whole (large) file is
    read only up to ``end`` and then cut off, never buffered whole.
    """
    headers = dict(hub.utils.build_hf_headers())
    headers["Range"] = f"bytes={start}-{end}"
    session = hub.utils.get_session()
    want = end - start + 1
    chunks: list[bytes] = []
    got = 0
    with _stream(session, url, headers) as resp:
        hub.utils.hf_raise_for_status(resp)
        ranged = resp.status_code == 206
        skip = 0 if ranged else start
        limit = want + skip
        for chunk in _chunks(resp):
            chunks.append(chunk)
            got += len(chunk)
            if got >= limit:
                break
        crange = resp.headers.get("Content-Range", "")
        length = resp.headers.get("Content-Length", "")
    data = b"".join(chunks)[skip : skip + want]
    m = re.match(r"bytes \d+-\d+/(\d+)$", crange)
    total = int(m.group(1)) if m else None
    if total is None and not ranged and length.isdigit():
        total = int(length)
    return data, total


def _stream(session: Any, url: str, headers: dict[str, str]) -> Any:
    if hasattr(session, "stream"):  # httpx-style client (huggingface_hub >= 1.0)
        return session.stream("GET", url, headers=headers, follow_redirects=True, timeout=30)
    resp = session.get(url, headers=headers, stream=True, timeout=30)  # requests-style
    return contextlib.closing(resp)


def _chunks(resp: Any) -> Any:
    if hasattr(resp, "iter_bytes"):
        return resp.iter_bytes()
    return resp.iter_content(chunk_size=65536)


def _fetch_header(hub: Any, hid: HubId, commit: str, name: str, dest: Path) -> None:
    """Write ``name`` as a sparse file of its real size holding only its safetensors header."""
    url = hub.hf_hub_url(hid.repo, name, revision=commit)
    head, total = _range(hub, url, 0, 7)
    if len(head) != 8:
        raise UnsafeArtifactError(f"{hid.label}: {name} is shorter than a safetensors header")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER_BYTES:
        raise UnsafeArtifactError(
            f"{hid.label}: {name} declares a {n:,}-byte header (limit {MAX_HEADER_BYTES:,})"
        )
    if total is not None and 8 + n > total:
        raise UnsafeArtifactError(f"{hid.label}: {name} header runs past the end of the file")
    body, _ = _range(hub, url, 8, 8 + n - 1) if n else (b"", None)
    if len(body) != n:
        raise UnsafeArtifactError(f"{hid.label}: {name}: the server sent a short header")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as fh:
        fh.write(head + body)
        fh.truncate(max(total or 0, 8 + n))  # sparse: the real size, no weight bytes


def fetch(hid: HubId) -> Path:
    """A local folder for ``hid`` holding its configs and safetensors headers (cached)."""
    hub = _hub(hid.label)
    if _offline(hub):
        found = _cached(hid)
        if found is None:
            raise InputError(
                f"{hid.label} is no local file or folder, and not in planner's hub cache "
                "(HF_HUB_OFFLINE is set)",
                hint="run once online, or download the repository and pass its folder",
            )
        return found
    try:
        info = hub.HfApi().model_info(hid.repo, revision=hid.revision)
    except Exception as exc:
        found = _cached(hid)
        if found is not None:
            return found  # offline or unreachable: the cached copy of this id and revision
        raise InputError(
            f"{hid.label} is no local file or folder, and the Hugging Face Hub cannot give it: "
            + str(exc).splitlines()[0][:300]
        ) from None
    commit = str(info.sha or hid.revision or "main")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,128}", commit):
        raise UnsafeArtifactError(f"{hid.label}: the server gave an invalid commit {commit!r}")
    folder = _folder(hid, commit)
    if not (folder / ".complete").is_file():
        _download(hub, hid, commit, [s.rfilename for s in (info.siblings or [])], folder)
    ref = cache_root() / hid.repo.replace("/", "--") / "refs" / (hid.revision or "main")
    ref.parent.mkdir(parents=True, exist_ok=True)
    ref.write_text(commit, encoding="utf-8")
    return folder


def _download(hub: Any, hid: HubId, commit: str, names: list[str], folder: Path) -> None:
    top = [n for n in names if "/" not in n and not n.startswith(".")]
    if len(top) > MAX_SHARDS:
        raise UnsafeArtifactError(f"{hid.label} lists more than {MAX_SHARDS} files")
    small = [n for n in top if SMALL_FILES.match(n)]
    if not any(n in ("config.json", "mlc-chat-config.json") for n in small):
        raise InputError(f"{hid.label} has no config.json or mlc-chat-config.json")
    folder.mkdir(parents=True, exist_ok=True)
    for name in small:
        url = hub.hf_hub_url(hid.repo, name, revision=commit)
        data, total = _range(hub, url, 0, MAX_SMALL_FILE)
        if total is not None and total > MAX_SMALL_FILE:
            raise UnsafeArtifactError(f"{hid.label}: {name} is over {MAX_SMALL_FILE:,} bytes")
        (folder / name).write_bytes(data)
    shards = [n for n in top if n.endswith(".safetensors")]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        try:
            mapped = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (ValueError, KeyError, TypeError, AttributeError):
            mapped = set()
        shards = [n for n in shards if n in mapped] or shards
    for name in shards:
        _fetch_header(hub, hid, commit, name, folder / name)
    (folder / ".complete").write_text(f"{hid.label}\n", encoding="utf-8")


def read_hub_model(hid: HubId, read: Callable[[Path], ModelSpec]) -> ModelSpec:
    """Read a hub id with ``read`` (the adapter registry) from its fetched folder; the spec's
    source is the hub id, so emitted commands never point at the header-only cache."""
    spec = read(fetch(hid))
    return spec.with_changes(
        source=hid.label,
        name=hid.repo.split("/", 1)[1],
        extra=(*spec.extra, ("hub_id", hid.label)),
        notes=(
            *spec.notes,
            f"read from the Hugging Face Hub ({hid.label}): config files and safetensors "
            "headers only",
        ),
    )


def local_path(text: str) -> Path:
    """The model argument as a local folder: a path as given, or a fetched hub id."""
    hid = parse_hub_id(text)
    if hid is None:
        return Path(text)
    return fetch(hid)


def download_command(label: str, local_dir: str) -> list[str]:
    """The ``hf download`` argv that puts a hub id's full files (weights too) in a folder."""
    repo, _, rev = label.partition("@")
    argv = ["hf", "download", repo]
    if rev:
        argv += ["--revision", rev]
    return [*argv, "--local-dir", local_dir]
