"""The optional mlc_llm cross-check: skipped without mlc_llm, strict with it."""

from __future__ import annotations

import importlib.util

import pytest

from planner.emit.mlc_check import cross_check


def test_reports_unavailable_without_mlc_llm() -> None:
    if importlib.util.find_spec("mlc_llm") is not None:
        pytest.skip("mlc_llm is installed here")
    result = cross_check("q4f16_1", "context_window_size=4096;prefill_chunk_size=1024")
    assert result.available is False and result.ok is None


def test_mlc_llm_accepts_emitted_fragments() -> None:
    pytest.importorskip("mlc_llm.interface.compiler_flags")
    ok = cross_check("q4f16_1", "context_window_size=4096;prefill_chunk_size=1024;max_batch_size=1")
    assert ok.available and ok.ok, ok.detail
    bad = cross_check("q4f16_9", "context_window_size=4096")
    assert bad.available and bad.ok is False
