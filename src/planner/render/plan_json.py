"""JSON view of a suggestion plan (pure)."""

from __future__ import annotations

from typing import Any

from planner.emit import mlc, ort
from planner.emit.fragments import mlc_settings, ort_settings
from planner.render.dicts import budget_dict, report_dict, spec_dict
from planner.settings import Runtime
from planner.suggest import AppPlan, Candidate, Plan


def candidate_dict(c: Candidate) -> dict[str, Any]:
    """A candidate's settings and outcome."""
    return {
        "quantization": c.quantization,
        "quality_rank": c.quality_rank,
        "context": c.context,
        "prefill": c.prefill,
        "sliding_window": c.sliding_window,
        "attention_sink": c.attention_sink,
        "kv_dtype": c.kv_dtype,
        "max_batch_size": c.max_batch_size,
        "fits": c.fits if c.reports else False,
        "within_margin": c.within_margin,
        "needs_source_model": c.needs_source_model,
        "warnings": list(c.warnings),
        "scores": c.scores.as_dict() if c.scores is not None else None,
        "total_bytes": c.budget.total_bytes if c.reports else None,
    }


def plan_dict(plan: Plan) -> dict[str, Any]:
    """The plan: chosen candidate with budget, checks and fragments; alternatives; advice."""
    c = plan.chosen
    out: dict[str, Any] = {
        "model": spec_dict(plan.model),
        "devices": [d.id for d in plan.devices],
        "runtime": plan.base.runtime.value,
        "chosen": None,
        "runners_up": [candidate_dict(r) for r in plan.runners_up],
        "rejected": [{**candidate_dict(r), "reason": why} for r, why in plan.rejected],
        "advice": list(plan.advice),
        "objective": plan.objective.value,
        "margin": plan.constraints.margin,
        "target_context": plan.target_context,
        "why": list(plan.why),
        "pareto": [candidate_dict(p) for p in plan.pareto],
    }
    if c is not None:
        chosen = {
            **candidate_dict(c),
            **budget_dict(c.budget),
            "reports": [report_dict(r) for r in c.reports],
        }
        if plan.base.runtime is Runtime.MLC:
            p = mlc_settings(plan, c, plan.devices[0])
            from planner.emit.mlc_check import cross_check

            check = cross_check(c.quantization, mlc.overrides_string(mlc.overrides(p)))
            chosen["mlc_cross_check"] = {
                "available": check.available,
                "ok": check.ok,
                "detail": check.detail,
            }
            chosen["mlc"] = {
                "commands": mlc.commands(p),
                "overrides": mlc.overrides_string(mlc.overrides(p)),
                "package_entry": mlc.package_entry(p),
            }
        else:
            p2 = ort_settings(plan, c)
            chosen["onnxruntime"] = {
                "builder": ort.builder_command(p2),
                "genai_config_patch": ort.config_patch(p2),
            }
        out["chosen"] = chosen
    return out


def app_plan_dict(app: AppPlan) -> dict[str, Any]:
    """Several models of one app: each plan, and the combined reports (co-resident)."""
    return {
        "co_resident": app.co_resident,
        "fits": app.fits,
        "plans": [plan_dict(p) for p in app.plans],
        "combined": [report_dict(r) for r in app.combined],
        "switch_seconds": [round(s, 3) for s in app.switch_seconds],
        "advice": list(app.advice),
    }
