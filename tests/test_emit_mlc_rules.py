"""mlc-llm's own rules, checked on every MLC fragment planner emits (sources: mlc_facts.FACTS).

Each test names the mlc-llm file and lines (commit 79d603f) the rule comes from. The commands
are "run" by a small simulator that tracks which folders exist, starting from an empty one,
exactly as the real commands would (convert_weight and gen_config create -o with parents;
compile does not create anything: cli/compile.py L30-L37).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from planner.api import profiles
from planner.emit import mlc
from planner.emit.fragments import mlc_commands_for, mlc_settings
from planner.emit.mlc_facts import (
    CONV_TEMPLATES,
    FACTS,
    GEN_CONFIG_REQUIRED,
    OVERRIDE_KEYS,
    PACKAGE_DEVICES,
    PACKAGE_ENTRY_REQUIRED,
    library_suffix,
)
from planner.families import FAMILIES
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec, QuantInfo
from planner.suggest import Plan, suggest
from planner_adapters.hf_adapter import HfAdapter

try:
    from test_hf_adapter import PRESETS
except ImportError:  # pragma: no cover
    from tests.test_hf_adapter import PRESETS

PHI3_MINI_4K = {
    **PRESETS["phi-3_5"],
    "sliding_window": 2047,
    "max_position_embeddings": 4096,
    "original_max_position_embeddings": 4096,
    "rope_scaling": None,
}
CASES = {
    "llama": PRESETS["llama3_2_1b"],
    "mistral-v01": PRESETS["mistral_7b_v01"],
    "gemma2": PRESETS["gemma2_2b"],
    "phi3-mini-4k": PHI3_MINI_4K,
    "qwen2": PRESETS["qwen2_0_5b"],
    "gemma3": PRESETS["gemma3_1b_it"],
}
DEVICES = profiles()
BIG = next(d for d in DEVICES if d.id == "macbook-air-m2-24gb")


def plan_for(tmp: Path, name: str, context: int = 2048) -> Plan:
    folder = tmp / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CASES[name]))
    spec = HfAdapter().read(folder)
    base = RuntimeSettings(runtime=Runtime.MLC, quantization="q4f16_1", context=context)
    plan = suggest(spec, base, [BIG])
    assert plan.chosen is not None
    return plan


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    tmp = tmp_path_factory.mktemp("plans")
    return {name: plan_for(tmp, name) for name in CASES}


def simulate(script: str) -> list[list[str]]:
    """Run the emitted commands against a model of the filesystem; fail where MLC would."""
    made: set[str] = set()
    argvs = [shlex.split(line) for line in script.splitlines() if not line.startswith("#")]
    for argv in argvs:
        if argv[:2] == ["mkdir", "-p"]:
            made.update(_parents(argv[2]))
            continue
        assert argv[0] == "mlc_llm", argv
        out = argv[argv.index("-o") + 1]
        if argv[1] in ("convert_weight", "gen_config"):
            made.update(_parents(out))  # created with parents (convert_weight.py L31)
        elif argv[1] == "compile":
            parent = out.rsplit("/", 1)[0]
            # cli/compile.py L30-L37: "Directory does not exist: <parent>"
            assert parent in made, f"compile -o {out}: Directory does not exist: {parent}"
            model = argv[2].rsplit("/", 1)[0]
            assert model in made, f"compile reads {argv[2]} before gen_config wrote it"
    return argvs


def _parents(path: str) -> set[str]:
    parts = path.split("/")
    return {"/".join(parts[: i + 1]) for i in range(len(parts))}


def _opt(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_facts_all_name_their_source() -> None:
    for fact in FACTS:
        assert fact.source.startswith("python/mlc_llm/"), fact


@pytest.mark.parametrize("name", sorted(CASES))
def test_commands_run_in_order_from_an_empty_folder(plans: dict[str, Plan], name: str) -> None:
    plan = plans[name]
    assert plan.chosen is not None
    for device in DEVICES:
        p = mlc_settings(plan, plan.chosen, device)
        argvs = simulate(mlc.commands_text(p))
        gen = next(a for a in argvs if a[1] == "gen_config")
        # cli/gen_config.py L29-L49: --quantization and --conv-template are required, and the
        # template must be one of CONV_TEMPLATES (argparse choices).
        for flag in GEN_CONFIG_REQUIRED:
            assert flag in gen, (name, device.id, flag)
        assert _opt(gen, "--conv-template") in CONV_TEMPLATES
        compiles = [a for a in argvs if a[1] == "compile"]
        if device.mlc_device is None:
            assert not compiles, device.id  # no MLC target: nothing device-specific
            assert any("no MLC GPU target" in n for n in p.notes)
            continue
        (comp,) = compiles
        target = _opt(comp, "--device")
        # No device outside Android ever gets an Android (OpenCL) target.
        assert target.startswith("android") == (device.os == "android"), (device.id, target)
        assert target.startswith("iphone") == (device.os in ("ios", "ipados")), device.id
        # support/auto_target.py L161-L310: the build function asserts the suffix.
        assert _opt(comp, "-o").endswith(library_suffix(target))
        # interface/compiler_flags.py L169-L195: exactly these keys, integers.
        text = _opt(comp, "--overrides")
        keys = [kv.split("=")[0] for kv in text.split(";")]
        assert set(keys) <= set(OVERRIDE_KEYS)
        assert all(re.fullmatch(r"-?\d+", kv.split("=")[1]) for kv in text.split(";"))
        if "--system-lib-prefix" in comp:
            # support/auto_target.py L384-L413: kept only for the exact package devices;
            # cli/compile.py L47-L54: identifier characters only.
            assert target in PACKAGE_DEVICES
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", _opt(comp, "--system-lib-prefix"))


def test_no_device_profile_gets_a_target_of_another_os() -> None:
    android = {d.id for d in DEVICES if d.os == "android"}
    for d in DEVICES:
        if d.mlc_device and d.mlc_device.startswith("android"):
            assert d.id in android, d.id


def test_gemma2_context_is_forced_to_the_window_and_said(tmp_path: Path) -> None:
    # model/gemma2/gemma2_model.py L35-L39: context_window_size = sliding_window after overrides.
    plan = plan_for(tmp_path, "gemma2", context=2048)
    assert plan.chosen is not None
    p = mlc_settings(plan, plan.chosen, BIG)
    assert p.context_window_size == 4096 == plan.chosen.budget.settings.context
    assert mlc.overrides(p)["context_window_size"] == 4096
    assert p.sliding_window_size is None  # Gemma2Config has no sliding_window_size field
    assert any("gemma2_model.py" in n for n in p.notes)
    # Every layer keeps the whole (forced) context: MLC does not slide Gemma-2's local layers.
    b = plan.chosen.budget
    assert b.kv_cache_bytes == b.kv_bytes_per_token * 4096


def test_phi3_window_is_not_planned_or_emitted(plans: dict[str, Plan]) -> None:
    # model/phi3/phi3_model.py L24-L46: no sliding_window_size field; 2047 is not used.
    plan = plans["phi3-mini-4k"]
    assert plan.chosen is not None
    p = mlc_settings(plan, plan.chosen, BIG)
    assert p.sliding_window_size is None and "sliding_window_size" not in mlc.overrides(p)
    b = plan.chosen.budget
    assert b.kv_cache_bytes == b.kv_bytes_per_token * b.settings.context
    assert any("sliding_window 2047 is not used" in n for n in p.notes)


def test_mistral_window_and_sink_of_the_budget_are_emitted(plans: dict[str, Plan]) -> None:
    # model/mistral/mistral_model.py L36-L74: sliding_window_size from config.json, sink
    # default 4: both are written, so MLC uses the values the budget used.
    plan = plans["mistral-v01"]
    assert plan.chosen is not None
    p = mlc_settings(plan, plan.chosen, BIG)
    o = mlc.overrides(p)
    assert o["sliding_window_size"] == 4096
    assert o["attention_sink_size"] == plan.chosen.budget.settings.attention_sink
    gen = next(a for a in simulate(mlc.commands_text(p)) if a[1] == "gen_config")
    assert _opt(gen, "--sliding-window-size") == "4096"
    assert "--context-window-size" not in gen


@pytest.mark.parametrize("name", sorted(n for n, f in FAMILIES.items() if f.layout is not None))
def test_every_plannable_family_gets_a_template_mlc_accepts(name: str) -> None:
    # cli/gen_config.py L43-L49: required, one of CONV_TEMPLATES. A family the registry has no
    # template for gets MLC's plain-completion LM, and a judged template is said to be one.
    spec = ModelSpec(
        name="m", source="m", format="hf", adapter="hf", architecture=name, num_layers=1,
        hidden_size=64, num_attention_heads=1, num_kv_heads=1, head_dim=64,
        intermediate_size=64, vocab_size=200_000, tie_word_embeddings=False, max_context=None,
        weights=None, quantization=QuantInfo(None), kv_dtype="float16",
    )  # fmt: skip
    template, note = mlc.conv_template_for(spec)
    assert template in CONV_TEMPLATES, name
    if FAMILIES[name].conv_template is None or name in mlc.JUDGED_TEMPLATES:
        assert "MLC has no" in note, name


def test_package_entries_point_at_what_the_commands_built(plans: dict[str, Plan]) -> None:
    # interface/package.py L51-L116: required keys, local model needs bundle_weight, a
    # model_lib found in model_lib_path_for_prepare_libs is linked instead of compiled.
    phones = [d for d in DEVICES if d.mlc_device and d.os in ("ios", "android")]
    for device in phones[:6]:
        ps = []
        for name in ("llama", "qwen2"):
            plan = plans[name]
            assert plan.chosen is not None
            ps.append(mlc_settings(plan, plan.chosen, device))
        doc: dict[str, Any] = json.loads(mlc.package_config(ps))
        assert doc["device"] in PACKAGE_DEVICES
        libs = doc["model_lib_path_for_prepare_libs"]
        for p, entry in zip(ps, doc["model_list"], strict=True):
            for key in PACKAGE_ENTRY_REQUIRED:
                assert key in entry
            assert entry["bundle_weight"] is True
            cmds = simulate(mlc.commands_text(p))
            assert entry["model"] == _opt(cmds[0], "-o")  # convert_weight's output
            comp = next(a for a in cmds if a[1] == "compile")
            assert libs[entry["model_lib"]] == _opt(comp, "-o")
            assert _opt(comp, "--system-lib-prefix") == entry["model_lib"] + "_"


def test_multi_device_commands_compile_once_per_target(plans: dict[str, Plan]) -> None:
    plan = plans["llama"]
    assert plan.chosen is not None
    ids = ("iphone-15-pro", "pixel-8-pro", "raspberry-pi-5-8gb")
    multi = Plan(**{**{f: getattr(plan, f) for f in plan.__dataclass_fields__}})
    object.__setattr__(multi, "devices", tuple(d for d in DEVICES if d.id in ids))
    script = mlc_commands_for(multi, plan.chosen)
    argvs = simulate(script)
    assert [a[1] for a in argvs].count("convert_weight") == 1
    targets = sorted(_opt(a, "--device") for a in argvs if a[1] == "compile")
    assert targets == ["android", "iphone"]


def test_estimated_vram_is_what_the_engine_allocates_on_the_device(tmp_path: Path) -> None:
    """Mistral v0.1 keeps a 4096-token window per sequence, but MLC's engine sizes the pool by
    what fits (cpp/serve/config.cc): on a 12 GB Android phone the package entry declares the
    pool the engine fills, not the window's share (runtimes/mlc/capacity.py)."""
    from planner.runtimes import estimate
    from planner.runtimes.mlc.capacity import allocated, pool_tokens

    folder = tmp_path / "mistral"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CASES["mistral-v01"]))
    spec = HfAdapter().read(folder)
    phone = next(d for d in DEVICES if d.id == "pixel-8-pro")
    base = RuntimeSettings(
        runtime=Runtime.MLC, quantization="q3f16_1", context=8192, prefill=128, sliding_window=512
    )
    plan = suggest(spec, base, [phone])
    assert plan.chosen is not None
    rs = plan.chosen.budget.settings
    planned = estimate(
        spec,
        RuntimeSettings(
            runtime=Runtime.MLC,
            quantization=rs.quantization,
            context=rs.context,
            prefill=rs.prefill,
            sliding_window=rs.sliding_window,
            max_batch_size=rs.max_batch_size,
        ),
    )
    p = mlc_settings(plan, plan.chosen, phone)
    assert p.estimated_vram_bytes == allocated(planned, phone).total_bytes
    pool = pool_tokens(planned, phone)
    assert pool is not None and pool > (p.sliding_window_size or 0)
    assert p.estimated_vram_bytes > planned.total_bytes


def test_estimated_vram_covers_every_device_the_package_serves(tmp_path: Path) -> None:
    """One package serves all the plan's Macs: its entry declares the largest pool the engine
    fills among them (a 16 GB Mac's Metal working set holds more than an 8 GB one's)."""
    from planner.runtimes.mlc.capacity import allocated

    folder = tmp_path / "mistral"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CASES["mistral-v01"]))
    spec = HfAdapter().read(folder)
    small, large = (
        next(d for d in DEVICES if d.id == i) for i in ("macbook-air-m2-8gb", "macbook-air-m2-16gb")
    )
    base = RuntimeSettings(
        runtime=Runtime.MLC, quantization="q4f16_1", context=4096, prefill=128, sliding_window=512
    )
    plan = suggest(spec, base, [small, large])
    assert plan.chosen is not None
    per_device = [allocated(plan.chosen.budget, d).total_bytes for d in (small, large)]
    assert per_device[1] > per_device[0]
    for d in (small, large):
        assert mlc_settings(plan, plan.chosen, d).estimated_vram_bytes == max(per_device)
