"""Field reports as planner checks: the acceptance harness over ``tests/field/reports.yaml``.

Each report says that a model ran, ran out of memory or was refused on a device. This module
turns a report into the ``planner check`` that would have been run before shipping it, runs it
through ``planner.api.check`` (the same rules, the same verdict: a check that fails fails the
run, as ``planner check`` exits 1 without ``--strict``) and says whether planner agreed with
what happened. ``tests/test_field.py`` asserts on it; ``benchmarks/field_agreement.py`` prints it.

Mapping (tests/field/README.md, "How planner checks a report"):

* **device** — ``device.profile`` when the report names a bundled profile (a list: the report
  covers each of them); else the device name when planner resolves it; else the tier
  ``OS:RAM`` from the report's OS and RAM (``8 and 12``: both; ``6 or 8``: either, so a verdict
  only when both agree); else skipped (RAM unknown).
* **model** — each ``models/*.json`` the report names (a folder holding it as ``config.json``,
  staged by the caller); none: skipped.
* **runtime** — ``mlc`` and ``webllm`` are planned as MLC, ``onnxruntime-genai`` as onnxruntime;
  ``webllm`` on the device without MLC's engine figure: WebLLM's own
  engine allocates the KV pool for the context (or the window) and has no engine budget
  (web-llm ``src/llm_chat.ts``), so MLC's engine rules and its pool sizing do not apply; the
  same for ``mlc`` reports of runtimes that never used MLCEngine or dated before MLCChat moved
  to it (``engine_era``, dated by ``runtime_detail`` or else ``os``: ChatModule kept the KV
  cache for the context, with no engine budget);
  every other runtime is skipped: planner has no model of how it allocates (llama.cpp maps
  weights and offloads whole layers into single GPU buffers, MLX and Core ML allocate through
  their own Metal caches, ExecuTorch packs weights at load, TinyChat materialises a PyTorch
  model), so a verdict would test an approximation, not planner.
* **settings** — the report's stated values (``context_window_size``; MLC's old
  ``--max-seq-len`` and onnxruntime-genai's ``max_length`` as the context; ``prefill_chunk_size``;
  ``sliding_window_size``); a quantization named in the text (MLC's 2023 ``int4`` build mode is
  q4f16_0: group 32, symmetric, fp16 scales, uint32 storage); an onnxruntime-genai run's unstated
  ``max_length`` is 2048, what genai's examples set (``GENAI_EXAMPLE_MAX_LENGTH``); everything
  else planner's own defaults, as ``planner check`` without options. The iOS entitlement
  ``increased-memory-limit`` is on for MLCChat (its entitlements file has carried it since the
  first commit) and for apps whose ``runtime_detail`` says they carry it.
* **outcome** — ``ran`` expects a pass, ``oom`` and ``refused`` a failure; ``crash-unclear`` is
  not scored (the report says whether planner flagged memory there).

Pure apart from ``planner.api``: reports come in as parsed YAML, model folders as paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from planner import api
from planner.device import DeviceProfile
from planner.errors import PlannerError
from planner.field_apps import ENGINE_SINCE, AppLib, app_lib
from planner.quant import MLC_SCHEMES
from planner.request import PlanRequest
from planner.rules import ADVISORY, CheckResult, Status
from planner.settings import CheckOptions, Runtime

__all__ = [
    "EXPECTED",
    "RUNTIMES",
    "Case",
    "FieldReport",
    "Verdict",
    "agreement",
    "evaluate",
    "evaluate_all",
    "parse_report",
    "platform",
]

MIB = 1024 * 1024

RUNTIMES: dict[str, Runtime] = {
    "mlc": Runtime.MLC,
    "webllm": Runtime.MLC,
    "onnxruntime-genai": Runtime.ONNXRUNTIME,
}
"""Field runtimes planner plans, and the planner runtime each is planned as."""

EXPECTED: dict[str, bool | None] = {"ran": True, "oom": False, "refused": False}
"""Outcome → whether planner should pass it (``crash-unclear``: not scored)."""

MLC_BUILD_MODES: dict[str, str] = {"int4": "q4f16_0", "int3": "q3f16_0"}
"""MLC's 2023 ``build.py --quantization-mode`` names (mlc-llm build.py @ 060d1e40:
GroupQuantize(group_size=40 for int3 else 32, symmetric, fp16 scales)): int4 is q4f16_0 and int3
is q3f16_0 in later naming (same bits per weight; the storage word differs)."""

_OS_PREFIX: tuple[tuple[str, str], ...] = (
    ("android", "android"),
    ("ipados", "ipados"),
    ("ios", "ios"),
    ("linux", "linux"),
    ("macos", "macos"),
    ("mac os", "macos"),
    ("windows", "windows"),
)
_MLC_NAME = re.compile(r"\b(q\d+b?f\d+(?:_\d|_autoawq|_ft)?)\b")
_ORT_NAME = re.compile(r"\b(fp32|fp16|int8|int4)\b", re.IGNORECASE)
_RAM_BOTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+and\s+(\d+(?:\.\d+)?)\s*$")
_RAM_EITHER = re.compile(
    r"^\s*(\d+(?:\.\d+)?(?:\s*(?:,|or)\s*\d+(?:\.\d+)?)*),?\s+or\s+(\d+(?:\.\d+)?)"
    r"\s*(?:\(.*\))?\s*$"
)
"""``6 or 8 (…)``, ``8, 12 or 16 (…)``, ``8 or 12 or 16``: one device whose RAM variant is not
known (nothing after the list but a parenthesis)."""


_RAM_ONE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")
_RAM_UNIT = re.compile(
    r"(?<=\d)\s*gi?b\b(?:\s+(?:of\s+)?(?:lpddr\w*\s+)?(?:ram|unified memory|memory))?", re.I
)


def _ram_text(ram: object) -> str:
    """``ram_gb`` as text without units: "8GB", "8 GB RAM", "8 GB and 12 GB" read as "8", "8",
    "8 and 12"."""
    return _RAM_UNIT.sub("", str(ram))


def _either(text: str) -> tuple[str, ...]:
    """The RAM variants of an ``either`` value (empty when it is not one)."""
    m = _RAM_EITHER.match(text)
    return (*re.split(r"\s*(?:,|or)\s*", m.group(1).strip()), m.group(2)) if m else ()


@dataclass(frozen=True, slots=True)
class FieldReport:
    """The fields of one report the harness reads (the rest stays in the YAML)."""

    id: str
    split: str
    clarity: str
    outcome: str
    runtime: str
    runtime_detail: str
    os: str
    device_name: str
    ram_gb: object
    profiles: tuple[str, ...]
    configs: tuple[str, ...]
    quantization: str
    context: int | None
    prefill: int | None
    sliding_window: int | None
    runtime_version: str | None = None
    """The runtime's version where the source states it (onnxruntime: version-dependent kernels
    and fixed terms)."""
    family: str = ""
    params_b: float | None = None
    """``model.family`` and ``model.params_b``: which app library a ChatModule-era report ran."""

    @property
    def expected(self) -> bool | None:
        """True: it ran (planner should pass); False: it did not; None: not scored."""
        return EXPECTED.get(self.outcome)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_report(raw: Mapping[str, Any]) -> FieldReport:
    """One YAML entry of reports.yaml as a ``FieldReport``."""
    device = raw.get("device") or {}
    model = raw.get("model") or {}
    profile = device.get("profile")
    profiles = (profile,) if isinstance(profile, str) else tuple(profile or ())
    config = model.get("config") or ""
    configs = tuple(
        part.strip()
        for part in str(config).split(";")
        if re.fullmatch(r"models/[\w.\-]+\.json", part.strip())
    )
    return FieldReport(
        id=str(raw["id"]),
        split=str(raw["split"]),
        clarity=str(raw["clarity"]),
        outcome=str(raw["outcome"]),
        runtime=_runtime(raw["runtime"]),
        runtime_detail=str(raw.get("runtime_detail") or ""),
        os=str(raw.get("os") or ""),
        device_name=str(device.get("name") or ""),
        ram_gb=device.get("ram_gb"),
        profiles=profiles,
        configs=configs,
        quantization=str(raw.get("quantization") or ""),
        context=_int(raw.get("context_window_size")) or _int(raw.get("max_length")),
        prefill=_int(raw.get("prefill_chunk_size")),
        sliding_window=_int(raw.get("sliding_window_size")),
        runtime_version=str(raw["runtime_version"]) if raw.get("runtime_version") else None,
        family=str(model.get("family") or ""),
        params_b=_float(model.get("params_b")),
    )


RUNTIME_ALIASES: dict[str, str] = {
    "mlc-llm": "mlc",
    "mlc_llm": "mlc",
    "mlc llm": "mlc",
    "mlcchat": "mlc",
    "mlc chat": "mlc",
    "mlc-chat": "mlc",
    "web-llm": "webllm",
    "web_llm": "webllm",
    "onnxruntime_genai": "onnxruntime-genai",
    "onnxruntime genai": "onnxruntime-genai",
    "ort-genai": "onnxruntime-genai",
}
"""Other spellings of the schema's runtime names (the schema's own pass unchanged)."""


def _runtime(value: object) -> str:
    name = str(value).strip()
    key = name.lower()
    return RUNTIME_ALIASES.get(key, key if key in RUNTIMES else name)


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def platform(report: FieldReport) -> str:
    """Android, iPhone, iPad, Mac, PC or board (the README's count table)."""
    os_name = _os_name(report)
    labels = {"android": "Android", "ios": "iPhone", "ipados": "iPad", "macos": "Mac"}
    return labels.get(os_name or "", "PC" if os_name == "windows" else "board")


def _os_name(report: FieldReport) -> str | None:
    text = report.os.strip().lower()
    for prefix, name in _OS_PREFIX:
        if text.startswith(prefix):
            return name
    return None


# --------------------------------------------------------------------------------------------
# A report as planner requests


@dataclass(frozen=True, slots=True)
class Case:
    """One device × model check of a report, and planner's result."""

    device: str
    """The ``--device`` value: a profile id or a tier string."""
    device_kind: str
    """``profile`` or ``tier``."""
    model: str
    """The config the model was read from (``models/*.json``)."""
    settings: str
    """The settings planner resolved (quantization, context, prefill, window, entitlement)."""
    passes: bool
    tightest: CheckResult | None
    """The binding rule: the failing one furthest over, else the one with the least room."""

    @property
    def margin_mib(self) -> float | None:
        """Room left under the tightest rule (negative: over), MiB."""
        if self.tightest is None or self.tightest.margin_bytes is None:
            return None
        return self.tightest.margin_bytes / MIB


@dataclass(frozen=True, slots=True)
class Verdict:
    """Planner against one report."""

    report: FieldReport
    cases: tuple[Case, ...] = ()
    skipped: str = ""
    """Why the report was not checked (empty when it was)."""
    either: bool = False
    """The cases are alternatives (one device, RAM variant unknown), not all of the report."""

    @property
    def predicted(self) -> bool | None:
        """Planner's verdict: True passes, False fails, None when skipped or undecided (the
        variants of an ``either`` report disagree)."""
        if self.skipped or not self.cases:
            return None
        verdicts = {c.passes for c in self.cases}
        if self.either:
            return verdicts.pop() if len(verdicts) == 1 else None
        return all(verdicts)

    @property
    def scored(self) -> bool:
        """Counted in agreement: checked, decided, and an outcome that expects a verdict."""
        return self.predicted is not None and self.report.expected is not None

    @property
    def agrees(self) -> bool:
        """Planner's verdict matches the outcome on every case the report covers."""
        expected = self.report.expected
        if not self.scored or expected is None:
            return False
        if self.either:
            return self.predicted is expected
        return all(c.passes is expected for c in self.cases)

    @property
    def flags_memory(self) -> bool | None:
        """For an unscored crash: whether planner fails it on memory (None: not checked)."""
        if self.skipped or not self.cases:
            return None
        return any(not c.passes for c in self.cases)


def _mlc_quantization(text: str) -> str | None:
    text = text.lower()
    for found in _MLC_NAME.finditer(text):
        if found.group(1) in MLC_SCHEMES:
            return found.group(1)
    for mode, scheme in MLC_BUILD_MODES.items():
        if re.search(rf"\b{mode}\b", text):
            return scheme
    return None


def _ort_quantization(text: str) -> str | None:
    found = _ORT_NAME.search(text)
    return found.group(1).lower() if found else None


def quantization(report: FieldReport, runtime: Runtime) -> str | None:
    """The scheme the report's quantization text names for ``runtime``; None: the default."""
    if runtime is Runtime.MLC:
        return _mlc_quantization(report.quantization)
    return _ort_quantization(report.quantization)


_MLC_CHAT = re.compile(r"\bmlc[ -]?chat\b")
"""MLCChat by any of its spellings: MLC's docs call the same app "MLC Chat" (deploy/ios)."""


def entitlement(report: FieldReport) -> bool:
    """Whether the iOS app carries ``increased-memory-limit``: MLCChat does (its entitlements
    file since mlc-llm's first commit, cea09f2f), built from source or not, however the report
    spells its name; other apps when ``runtime_detail`` says so."""
    if _os_name(report) not in ("ios", "ipados"):
        return False
    detail = report.runtime_detail.lower()
    if "without increased-memory-limit" in detail:
        return False
    return "increased-memory-limit" in detail or (
        _MLC_CHAT.search(detail) is not None and report.runtime in ("mlc",)
    )


def _ram_tiers(report: FieldReport) -> tuple[tuple[str, ...], bool]:
    """Tier strings from OS and RAM, and whether they are alternatives."""
    os_name = _os_name(report)
    ram = report.ram_gb
    if os_name is None or ram is None or isinstance(ram, bool):
        return (), False
    if isinstance(ram, int | float):
        return (f"{os_name}:{ram:g}GB",), False
    text = _ram_text(ram)
    if single := _RAM_ONE.match(text):
        return (f"{os_name}:{float(single.group(1)):g}GB",), False
    if both := _RAM_BOTH.match(text):
        return tuple(f"{os_name}:{float(g):g}GB" for g in both.groups()), False
    if either := _either(text):
        return tuple(f"{os_name}:{float(g):g}GB" for g in either), True
    return (), False


def _onnxruntime_version(report: FieldReport) -> str | None:
    """The report's onnxruntime version: a ``runtime_version`` naming genai (``onnxruntime-genai
    0.5.2``, ``genai 0.5.2``) or below 1.0 (genai's own numbering) is not one — genai pins no
    single onnxruntime — so planner plans that report with its default and says so."""
    text = report.runtime_version
    if text is None or "genai" in text.lower():
        return None
    major = re.match(r"\s*v?(\d+)\.", text)
    return text if major is None or int(major.group(1)) >= 1 else None


def devices(
    report: FieldReport, known: Sequence[DeviceProfile]
) -> tuple[tuple[str, ...], str, bool]:
    """(``--device`` values, ``profile`` or ``tier``, alternatives?) for the report; no values:
    the device cannot be placed (RAM unknown)."""
    either = bool(_either(_ram_text(report.ram_gb or "")))
    if report.profiles:
        return report.profiles, "profile", either
    try:
        found = api.devices(PlanRequest(model=Path(), devices=(report.device_name,)), known)
    except PlannerError:
        tiers, either = _ram_tiers(report)
        return tiers, "tier", either
    return (found[0].id,), "profile", False


_APP_MODELS: tuple[tuple[str, frozenset[str], float, float], ...] = (
    ("llama-7b", frozenset({"llama", "llama2", "vicuna", "codellama"}), 6.5, 7.0),
    ("mistral-7b", frozenset({"mistral"}), 7.0, 7.5),
    ("redpajama-3b", frozenset({"gpt_neox", "redpajama"}), 2.5, 3.0),
    ("phi-2", frozenset({"phi", "phi2"}), 2.5, 3.0),
    ("gemma-2b", frozenset({"gemma"}), 2.0, 2.7),
)
"""Report family and size → the architecture an MLCChat library served (``field_apps``)."""

_SELF_COMPILED = re.compile(
    r"(?<!pre-)\bcompiled?\b(?! by mlc)|self-?compiled|custom-compiled"
    r"|custom (?:lib|model lib)|own (?:app|lib|model lib)|build\.py|mlc_llm\.build"
    r"|mlc_(?:chat|llm) compile|gen_config",
    re.I,
)
"""A ``runtime_detail`` saying the model library was the reporter's, not the app's: compiled
(not "precompiled"), a custom or own library or app, the build commands. "Built from source"
alone is the app built as MLC's docs say, with MLC's prebuilt libraries (ios.rst: clone
binary-mlc-llm-libs into dist/prebuilt/lib)."""


def app_model(report: FieldReport) -> str | None:
    """The architecture of the MLCChat library the report's model ran on (None: not one)."""
    family = report.family.strip().lower()
    size = report.params_b
    for name, families, low, high in _APP_MODELS:
        if family in families and size is not None and low <= size <= high:
            return name
    return None


def app_settings(report: FieldReport) -> AppLib | None:
    """The library a ChatModule-era MLCChat report that states no settings ran (its settings
    compiled in; ``field_apps``); None when the report states any, compiled its own library,
    is undated or dated in MLCEngine's time, or the app carried none for the model."""
    if report.runtime != "mlc" or engine_era(report):
        return None
    if (report.context, report.prefill, report.sliding_window) != (None, None, None):
        return None
    if _SELF_COMPILED.search(report.runtime_detail):
        return None
    os_name, model, when = _os_name(report), app_model(report), report_date(report)
    if os_name is None or model is None or when is None:
        return None
    return app_lib(os_name, model, quantization(report, Runtime.MLC), when)


def requests(
    report: FieldReport, folders: Mapping[str, Path], device_names: tuple[str, ...]
) -> list[tuple[str, PlanRequest]]:
    """One ``PlanRequest`` per model config of the report, for all its devices."""
    runtime = RUNTIMES[report.runtime]
    options = CheckOptions(entitlement=entitlement(report))
    lib = app_settings(report)
    window = report.sliding_window if runtime is Runtime.MLC else None
    scheme = quantization(report, runtime) or (lib.quantizations[0] if lib else None)
    return [
        (
            config,
            PlanRequest(
                model=folders[config],
                runtime=runtime,
                quantization=scheme,
                context=lib.context if lib else report.context or _default_context(report, runtime),
                prefill=lib.prefill if lib else report.prefill,
                sliding_window=lib.sliding_window if lib else window,
                runtime_version=(
                    _onnxruntime_version(report) if runtime is Runtime.ONNXRUNTIME else None
                ),
                devices=device_names,
                options=options,
                label=report.id,
            ),
        )
        for config in report.configs
    ]


GENAI_EXAMPLE_MAX_LENGTH = 2048
"""The ``max_length`` onnxruntime-genai's own examples run with when the user sets none
(examples/python/phi3-qa.py from v0.2 to v0.11, lines 19–22 at v0.5.2: "Set the max length to
something sensible by default ... since otherwise it will be set to the entire context length"),
as do the model cards of Microsoft's ONNX models. Without it genai preallocates the KV cache for
the whole context (``search.max_length`` 0 → ``context_length``, src/config.cpp), which for a
128K model is tens of GB: a report that ran without stating it ran with a set value."""


def _default_context(report: FieldReport, runtime: Runtime) -> int | None:
    """The context a report that states none ran with: genai's examples' ``max_length`` for
    onnxruntime-genai (at least the stated prompt); None (planner's own default) for MLC."""
    if runtime is not Runtime.ONNXRUNTIME:
        return None
    return max(GENAI_EXAMPLE_MAX_LENGTH, report.prefill or 0)


def tightest(checks: Iterable[CheckResult]) -> CheckResult | None:
    """The rule that binds: the failing one furthest over, else the one with least room."""
    rated = [
        c
        for c in checks
        if c.id not in ADVISORY and c.status is not Status.SKIP and c.margin_bytes is not None
    ]
    failing = [c for c in rated if c.status is Status.FAIL]
    pool = failing or rated
    return min(pool, key=lambda c: c.margin_bytes or 0) if pool else None


def _settings_text(request: PlanRequest, resolved: Any) -> str:
    parts = [
        f"{resolved.runtime.value}",
        resolved.quantization,
        f"ctx {resolved.context}",
        f"prefill {resolved.prefill}",
    ]
    if resolved.sliding_window:
        parts.append(f"window {resolved.sliding_window}")
    if request.options.entitlement:
        parts.append("entitled")
    return " ".join(parts)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE = re.compile(
    r"\b(?:(" + "|".join(_MONTHS) + r")[a-z]*\.?\s+(20\d\d)|(20\d\d)-(\d\d)(?:-(\d\d))?)\b",
    re.I,
)
_NO_ENGINE = re.compile(r"chatmodule|mlc_chat_cli|nano_?llm|local_llm", re.I)
"""Runtimes that never used MLCEngine: ChatModule and its CLI, NanoLLM / local_llm (their own
KV cache sized by the context, on TVM's VM)."""
_ENGINE = re.compile(r"mlc_llm serve|MLCEngine\(", re.I)
"""Explicit engine use: ``mlc_llm serve`` (the engine since it appeared) or the Python engine."""


def _when(text: str) -> tuple[int, int, int] | None:
    """The most precise date in ``text`` as (year, month, day), day 0 when only a month."""
    best: tuple[int, int, int] | None = None
    for m in _DATE.finditer(text):
        if m.group(1):
            when = (int(m.group(2)), _MONTHS.index(m.group(1)[:3].lower()) + 1, 0)
        else:
            when = (int(m.group(3)), int(m.group(4)), int(m.group(5)) if m.group(5) else 0)
        if best is None or (best[2] == 0 and when[2] != 0):
            best = when
    return best


def report_date(report: FieldReport) -> tuple[int, int, int] | None:
    """When the report's run happened: the most precise date in ``runtime_detail``, else in
    ``os`` (collectors write "iOS (version not stated; Nov 2023)" there)."""
    return _when(report.runtime_detail) or _when(report.os)


def engine_era(report: FieldReport) -> bool:
    """Whether an MLC report ran MLC's engine (which sizes the KV pool to the device): a runtime
    named in ``runtime_detail`` that never used it (ChatModule, mlc_chat_cli, NanoLLM) or that
    always did (``mlc_llm serve``, ``MLCEngine(``) decides; else its date, on or after the
    switch (a month alone counts from the month after it, May 2024 being mostly ChatModule's);
    an undated report is planned as today's MLC."""
    if report.runtime != "mlc":
        return True
    detail = report.runtime_detail
    if _NO_ENGINE.search(detail):
        return False
    if _ENGINE.search(detail):
        return True
    when = report_date(report)
    if when is None:
        return True
    os_name = _os_name(report) or ""
    since = ENGINE_SINCE.get(os_name, ENGINE_SINCE["other"])
    if when[2] == 0:
        return when[:2] > since[:2]
    return when >= since


def _without_engine(
    names: tuple[str, ...], kind: str, known: Sequence[DeviceProfile]
) -> tuple[tuple[str, ...], tuple[DeviceProfile, ...]]:
    """The devices without MLC's engine figure, as WebLLM and the ChatModule apps ran (a tier is
    built from its rules first and named ``<os>-<ram>-no-engine``)."""
    from planner.device_tiers import resolve_device

    if kind == "tier":
        tiers = tuple(
            replace(resolve_device(n, known), id=n.replace(":", "-").lower() + "-no-engine")
            for n in names
        )
        names, known = tuple(t.id for t in tiers), (*known, *tiers)
    stripped = tuple(
        replace(p, mlc_engine_memory_bytes=None) if p.id in names else p for p in known
    )
    return names, stripped


def evaluate(
    report: FieldReport,
    folders: Mapping[str, Path],
    known: Sequence[DeviceProfile],
    check: Callable[[PlanRequest, Sequence[DeviceProfile]], api.CheckRun] = api.check,
) -> Verdict:
    """Planner's verdict on one report (``folders``: config path → a folder holding it as
    config.json)."""
    if report.runtime not in RUNTIMES:
        return Verdict(report, skipped=f"no planner runtime ({report.runtime})")
    if not report.configs:
        return Verdict(report, skipped="no model config")
    names, kind, either = devices(report, known)
    if not names:
        return Verdict(report, skipped="device RAM unknown")
    if report.runtime == "webllm" or not engine_era(report):
        names, known = _without_engine(names, kind, known)
    cases: list[Case] = []
    for config, request in requests(report, folders, names):
        try:
            run = check(request, known)
        except PlannerError as exc:
            return Verdict(report, skipped=f"planner cannot plan it: {exc.message}")
        for name, dev_report in zip(names, run.reports, strict=True):
            cases.append(
                Case(
                    device=name,
                    device_kind=kind,
                    model=config,
                    settings=_settings_text(request, dev_report.budget.settings),
                    passes=not any(c.status is Status.FAIL for c in dev_report.checks),
                    tightest=tightest(dev_report.checks),
                )
            )
    return Verdict(report, tuple(cases), either=either)


def evaluate_all(
    raw_reports: Iterable[Mapping[str, Any]],
    folders: Mapping[str, Path],
    known: Sequence[DeviceProfile] | None = None,
) -> list[Verdict]:
    """Every report's verdict, in file order."""
    pool = known if known is not None else api.profiles()
    return [evaluate(parse_report(raw), folders, pool) for raw in raw_reports]


# --------------------------------------------------------------------------------------------
# Agreement


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement over a group of reports."""

    label: str
    scored: int
    agreed: int
    skipped: int
    unscored: int
    """Checked but not scored: crash-unclear, or variants that disagree."""

    @property
    def share(self) -> float | None:
        """Agreed / scored (None when nothing was scored)."""
        return self.agreed / self.scored if self.scored else None


def agreement(label: str, verdicts: Iterable[Verdict]) -> Agreement:
    """Counts over ``verdicts``."""
    group = list(verdicts)
    scored = [v for v in group if v.scored]
    return Agreement(
        label,
        len(scored),
        sum(v.agrees for v in scored),
        sum(1 for v in group if v.skipped),
        sum(1 for v in group if not v.skipped and not v.scored),
    )
