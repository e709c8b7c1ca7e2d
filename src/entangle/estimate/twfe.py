"""Two-way (or higher-way) fixed effects: y_it = β·D_it + controls + α_i + λ_t (+ more) + ε_it.

The term is named after the treatment column. Under staggered adoption with effects that vary by
cohort or over time, β is a weighted average with possibly negative weights (Goodman-Bacon 2021;
de Chaisemartin & D'Haultfœuille 2020): use ``did`` for an interpretable average effect.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from entangle.estimate.data import Panel
from entangle.estimate.linear import Build, DesignFit, fit_linear

OPTIONS: dict[str, Any] = {}


def build(panel: Panel, options: dict[str, Any]) -> Build:
    def regressors(matrix: np.ndarray) -> dict[str, np.ndarray]:
        return {panel.treatment: matrix[panel.unit_code, panel.period_code]}

    return regressors


def fit(panel: Panel, inference: str, options: dict[str, Any], progress: bool = False) -> DesignFit:
    observed = {panel.treatment: panel.d}
    return fit_linear(panel, build(panel, options), inference, options, progress, observed=observed)
