"""What ``HfAdapter.read`` runs: the Hugging Face folder reader (what it reads: ``hf_adapter``).

A module of its own so that discovering and sniffing adapters imports none of it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, UnsafeArtifactError
from planner.io.contain import ModelFolder
from planner.io.jsonio import read_json_object
from planner.spec import FieldSource, ModelSpec, WeightsInventory
from planner.text import sanitize_fields
from planner_adapters._inventory import (
    TensorFact,
    build_inventory,
    unpacked_params,
)
from planner_adapters._markers import CONFIG, INDEX, SINGLE, folder_of
from planner_adapters._safetensors import SafetensorsHeader, read_safetensors_header
from planner_adapters._values import Provenance
from planner_adapters.hf_config import spec_from_hf_config

_MAX_SHARDS = 10_000


def _merge(spec: ModelSpec, prov: Provenance) -> tuple[FieldSource, ...]:
    merged = {item.name: item for item in spec.provenance}
    merged.update({item.name: item for item in prov.freeze()})
    return tuple(merged[k] for k in sorted(merged))


class HfReader:
    """Reads a Hugging Face model folder (``config.json`` [+ safetensors])."""

    def read(self, path: Path) -> ModelSpec:
        """Read the folder (or the folder of a config/safetensors file)."""
        return sanitize_fields(self._read(path))  # artifact text made printable

    def _read(self, path: Path) -> ModelSpec:
        folder = folder_of(path)
        contain = ModelFolder.of(folder)
        cfg_path = contain.resolve(CONFIG, "file", referrer=folder)
        cfg = read_json_object(cfg_path, CONFIG)
        spec = spec_from_hf_config(
            cfg,
            source=str(path),
            path=cfg_path,
            fmt="hf",
            adapter="hf",
            name=folder.absolute().name,
        )
        notes = list(spec.notes)
        prov = Provenance()
        prov.assumed("settings", "a Hugging Face folder carries no runtime settings")
        prov.assumed("compiled_lib", "a Hugging Face folder has no compiled library")
        headers, detail = self._headers(contain, notes)
        if not headers:
            if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
                notes.append(
                    "PyTorch pickle weights (.bin/.pt) are not inspected; weights are "
                    "planned from the architecture"
                )
            notes.append("no safetensors weights in the folder: planning from config.json only")
            prov.assumed("weights", "config only: no safetensors files")
            return spec.with_changes(notes=tuple(notes), provenance=_merge(spec, prov))
        weights = self._inventory(headers, spec)
        prov.artifact("weights", detail)
        changes: dict[str, Any] = {"weights": weights}
        if spec.quantization.scheme is None:
            changes.update(self._stored_dtype(spec, weights, notes, prov))
        return spec.with_changes(**changes, notes=tuple(notes), provenance=_merge(spec, prov))

    @staticmethod
    def _headers(contain: ModelFolder, notes: list[str]) -> tuple[list[SafetensorsHeader], str]:
        folder = contain.folder
        index_path = contain.resolve(INDEX, "file", referrer=folder)
        if index_path.exists() or index_path.is_symlink():
            return HfReader._indexed(contain, index_path, notes)
        single = contain.resolve(SINGLE, "file", referrer=folder)
        if single.exists() or single.is_symlink():
            return [read_safetensors_header(single)], SINGLE
        names = sorted(p.name for p in folder.glob("model-*-of-*.safetensors"))
        if not names:
            names = sorted(p.name for p in folder.glob("*.safetensors"))
        if len(names) > _MAX_SHARDS:
            raise UnsafeArtifactError(
                f"more than {_MAX_SHARDS} safetensors files", path=str(folder)
            )
        if names:
            notes.append(f"no {INDEX}: read {len(names)} safetensors files found in the folder")
        headers = [
            read_safetensors_header(contain.resolve(n, "safetensors file", referrer=folder))
            for n in names
        ]
        return headers, f"{len(names)} safetensors headers"

    @staticmethod
    def _indexed(
        contain: ModelFolder, index_path: Path, notes: list[str]
    ) -> tuple[list[SafetensorsHeader], str]:
        index = read_json_object(index_path, INDEX)
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()
        ):
            raise ArtifactFormatError(
                f"{INDEX} needs a weight_map of tensor → file names", path=str(index_path)
            )
        files = sorted(set(weight_map.values()))
        if len(files) > _MAX_SHARDS:
            raise UnsafeArtifactError(
                f"{INDEX} names more than {_MAX_SHARDS} files", path=str(index_path)
            )
        paths = [contain.resolve(f, "safetensors shard", referrer=index_path) for f in files]
        present = [p for p in paths if p.exists() or p.is_symlink()]
        if not present:
            notes.append(f"{INDEX} names {len(files)} shards, none present (config-only download)")
            return [], ""
        if len(present) < len(paths):
            missing = next(f for f, p in zip(files, paths, strict=True) if p not in present)
            raise ArtifactFormatError(
                f"{INDEX} names shard {missing!r}, which is missing ({len(present)} of "
                f"{len(paths)} present; incomplete download?)",
                path=str(index_path),
            )
        headers = [read_safetensors_header(p) for p in paths]
        found = {t.name: h.path.name for h in headers for t in h.tensors}
        for tensor, file in weight_map.items():
            if found.get(tensor) != Path(file).name:
                raise ArtifactFormatError(
                    f"{INDEX} maps tensor {tensor!r} to {file!r}, whose header does not hold it",
                    path=str(index_path),
                )
        total = sum(t.nbytes for h in headers for t in h.tensors)
        meta = index.get("metadata")
        declared = meta.get("total_size") if isinstance(meta, dict) else None
        numeric = isinstance(declared, (int, float)) and not isinstance(declared, bool)
        if numeric and declared != total:
            notes.append(
                f"{INDEX} metadata total_size {declared:.0f} ≠ {total} bytes in the shard headers"
            )
        return headers, f"{INDEX} + {len(headers)} safetensors headers"

    @staticmethod
    def _inventory(headers: list[SafetensorsHeader], spec: ModelSpec) -> WeightsInventory:
        bits = spec.quantization.bits if spec.quantization.scheme is not None else None
        seen: dict[str, Path] = {}
        facts: list[TensorFact] = []
        for header in headers:
            for t in header.tensors:
                if t.name in seen:
                    raise ArtifactFormatError(
                        f"tensor {t.name!r} is stored twice (also in {seen[t.name].name})",
                        path=str(header.path),
                    )
                seen[t.name] = header.path
                ibits = int(bits) if bits else None
                params = unpacked_params(t.name, t.numel, t.dtype, ibits, bit_stream=True)
                facts.append(TensorFact(t.name, t.shape, t.dtype, t.nbytes, params))
        return build_inventory(facts)

    @staticmethod
    def _stored_dtype(
        spec: ModelSpec, weights: WeightsInventory, notes: list[str], prov: Provenance
    ) -> dict[str, Any]:
        """For unquantized models the stored float dtype (by bytes) is the compute dtype."""
        floats = [
            (b, d) for d, b in weights.bytes_by_dtype if d in ("float16", "bfloat16", "float32")
        ]
        if not floats:
            return {}
        dtype = max(floats)[1]
        if dtype != spec.kv_dtype:
            notes.append(f"config.json says {spec.kv_dtype} but the weights are stored as {dtype}")
        prov.artifact("kv_dtype", f"safetensors headers: most bytes are {dtype}")
        prov.artifact("quantization", f"safetensors headers: unquantized {dtype}")
        quant = replace(
            spec.quantization, bits=32 if dtype == "float32" else 16, compute_dtype=dtype
        )
        return {"kv_dtype": dtype, "quantization": quant}


__all__ = ["HfReader"]
