"""Builders for MLC artifacts in their real on-disk formats, for the adapter tests.

- ``chat_config``: ``mlc-chat-config.json`` as ``mlc_llm gen_config`` writes it (mlc-llm 79d603f
  ``interface/gen_config.py``): top-level fields in ``MLCChatConfig`` order, ``model_config`` =
  the family's config dataclass after ``__post_init__`` (``context_window_size`` from
  ``max_position_embeddings``, ``prefill_chunk_size`` = min(context, 8192), ``head_dim`` filled).
- ``write_model``: that config plus ``tensor-cache.json`` (or the legacy ``ndarray-cache.json``)
  with records and shards laid out as ``convert_weight`` + TVM ``dump_tensor_cache`` write them
  (``planner_adapters._mlc_layout``), and optionally zero-filled shard files.
- Compiled libraries: the metadata JSON exactly as ``json.dumps`` emits it, inside a Relax VM
  executable's constant pool (int32 type index 65, uint64 length, bytes), inside TVM's module
  blob (``PackImportsToBytes``: uint64 length, import tree, ``"relax.VMExecutable"``), stored
  under the symbol ``__tvm_ffi__library_bin`` of an ELF shared object, of the ``devc.o`` member
  of a ``.tar`` static library, or in a WebAssembly data segment. The executable's header,
  function table and constant section follow ``VMExecutable::SaveToBytes`` (apache/tvm 5d4dc87);
  its code section is schematic (planner never reads it).
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tarfile
from pathlib import Path
from typing import Any

from planner.quant import mlc_scheme
from planner_adapters._mlc_layout import MlcTensor, mlc_tensors, shard_records, tensor_cache
from planner_adapters.hf_config import spec_from_hf_config

TINY_LLAMA: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_act": "silu",
    "hidden_size": 64,
    "intermediate_size": 160,
    "max_position_embeddings": 2048,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 320,
}
"""A tiny Llama with the keys of a real HF Llama config; dims are multiples of 32 except
intermediate (160 = 5 groups) so group padding is exercised nowhere and everywhere alike."""

QWEN2_CONV_TEMPLATE: dict[str, Any] = {
    "name": "qwen2",
    "system_template": "<|im_start|>system\n{system_message}<|im_end|>\n",
    "system_message": "You are a helpful assistant.",
    "roles": {"user": "<|im_start|>user", "assistant": "<|im_start|>assistant"},
    "seps": ["<|im_end|>\n"],
    "role_content_sep": "\n",
    "role_empty_sep": "\n",
    "stop_str": ["<|endoftext|>", "<|im_end|>"],
    "stop_token_ids": [151643, 151645],
}

# Config dataclass fields (mlc-llm 79d603f, model/<family>/<family>_model.py), in order.
_LLAMA_FIELDS = (
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_hidden_layers",
    "rms_norm_eps",
    "vocab_size",
    "tie_word_embeddings",
    "position_embedding_base",
    "rope_scaling",
    "context_window_size",
    "prefill_chunk_size",
    "num_key_value_heads",
    "head_dim",
    "tensor_parallel_shards",
    "pipeline_parallel_stages",
    "max_batch_size",
    "disaggregation",
)
_QWEN2_FIELDS = (
    "hidden_act",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_hidden_layers",
    "num_key_value_heads",
    "rms_norm_eps",
    "rope_theta",
    "vocab_size",
    "tie_word_embeddings",
    "context_window_size",
    "prefill_chunk_size",
    "tensor_parallel_shards",
    "head_dim",
    "dtype",
    "max_batch_size",
)


def model_config(
    hf: dict[str, Any],
    *,
    context_window_size: int | None = None,
    prefill_chunk_size: int | None = None,
    max_batch_size: int = 128,
) -> dict[str, Any]:
    """The ``model_config`` block gen_config writes for a llama or qwen2 HF config."""
    cws = context_window_size or hf["max_position_embeddings"]
    values = {
        **hf,
        "context_window_size": cws,
        "prefill_chunk_size": min(prefill_chunk_size or min(cws, 8192), cws),
        "head_dim": hf.get("head_dim") or hf["hidden_size"] // hf["num_attention_heads"],
        "num_key_value_heads": hf.get("num_key_value_heads") or hf["num_attention_heads"],
        "position_embedding_base": hf.get("rope_theta", 10000),
        "tensor_parallel_shards": 1,
        "pipeline_parallel_stages": 1,
        "disaggregation": False,
        "max_batch_size": max_batch_size,
        "dtype": "float32",
        "tie_word_embeddings": hf.get("tie_word_embeddings", False),
        "rope_scaling": hf.get("rope_scaling"),
    }
    fields = _QWEN2_FIELDS if hf["model_type"] == "qwen2" else _LLAMA_FIELDS
    return {k: values[k] for k in fields}


def chat_config(
    hf: dict[str, Any],
    quantization: str,
    *,
    conv_template: Any = "LM",
    sliding_window_size: int = -1,
    attention_sink_size: int = -1,
    **overrides: Any,
) -> dict[str, Any]:
    """A whole ``mlc-chat-config.json`` document (MLCChatConfig field order)."""
    mc = model_config(hf, **overrides)
    return {
        "version": "0.1.0",
        "model_type": hf["model_type"],
        "quantization": quantization,
        "model_config": mc,
        "vocab_size": hf["vocab_size"],
        "context_window_size": mc["context_window_size"],
        "sliding_window_size": sliding_window_size,
        "prefill_chunk_size": mc["prefill_chunk_size"],
        "attention_sink_size": attention_sink_size,
        "tensor_parallel_shards": 1,
        "pipeline_parallel_stages": 1,
        "active_vocab_size": hf["vocab_size"],
        "temperature": 0.7,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "repetition_penalty": 1.0,
        "top_p": 0.95,
        "tokenizer_files": ["tokenizer.json", "tokenizer_config.json"],
        "tokenizer_info": {
            "token_postproc_method": "byte_fallback",
            "prepend_space_in_encode": False,
            "strip_space_in_decode": False,
        },
        "conv_template": conv_template,
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "model_task": "chat",
        "embedding_metadata": None,
    }


def tensors_for(hf: dict[str, Any], quantization: str) -> tuple[MlcTensor, ...]:
    """The tensors convert_weight writes for ``hf`` at ``quantization``."""
    spec = spec_from_hf_config(hf, source="factory", path=Path("config.json"))
    return mlc_tensors(spec, mlc_scheme(quantization))


def write_model(
    folder: Path,
    hf: dict[str, Any],
    quantization: str,
    *,
    shards: bool = True,
    cache_name: str = "tensor-cache.json",
    cap_bytes: int = 16 * 1024,
    chat: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write an MLC model folder; returns the tensor-cache document."""
    folder.mkdir(parents=True, exist_ok=True)
    chat = chat or chat_config(hf, quantization)
    (folder / "mlc-chat-config.json").write_text(json.dumps(chat, indent=2), encoding="utf-8")
    tensors = tensors_for(hf, quantization)
    spec = spec_from_hf_config(hf, source="factory", path=Path("config.json"))
    from planner.families import param_count

    doc = tensor_cache(
        tensors,
        param_count(spec),
        cap_bytes=cap_bytes,
        md5=lambda n: hashlib.md5(bytes(n), usedforsecurity=False).hexdigest(),
    )
    (folder / cache_name).write_text(json.dumps(doc, indent=4), encoding="utf-8")
    if shards:
        for shard in doc["records"]:
            (folder / shard["dataPath"]).write_bytes(bytes(shard["nbytes"]))
    return doc


# --- compiled libraries -------------------------------------------------------------------


def lib_metadata(
    chat: dict[str, Any],
    tensors: tuple[MlcTensor, ...],
    *,
    memory_usage: dict[str, int],
    dynamic_vocab: bool = True,
) -> dict[str, Any]:
    """The metadata dict in ``interface/compile.py`` key order, plus kv_cache and memory_usage."""
    mc = chat["model_config"]
    vocab = mc["vocab_size"]

    def shape(t: MlcTensor) -> list[int | str]:
        # Llama declares embed/lm_head rows as the symbolic "vocab_size".
        row = "embed" in t.name or "lm_head" in t.name
        if dynamic_vocab and row and t.shape and t.shape[0] == vocab:
            return ["vocab_size", *t.shape[1:]]
        return list(t.shape)

    return {
        "model_type": chat["model_type"],
        "quantization": chat["quantization"],
        "context_window_size": chat["context_window_size"],
        "sliding_window_size": chat["sliding_window_size"],
        "attention_sink_size": chat["attention_sink_size"],
        "prefill_chunk_size": chat["prefill_chunk_size"],
        "tensor_parallel_shards": 1,
        "pipeline_parallel_stages": 1,
        "disaggregation": False,
        "kv_state_kind": "kv_cache",
        "max_batch_size": mc["max_batch_size"],
        "active_vocab_size": None,
        "model_task": "chat",
        "params": [
            {
                "name": t.name,
                "shape": shape(t),
                "dtype": t.dtype,
                "preprocs": [],
                "pipeline_stages": [0],
            }
            for t in tensors
        ],
        "kv_cache": {
            "num_hidden_layers": mc["num_hidden_layers"],
            "num_attention_heads": mc["num_attention_heads"],
            "num_key_value_heads": mc["num_key_value_heads"],
            "head_dim": mc["head_dim"],
        },
        "memory_usage": memory_usage,
    }


def _u64(n: int) -> bytes:
    return struct.pack("<Q", n)


def _str(s: str | bytes) -> bytes:
    data = s.encode() if isinstance(s, str) else s
    return _u64(len(data)) + data


def vm_executable(metadata_json: str) -> bytes:
    """``VMExecutable::SaveToBytes`` of a module whose ``_metadata`` returns the JSON string."""
    out = _u64(0xD225DE2F4214151E) + _str("0.14")  # kTVMVMBytecodeMagicV2, VM_VERSION
    # Global section: vector<VMFuncInfo> {int32 kind, name, int64 start, end, num_args, regs,
    # vector<string> param_names}; kind 1 = kVMFunc.
    funcs = [("_metadata", 0), ("prefill", 3)]
    out += _u64(len(funcs))
    for i, (name, nargs) in enumerate(funcs):
        out += struct.pack("<i", 1) + _str(name) + struct.pack("<qqqq", i, i + 1, nargs, 1)
        out += _u64(nargs) + b"".join(_str(f"arg{j}") for j in range(nargs))
    out += _u64(0)  # memory scopes
    data = metadata_json.encode()
    out += _u64(1) + struct.pack("<i", 65) + _u64(len(data)) + data  # constant pool
    out += _u64(2) + struct.pack("<qq", 0, 2) + _u64(4) + struct.pack("<qqqq", 1, 0, 1, 0)
    return out


def module_blob(executable: bytes) -> bytes:
    """``PackImportsToBytes``: uint64 length, import tree, the executable, the DSO placeholder."""
    body = _u64(3) + struct.pack("<QQQ", 0, 1, 1)  # import_tree_row_ptr [0, 1, 1]
    body += _u64(1) + struct.pack("<Q", 1)  # child indices: the VM imports the DSO library
    body += _str("relax.VMExecutable") + _str(executable) + _str("_lib")
    return _u64(len(body)) + body


def metadata_blob(metadata: dict[str, Any]) -> bytes:
    """The library blob as TVM exports it for this metadata."""
    return module_blob(vm_executable(json.dumps(metadata)))


def elf_object(
    blob: bytes,
    *,
    shared: bool = True,
    symbol: str = "__tvm_ffi__library_bin",
    text: bytes = b"\xc3" * 64,
) -> bytes:
    """A minimal ELF64 little-endian x86-64 file: ``.text``, ``.rodata`` holding ``blob`` under
    ``symbol``, ``.symtab``, ``.strtab``, ``.shstrtab``; ET_DYN when shared else ET_REL."""
    shstr = b"\x00.text\x00.rodata\x00.symtab\x00.strtab\x00.shstrtab\x00"
    names = {
        n: shstr.index(n.encode() + b"\x00")
        for n in (".text", ".rodata", ".symtab", ".strtab", ".shstrtab")
    }
    strtab = b"\x00" + symbol.encode() + b"\x00"
    sym_null = bytes(24)
    # Elf64_Sym: name u32, info u8 (GLOBAL<<4 | OBJECT), other u8, shndx u16, value u64, size u64
    sym = struct.pack("<IBBHQQ", 1, (1 << 4) | 1, 0, 2, 0, len(blob))
    symtab = sym_null + sym
    sections = [
        (".text", text, 1, 0x6, 16),
        (".rodata", blob, 1, 0x2, 1),
        (".symtab", symtab, 2, 0, 8),
        (".strtab", strtab, 3, 0, 1),
        (".shstrtab", shstr, 3, 0, 1),
    ]
    offset = 64
    body = b""
    headers = [bytes(64)]
    for name, data, kind, flags, align in sections:
        pad = (-offset) % align
        body += bytes(pad)
        offset += pad
        link, info, entsize = (4, 1, 24) if name == ".symtab" else (0, 0, 0)
        headers.append(
            struct.pack(
                "<IIQQQQIIQQ",
                names[name],
                kind,
                flags,
                0,
                offset,
                len(data),
                link,
                info,
                align,
                entsize,
            )
        )
        body += data
        offset += len(data)
    pad = (-offset) % 8
    body += bytes(pad)
    shoff = offset + pad
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH",
        3 if shared else 1,
        62,
        1,
        0,
        0,
        shoff,
        0,
        64,
        0,
        0,
        64,
        len(headers),
        len(headers) - 1,
    )
    return header + body + b"".join(headers)


def tar_library(blob: bytes) -> bytes:
    """A ``.tar`` static library as ``export_library(..., fcompile=tar)`` makes it: the compiled
    kernels (``lib0.o``) and the blob object (``devc.o``)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in (
            ("lib0.o", elf_object(b"", shared=False, text=b"\x90" * 4096)),
            ("devc.o", elf_object(blob, shared=False)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def wasm_module(blob: bytes, *, at: int = 1024) -> bytes:
    """A WebAssembly module (an exported memory and one active data segment holding ``blob`` at
    ``at``), as wasm-ld lays out read-only data of an emscripten build."""
    pages = (at + len(blob)) // 65536 + 1
    memory = _leb(1) + b"\x00" + _leb(pages)
    segment = b"\x00" + b"\x41" + _leb(at) + b"\x0b" + _leb(len(blob)) + blob
    data = _leb(1) + segment
    export = _leb(1) + _leb(6) + b"memory" + b"\x02" + _leb(0)
    return (
        b"\x00asm"
        + struct.pack("<I", 1)
        + b"\x05"
        + _leb(len(memory))
        + memory
        + b"\x07"
        + _leb(len(export))
        + export
        + b"\x0b"
        + _leb(len(data))
        + data
    )


def c_source(blob: bytes, symbol: str = "__tvm_ffi__library_bin") -> str:
    """``PackImportsToC``: the blob as a C array (what TVM compiles when it has no LLVM)."""
    rows = [", ".join(f"0x{b:02x}" for b in blob[i : i + 20]) for i in range(0, len(blob), 20)]
    body = ",\n  ".join(rows)
    return (
        f"extern const unsigned char {symbol}[];\n"
        f"const unsigned char {symbol}[{len(blob)}] = {{\n  {body}\n}};\n"
    )


__all__ = [
    "TINY_LLAMA",
    "chat_config",
    "elf_object",
    "lib_metadata",
    "metadata_blob",
    "shard_records",
    "tar_library",
    "tensors_for",
    "wasm_module",
    "write_model",
]
