"""Distance-ring exposure, so effects on neighbours are not mistaken for effects on the treated.

    y_it = β0·D_it + β1·R1_it + β2·R2_it + FE + ε_it

D is the unit's own 0/1 treatment. R1 = 1 for untreated units with a treated unit within ``r1_km``
(great-circle distance between unit centroids); R2 = 1 for untreated units with one within
(``r1_km``, ``r2_km``] and none closer. The comparison group is untreated units with no treated unit
within ``r2_km``. Terms: the treatment column, ``within_<r1>km`` and ``within_<r1>_<r2>km``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from entangle.errors import EstimateError
from entangle.estimate.data import Panel
from entangle.estimate.design import DesignFit
from entangle.estimate.geo import ring_exposure
from entangle.estimate.linear import Build, fit_linear

OPTIONS: dict[str, Any] = {"r1_km": 50.0, "r2_km": 100.0}
NEEDS_COORDINATES = True


def terms(panel: Panel, options: dict[str, Any]) -> tuple[str, str, str]:
    r1, r2 = float(options["r1_km"]), float(options["r2_km"])
    return panel.treatment, f"within_{r1:g}km", f"within_{r1:g}_{r2:g}km"


def build(panel: Panel, options: dict[str, Any]) -> Build:
    r1, r2 = float(options["r1_km"]), float(options["r2_km"])
    if not 0 < r1 < r2:
        raise EstimateError(
            "--option r1_km/r2_km", f"need 0 < r1_km < r2_km, got {r1:g}, {r2:g}", "e.g. 50 and 100"
        )
    if not np.isin(panel.d, (0, 1)).all():
        raise EstimateError(
            f"--treatment {panel.treatment}",
            "spillover needs a 0/1 treatment",
            "use --design dose for amounts",
        )
    own, near, far = terms(panel, options)
    ring1, ring2 = ring_exposure(panel.matrix(panel.d), panel.lat, panel.lon, r1, r2)
    for ring, name, radius in ((ring1, near, "r1_km"), (ring2, far, "r2_km")):
        if not ring.any():
            raise EstimateError(
                f"--option {radius}",
                f"no untreated unit has a treated unit in ring {name}",
                "use radii larger than the distance between neighbouring unit centroids",
            )

    def regressors(matrix: np.ndarray) -> dict[str, np.ndarray]:
        ring1, ring2 = ring_exposure(matrix, panel.lat, panel.lon, r1, r2)
        rows = (panel.unit_code, panel.period_code)
        return {own: matrix[rows], near: ring1[rows], far: ring2[rows]}

    return regressors


def fit(panel: Panel, inference: str, options: dict[str, Any], progress: bool = False) -> DesignFit:
    return fit_linear(panel, build(panel, options), inference, options, progress)
