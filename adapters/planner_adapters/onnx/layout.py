"""Which ONNX layout a path is, and which files belong to it.

Four layouts: a single ``.onnx`` file (its weights inside it or in external data files), an
onnxruntime-genai folder (``genai_config.json`` names the decoder), an Optimum export folder
(``model.onnx`` / ``decoder_model_merged.onnx`` … plus an optional ``config.json``), or a folder
holding exactly one ``.onnx`` file. Every file the layout names — configs and the model itself,
however it was found — must resolve inside the model folder (``planner.io.contain``: the
Hugging Face hub cache's links into ``blobs/`` are accepted, anything else leaving the folder
is refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, InputError
from planner.io.contain import ModelFolder
from planner.io.jsonio import read_json_object
from planner_adapters._values import opt_dict, opt_str
from planner_adapters.onnx.configs import GENAI_CONFIG

OPTIMUM_NAMES = (
    "model.onnx",
    "decoder_model_merged.onnx",
    "decoder_with_past_model.onnx",
    "decoder_model.onnx",
)
"""Optimum decoder file names, in the order planner prefers them (merged/with-past files
carry the KV-cache inputs; plain ``decoder_model.onnx`` recomputes attention)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The files of one ONNX artifact (configs as parsed JSON, not yet checked)."""

    kind: str
    """``genai``, ``optimum`` or ``onnx``."""
    folder: Path
    model_path: Path | None
    """The decoder graph; None for a genai ``config_only`` package."""
    name: str
    genai: dict[str, Any] | None = None
    genai_path: Path | None = None
    hf: dict[str, Any] | None = None
    hf_path: Path | None = None

    @property
    def format(self) -> str:
        """The spec's ``format``: ``onnx-genai``, ``onnx-optimum`` or ``onnx``."""
        return {"genai": "onnx-genai", "optimum": "onnx-optimum"}.get(self.kind, "onnx")


def is_file(path: Path) -> bool:
    """``path.is_file()``, False on any OS error."""
    try:
        return path.is_file()
    except OSError:
        return False


def sniff(path: Path) -> int:
    """Score ``path``: .onnx files, genai folders and Optimum export folders."""
    try:
        if path.suffix.lower() == ".onnx" and not path.is_dir():
            return 90
        if not path.is_dir():
            return 0
        if is_file(path / GENAI_CONFIG):
            return 95
        if any(is_file(path / n) for n in OPTIMUM_NAMES):
            return 85
        onnx_files = [p for p in path.iterdir() if p.suffix.lower() == ".onnx"]
        return 40 if len(onnx_files) == 1 else 0
    except OSError:
        return 0


def read_genai(contain: ModelFolder) -> tuple[dict[str, Any], Path]:
    """genai_config.json of the model folder and its path."""
    cfg_path = contain.resolve(GENAI_CONFIG, "file")
    return read_json_object(cfg_path, GENAI_CONFIG), cfg_path


def genai_filename(cfg: dict[str, Any], cfg_path: Path) -> str:
    """The decoder file genai_config.json names (``model.onnx`` when it names none)."""
    model = opt_dict(cfg, "model", cfg_path, what=GENAI_CONFIG)
    if model is None:
        raise ArtifactFormatError(f"{GENAI_CONFIG} has no 'model' section", path=str(cfg_path))
    decoder = opt_dict(model, "decoder", cfg_path, what="genai_config.json model")
    if decoder is None:
        raise ArtifactFormatError(
            f"{GENAI_CONFIG} has no 'model.decoder' section (multi-model pipelines and "
            "encoder-only packages are not supported)",
            path=str(cfg_path),
        )
    filename = opt_str(decoder, "filename", cfg_path, what="genai_config.json model.decoder")
    return filename or "model.onnx"


def read_hf(contain: ModelFolder) -> tuple[dict[str, Any] | None, Path | None]:
    """config.json of an Optimum folder, when there is one."""
    cfg_path = contain.folder / "config.json"
    if not (cfg_path.exists() or cfg_path.is_symlink()):
        return None, None
    cfg_path = contain.resolve("config.json", "file")
    return read_json_object(cfg_path, "config.json"), cfg_path


def locate(path: Path) -> Layout:
    """Work out which layout ``path`` is and which files belong to it."""
    if path.is_dir():
        return _locate_folder(ModelFolder.of(path))
    folder = path.parent
    contain = ModelFolder.of(folder)
    model = contain.resolve(path.name, "ONNX model")
    if is_file(folder / GENAI_CONFIG):
        cfg, cfg_path = read_genai(contain)
        if genai_filename(cfg, cfg_path) == path.name:
            return Layout("genai", folder, model, folder.resolve().name, cfg, cfg_path)
    if path.name in OPTIMUM_NAMES and is_file(folder / "config.json"):
        hf, hf_path = read_hf(contain)
        return Layout("optimum", folder, model, folder.resolve().name, hf=hf, hf_path=hf_path)
    return Layout("onnx", folder, model, path.stem)


def _locate_folder(contain: ModelFolder) -> Layout:
    folder = contain.folder
    name = contain.real.name
    if is_file(folder / GENAI_CONFIG) or (folder / GENAI_CONFIG).exists():
        cfg, cfg_path = read_genai(contain)
        filename = genai_filename(cfg, cfg_path)
        model_path = contain.resolve(filename, "model.decoder.filename", referrer=cfg_path)
        found: Path | None = model_path
        if not model_path.exists() and not model_path.is_symlink():
            if any(p.suffix.lower() == ".onnx" for p in folder.iterdir()):
                raise ArtifactFormatError(
                    f"model.decoder.filename {filename!r} does not exist in the folder",
                    path=str(cfg_path),
                )
            found = None  # config_only build: no model file
        return Layout("genai", folder, found, name, cfg, cfg_path)
    for candidate in OPTIMUM_NAMES:
        if (folder / candidate).exists() or (folder / candidate).is_symlink():
            model = contain.resolve(candidate, "ONNX model")
            hf, hf_path = read_hf(contain)
            return Layout("optimum", folder, model, name, hf=hf, hf_path=hf_path)
    onnx_files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".onnx")
    if len(onnx_files) == 1:
        model = contain.resolve(onnx_files[0].name, "ONNX model")
        return Layout("onnx", folder, model, onnx_files[0].stem)
    if not onnx_files:
        raise InputError("the folder holds no .onnx model", path=str(folder))
    raise InputError(
        "the folder holds several .onnx files and no genai_config.json; point at one file",
        path=str(folder),
    )
