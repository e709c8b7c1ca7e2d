"""Minimum detectable effect (MDE) for a design on a given geography and period.

For a two-sided test at level α with power π, an estimator with standard deviation σ detects
effects of size MDE = (z_{1−α/2} + z_π) · σ (normal approximation; 2.80·σ for 5 % and 80 %).
The methods differ in where σ comes from:

* ``analytic``: the clustered standard error of the design fitted on the panel itself, i.e. the
  panel's own outcome variance, serial and within-cluster correlation, and treatment geography;
* ``placebo``: the standard deviation of the estimate over randomization-inference re-assignments
  of treatment histories (timing among treated units by default), so σ reflects spatial and
  temporal correlation the clustered formula may miss;
* ``simulate``: the standard deviation of the estimate over synthetic panels drawn with
  ``entangle simulate`` settings (units, periods, noise, cohorts) and no effect: for studies whose
  panel does not exist yet.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from entangle.errors import EstimateError
from entangle.estimate.api import estimate
from entangle.simulate import SimulationSpec, simulate_panel

METHODS = ("analytic", "placebo", "simulate")


def multiplier(power: float = 0.8, alpha: float = 0.05) -> float:
    """z_{1−α/2} + z_π."""
    if not (0 < power < 1 and 0 < alpha < 1):
        raise EstimateError(
            "--power/--alpha", "must be strictly between 0 and 1", "e.g. --power 0.8 --alpha 0.05"
        )
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def mde_for_panel(
    frame: pd.DataFrame,
    design: str,
    outcome: str,
    treatment: str,
    method: str = "analytic",
    power: float = 0.8,
    alpha: float = 0.05,
    **kwargs: Any,
) -> dict[str, Any]:
    """MDE of the design's first term on an existing panel (``analytic`` or ``placebo``)."""
    if method not in ("analytic", "placebo"):
        raise EstimateError("--method", f"{method!r} needs no panel or is unknown", "analytic or placebo")
    inference = "ri" if method == "placebo" else "cluster"
    result = estimate(frame, design, outcome, treatment, inference=inference, **kwargs)
    first = result.estimates[0]
    sigma = result.extra["ri"]["placebo_sd"][0] if method == "placebo" else first.std_error
    return {
        "method": method,
        "design": design,
        "outcome": outcome,
        "treatment": treatment,
        "term": first.term,
        "sigma": sigma,
        "mde": multiplier(power, alpha) * sigma,
        "power": power,
        "alpha": alpha,
        "n_obs": result.n_obs,
        "n_units": result.n_units,
        "warnings": result.warnings,
    }


def mde_by_simulation(
    spec: SimulationSpec,
    design: str = "twfe",
    draws: int = 200,
    power: float = 0.8,
    alpha: float = 0.05,
    progress: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """MDE from the spread of the estimate over ``draws`` synthetic null panels (effect 0)."""
    if draws < 20:
        raise EstimateError("--draws", "too few draws to estimate a standard deviation", "use --draws >= 100")
    null = replace(spec, effect=0.0, heterogeneity=0.0, dynamic=0.0, spill_effects=(0.0, 0.0))
    seeds = range(spec.seed, spec.seed + draws)
    if progress:
        from rich.console import Console
        from rich.progress import track

        seeds = track(seeds, description="simulating", transient=True, console=Console(stderr=True))
    values, ses = [], []
    for seed in seeds:
        frame, meta = simulate_panel(replace(null, seed=seed))
        result = estimate(frame, design, meta["outcome"], meta["treatment"], **options)
        values.append(result.estimates[0].estimate)
        ses.append(result.estimates[0].std_error)
    sigma = float(np.std(values, ddof=1))
    return {
        "method": "simulate",
        "design": design,
        "simulation": {"units": spec.units, "periods": spec.periods, "design": spec.design, "draws": draws},
        "sigma": sigma,
        "mde": multiplier(power, alpha) * sigma,
        "mean_clustered_se": float(np.mean(ses)),
        "power": power,
        "alpha": alpha,
    }
