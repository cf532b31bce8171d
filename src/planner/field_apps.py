"""The model libraries MLC's phone apps shipped before MLCEngine, and the settings compiled into
them (pure data; ``planner.field`` reads it).

Until late May 2024 MLCChat (iOS and Android) ran ChatModule, whose KV cache and temporary
buffers were fixed when the model library was compiled: a model added by its Hugging Face URL ran
on the app's own library for that architecture, and its chat config could lower the context, never
raise it (``cpp/llm_chat.cc``: the lib's ``max_window_size`` metadata, later the minimum of the
config's and the lib's). So a report of the prebuilt app that states no settings ran with the
settings of the library the app carried for that model on that date. Those settings were read
from the libraries themselves: every historical ``*-iphone.tar`` and ``*-android.tar`` of
mlc-ai/binary-mlc-llm-libs, whose ``lib0.o`` embeds the compiled metadata
(``"max_window_size": 768``, ``"context_window_size"``, ``"prefill_chunk_size"``,
``"sliding_window_size"``), and for the Android libraries built locally before December 2023 from
the build commands of MLC's docs and READMEs (``--target android --max-seq-len 768``; a maintainer
in mlc-ai/mlc-llm#720: "for iOS and Android app we use 768 as the max sequence length ... to fit
... tight-budget memory"). The app configs (``ios/MLCChat/app-config.json``,
``android/.../app-config.json``, from May 2024 ``mlc-package-config.json``) say which library the
app listed when.

A library compiled before prefill chunking (``mlc_llm.build``) ran the whole prompt at once, up to
its context: its prefill is the context. Windows and contexts are in tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["APP_LIBS", "ENGINE_SINCE", "AppLib", "app_lib"]

Date = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class AppLib:
    """One library an MLCChat app carried for one architecture, and what was compiled into it."""

    os: str
    """``ios`` (iPadOS too) or ``android``."""
    model: str
    """The architecture the library serves (``planner.field.app_model`` names a report's)."""
    quantizations: tuple[str, ...]
    """The schemes shipped; the first is the one a report that names none ran."""
    since: Date
    until: Date
    """Listed in the app from ``since`` up to (not including) ``until``."""
    context: int | None
    prefill: int | None
    sliding_window: int | None
    source: str


_APPS_SINCE: Date = (2023, 5, 1)  # MLCChat's TestFlight and first APK (May 2023) onward
_ENGINE_IOS: Date = (2024, 5, 22)  # mlc-ai/mlc-llm#2380 "[iOS] Switch MLC Chat to use MLCEngine"
_ENGINE_ANDROID: Date = (2024, 5, 27)  # #2410 "[Android] Switch MLC Chat to use MLCEngine"

ENGINE_SINCE: dict[str, Date] = {
    "ios": _ENGINE_IOS,
    "ipados": _ENGINE_IOS,
    "android": _ENGINE_ANDROID,
    "other": _ENGINE_IOS,  # #2375: `mlc_llm chat` on MLCEngine
}
"""When MLCChat (and ``mlc_llm chat``) moved from ChatModule (KV cache for the context, no engine
budget) to MLCEngine."""

APP_LIBS: tuple[AppLib, ...] = (
    # iOS --------------------------------------------------------------------------------
    AppLib(
        os="ios",
        model="llama-7b",
        quantizations=("q3f16_0",),
        since=_APPS_SINCE,
        until=(2023, 7, 18),
        context=768,
        prefill=768,
        sliding_window=None,
        source=(
            'vicuna-v1-7b q3f16_0 (de7b5ab7 to 60249d73): embedded "max_window_size": 768 '
            "(binary-mlc-llm-libs bea68b3, aa1dc57); ios/README @5184eb82 --max-seq-len 768"
        ),
    ),
    AppLib(
        os="ios",
        model="llama-7b",
        quantizations=("q3f16_1",),
        since=(2023, 7, 18),
        until=(2024, 1, 26),
        context=768,
        prefill=768,
        sliding_window=None,
        source=(
            'Llama-2-7b-chat q3f16_1 (60249d73 to 5dc3041e): embedded "max_window_size": 768 '
            "(binary-mlc-llm-libs 1d7e1dd, 651479f, fa4479d)"
        ),
    ),
    AppLib(
        os="ios",
        model="redpajama-3b",
        quantizations=("q4f16_0",),
        since=_APPS_SINCE,
        until=(2023, 8, 5),
        context=768,
        prefill=768,
        sliding_window=None,
        source='RedPajama-INCITE-Chat-3B-v1 q4f16_0: embedded "max_window_size": 768',
    ),
    AppLib(
        os="ios",
        model="redpajama-3b",
        quantizations=("q4f16_1",),
        since=(2023, 8, 5),
        until=(2024, 5, 8),
        context=2048,
        prefill=2048,
        sliding_window=None,
        source=(
            'RedPajama q4f16_1 (fe27cf11 on): embedded "max_window_size": 2048 (7684db3); the'
            " SLM-flow libs (13f18de, 2afc54f, c967f71) context 2048, prefill 2048"
        ),
    ),
    AppLib(
        os="ios",
        model="mistral-7b",
        quantizations=("q3f16_1",),
        since=(2023, 11, 19),
        until=(2023, 11, 23),
        context=None,
        prefill=128,
        sliding_window=4096,
        source=("first Mistral-7B q3f16_1 iPhone lib (175274a): sliding_window 4096, chunk 128"),
    ),
    AppLib(
        os="ios",
        model="mistral-7b",
        quantizations=("q3f16_1",),
        since=(2023, 11, 23),
        until=(2024, 5, 8),
        context=None,
        prefill=128,
        sliding_window=1024,
        source=(
            'Mistral-7B q3f16_1 "1k context" (48df4397, lib 5cee36c) and its v0.2 successors '
            "(0fbafd5; SLM flow 661c316, 2afc54f): sliding window 1024, prefill 128"
        ),
    ),
    AppLib(
        os="ios",
        model="phi-2",
        quantizations=("q4f16_1",),
        since=(2024, 1, 26),
        until=(2024, 5, 8),
        context=2048,
        prefill=2048,
        sliding_window=None,
        source="phi-2 q4f16_1 (libs b1d43e4, 2afc54f): context 2048, prefill 2048",
    ),
    AppLib(
        os="ios",
        model="gemma-2b",
        quantizations=("q4f16_1",),
        since=(2024, 2, 22),
        until=(2024, 5, 8),
        context=8192,
        prefill=1024,
        sliding_window=None,
        source=("gemma-2b-it q4f16_1 (3c6e6f0a, lib c967f71): context 8192, prefill 1024"),
    ),
    # Android --------------------------------------------------------------------------------
    AppLib(
        os="android",
        model="llama-7b",
        quantizations=("q4f16_0",),
        since=_APPS_SINCE,
        until=(2023, 7, 30),
        context=768,
        prefill=768,
        sliding_window=None,
        source=(
            "vicuna-v1-7b int4 (q4f16_0): android/README @460884f8 --target android "
            "--max-seq-len 768 (libs built locally)"
        ),
    ),
    AppLib(
        os="android",
        model="llama-7b",
        quantizations=("q4f16_1", "q4f16_0"),
        since=(2023, 9, 5),
        until=(2024, 5, 9),
        context=768,
        prefill=768,
        sliding_window=None,
        source=(
            "Llama-2-7b-chat q4f16_1 (b2fbc3c7 on; q4f16_0 too): f3ea48a1 and docs --target "
            "android --max-seq-len 768 (libs built locally to Dec 2023); from f9a56cd7 "
            "(2023-12-28) embedded context 768, prefill 768 (bb11721, d8b1ac1, b9736b2, "
            "e3b856d, 722fba0)"
        ),
    ),
    AppLib(
        os="android",
        model="llama-7b",
        quantizations=("q4f16_1",),
        since=(2024, 5, 9),
        until=_ENGINE_ANDROID,
        context=768,
        prefill=256,
        sliding_window=None,
        source=("android/MLCChat/mlc-package-config.json @dbd13f41: context 768, prefill 256"),
    ),
    AppLib(
        os="android",
        model="redpajama-3b",
        quantizations=("q4f16_1", "q4f16_0"),
        since=(2023, 6, 1),
        until=(2024, 5, 9),
        context=768,
        prefill=768,
        sliding_window=None,
        source=(
            "RedPajama: docs compile_models.rst --target android --max-seq-len 768; from "
            "2023-12-28 embedded context 768, prefill 768"
        ),
    ),
    AppLib(
        os="android",
        model="mistral-7b",
        quantizations=("q4f16_1",),
        since=(2024, 1, 24),
        until=(2024, 5, 9),
        context=None,
        prefill=128,
        sliding_window=1024,
        source=(
            "Mistral-7B-Instruct-v0.2 q4f16_1 (61effb27; libs 692e163 … 722fba0): sliding "
            "window 1024, prefill 128"
        ),
    ),
    AppLib(
        os="android",
        model="mistral-7b",
        quantizations=("q4f16_1",),
        since=(2024, 5, 9),
        until=_ENGINE_ANDROID,
        context=None,
        prefill=256,
        sliding_window=768,
        source=(
            "android/MLCChat/mlc-package-config.json @dbd13f41: sliding window 768, prefill 256"
        ),
    ),
    AppLib(
        os="android",
        model="phi-2",
        quantizations=("q4f16_1",),
        since=(2024, 1, 24),
        until=(2024, 5, 9),
        context=768,
        prefill=768,
        sliding_window=None,
        source="phi-2 q4f16_1 (d8b1ac1 on): embedded context 768, prefill 768",
    ),
    AppLib(
        os="android",
        model="gemma-2b",
        quantizations=("q4f16_1",),
        since=(2024, 2, 22),
        until=(2024, 3, 18),
        context=8192,
        prefill=128,
        sliding_window=None,
        source=("gemma-2b-it q4f16_1 (0c693eff, lib e3b856d): context 8192, prefill 128"),
    ),
    AppLib(
        os="android",
        model="gemma-2b",
        quantizations=("q4f16_1",),
        since=(2024, 3, 18),
        until=(2024, 5, 9),
        context=768,
        prefill=768,
        sliding_window=None,
        source="gemma-2b-it q4f16_1 (lib 722fba0): context 768, prefill 768",
    ),
)
"""The libraries, with the binary-mlc-llm-libs / mlc-llm commits their settings were read from.
Between 2024-05-08 (iOS) and the switch to MLCEngine the iOS app was packaged by
``mlc_llm package`` with settings from Hugging Face configs that were not read: not listed."""


def app_lib(os_name: str, model: str, quantization: str | None, when: Date) -> AppLib | None:
    """The library MLCChat on ``os_name`` ran ``model`` with on ``when``; None when it carried
    none for that architecture and scheme then. A month alone (day 0) names a library only when
    the app carried it, and nothing else, for the whole month (no change inside it)."""
    os_key = "ios" if os_name in ("ios", "ipados") else os_name
    if os_key not in ("ios", "android"):
        return None
    first = (when[0], when[1], when[2] or 1)
    last = when if when[2] else (when[0], when[1], 31)
    if last >= ENGINE_SINCE[os_key]:
        return None
    found = {
        lib
        for day in (first, last)
        for lib in APP_LIBS
        if lib.os == os_key
        and lib.model == model
        and lib.since <= day < lib.until
        and (quantization is None or quantization in lib.quantizations)
    }
    inside = any(
        first < edge <= last
        for lib in APP_LIBS
        if lib.os == os_key and lib.model == model
        for edge in (lib.since, lib.until)
    )
    if len(found) != 1 or inside:
        return None
    return found.pop()
