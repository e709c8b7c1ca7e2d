"""Continuous treatment (troops within r km, an entanglement index): y_it = β·dose_it + FE + ε_it.

β is the effect of one more unit of dose, identified from changes in dose within units over time.
With ``extensive=true`` an indicator ``any_<treatment>`` (dose > 0) is added, so β becomes the
intensive margin among exposed unit-periods and the indicator the extensive margin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from entangle.estimate.data import Panel
from entangle.estimate.linear import Build, DesignFit, fit_linear

OPTIONS: dict[str, Any] = {"extensive": False}


def build(panel: Panel, options: dict[str, Any]) -> Build:
    extensive = bool(options["extensive"])

    def regressors(matrix: np.ndarray) -> dict[str, np.ndarray]:
        dose = matrix[panel.unit_code, panel.period_code]
        out = {panel.treatment: dose}
        if extensive:
            out[f"any_{panel.treatment}"] = (dose > 0).astype(float)
        return out

    return regressors


def fit(panel: Panel, inference: str, options: dict[str, Any], progress: bool = False) -> DesignFit:
    result = fit_linear(panel, build(panel, options), inference, options, progress)
    lo, hi = float(panel.d.min()), float(panel.d.max())
    if ((panel.d == lo) | (panel.d == hi)).all():  # two values (no np.unique: O(n), multiverse-cheap)
        result.warnings.append(f"{panel.treatment} takes two values: the dose design equals twfe here")
    return result
