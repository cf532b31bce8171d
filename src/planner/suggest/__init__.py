"""``planner suggest``: the plan an expert would choose, with the reasons (pure).

``search`` explores the settings that fit; ``objective`` scores and ranks them; ``multi`` plans
several models for one app.
"""

from planner.suggest.multi import AppPlan, suggest_app
from planner.suggest.objective import Constraints, Objective, Scores
from planner.suggest.search import Candidate, Plan, round_context, suggest, target_context

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
