"""The family registry: everything planner knows about a model family, in one place (data).

Like mlc-llm's own ``MODELS``, each entry is a ``Family`` (``registry.py``): the config keys
and aliases (``config.py`` resolves them for the adapters), the weight layout (``layout.py``
lays the parameters out with MLC's names), how MLC compiles the family (``MlcFacts``: the
temporary-buffer op sequence, static or symbolic vocabulary, forced contexts, window and sink
behaviour, KV kind), the quantization kinds, the conversation template, and the source of each
fact. Everything family-specific reads from here.
"""

from __future__ import annotations

from planner.families.config import fact, fact_bool, fact_float, fact_int, resolve_family
from planner.families.layout import (
    FINAL_FC_NAMES,
    Param,
    ParamGroup,
    ParamKind,
    family_layout,
    is_tied,
    moe_layer,
    moe_shared_inter,
    param_count,
    param_groups,
    params,
    vision_dims,
)
from planner.families.registry import (
    ALIASES,
    ALL_MLC_KINDS,
    FAMILIES,
    BiasRule,
    ConfigKeys,
    Family,
    FamilyLayout,
    MlcFacts,
    MoeLayout,
    VisionLayout,
    family,
    family_name,
)

__all__ = [
    "ALIASES",
    "ALL_MLC_KINDS",
    "FAMILIES",
    "FINAL_FC_NAMES",
    "BiasRule",
    "ConfigKeys",
    "Family",
    "FamilyLayout",
    "MlcFacts",
    "MoeLayout",
    "Param",
    "ParamGroup",
    "ParamKind",
    "VisionLayout",
    "fact",
    "fact_bool",
    "fact_float",
    "fact_int",
    "family",
    "family_layout",
    "family_name",
    "is_tied",
    "moe_layer",
    "moe_shared_inter",
    "param_count",
    "param_groups",
    "params",
    "resolve_family",
    "vision_dims",
]
