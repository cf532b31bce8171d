"""``planner suggest``: the plan an expert would choose, with the reasons (pure).

``search`` explores the settings that fit; ``objective`` scores and ranks them; ``multi`` plans
several models for one app; ``anchors`` compares a plan with someone else's choice. The names
below load their module on first use, so importing ``planner.suggest.objective`` (the CLI's
option enums) does not pull in the whole search.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.suggest.multi import AppPlan, suggest_app
    from planner.suggest.objective import Constraints, Objective, Scores
    from planner.suggest.search import Candidate, Plan, round_context, suggest, target_context

_WHERE = {
    "AppPlan": "multi",
    "suggest_app": "multi",
    "Constraints": "objective",
    "Objective": "objective",
    "Scores": "objective",
    "Candidate": "search",
    "Plan": "search",
    "round_context": "search",
    "suggest": "search",
    "target_context": "search",
}

__all__ = [
    "AppPlan",
    "Candidate",
    "Constraints",
    "Objective",
    "Plan",
    "Scores",
    "round_context",
    "suggest",
    "suggest_app",
    "target_context",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'planner.suggest' has no attribute {name!r}")
    return getattr(import_module(f"planner.suggest.{module}"), name)
