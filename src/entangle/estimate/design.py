"""What every fixed-effects design shares, whatever its family (linear: linear.py, Poisson:
poisson.py): the fitted result a design returns, the fixed effects it absorbs and the formula it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entangle.errors import EstimateError
from entangle.estimate.data import Panel
from entangle.estimate.result import Estimate


@dataclass
class DesignFit:
    estimates: list[Estimate]
    formula: str
    vcov: np.ndarray | None = None  # of the estimates, in order
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def fixed_effects(panel: Panel, fixef: str) -> dict[str, np.ndarray]:
    """Unit and period codes plus any extra effects: ``fixef="admin1^period,ethnic"`` (columns;
    ``^`` interacts them)."""
    effects = {"unit": panel.unit_code, "period": panel.period_code}
    named = {panel.unit: panel.unit_code, panel.time: panel.period_code}
    for k, item in enumerate(extra_fixef(panel, fixef)):
        codes = np.zeros(panel.n_obs, dtype=np.int64)
        for name in item.split("^"):
            column = named.get(name)
            if column is None:
                if name not in panel.columns:
                    raise EstimateError(
                        "--option fixef", f"no column {name!r} in the panel", "check the name"
                    )
                column = pd.factorize(panel.columns[name])[0]
            codes = codes * (int(column.max()) + 1) + column
        effects[f"fe{k}"] = pd.factorize(codes)[0]
    return effects


def extra_fixef(panel: Panel, fixef: str) -> list[str]:
    """The fixed effects ``fixef`` adds to unit and period, each once (``fixef=unit_id`` adds none)."""
    out: list[str] = []
    for part in (p.strip() for p in fixef.split(",")):
        if part and part not in (panel.unit, panel.time) and part not in out:
            out.append(part)
    return out


def fixef_columns(fixef: str) -> tuple[str, ...]:
    """The panel columns that ``fixef`` names (so data preparation keeps them)."""
    return tuple(
        name for part in fixef.split(",") if part.strip() for name in (n.strip() for n in part.split("^"))
    )


def user_formula(panel: Panel, terms: list[str], fixef: str) -> str:
    rhs = " + ".join([*terms, *panel.controls])
    fes = " + ".join([panel.unit, panel.time, *extra_fixef(panel, fixef)])
    return f"{panel.outcome} ~ {rhs} | {fes}"
