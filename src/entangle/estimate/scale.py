"""The scale of an effect: what the outcome usually is, and what the design could have detected.

Every Result carries ``scale`` (docs/estimation.md):

* ``outcome_mean``: mean outcome over the estimation sample;
* ``outcome_mean_treated_pre``: mean outcome of ever-treated units before their first treated period
  (the treatment is non-zero for the first time), None when no such rows exist;
* ``effect_pct_of_mean``: the headline estimate as a percentage of ``outcome_mean`` (linear), or the
  percent change 100·(exp(β) − 1) (Poisson, whose coefficient is already relative);
* ``mde``: minimum detectable effect at 80 % power in a two-sided 5 % test from the design's own
  standard error, (z₀.₉₇₅ + z₀.₈)·SE = 2.80·SE, on the coefficient's scale;
* ``mde_pct_of_mean``: the same as a percentage of ``outcome_mean`` (linear) or 100·(exp(MDE) − 1)
  (Poisson);
* ``term``: which estimate is the headline (the treatment's coefficient, ``ATT``, or ``e=0``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

from entangle.estimate.data import Panel
from entangle.estimate.result import Estimate

MDE_MULTIPLIER = float(stats.norm.ppf(0.975) + stats.norm.ppf(0.8))  # 2.8016


def headline(estimates: list[Estimate], treatment: str) -> Estimate | None:
    """The estimate a reader looks at first: the treatment's coefficient, the ATT, or the onset."""
    for name in (treatment, "ATT", "e=0"):
        for est in estimates:
            if est.term == name:
                return est
    return estimates[0] if estimates else None


def treated_pre_mask(panel: Panel) -> np.ndarray:
    """Rows of ever-treated units before their first period with a non-zero treatment."""
    nonzero = panel.d != 0
    treated = np.zeros((panel.n_units, panel.n_periods), dtype=bool)  # a scatter, then one argmax:
    treated[panel.unit_code[nonzero], panel.period_code[nonzero]] = True  # 5x faster than minimum.at
    onset = np.where(treated.any(axis=1), treated.argmax(axis=1), -1)
    return panel.period_code < onset[panel.unit_code]


def effect_scale(panel: Panel, estimates: list[Estimate], family: str = "linear") -> dict[str, Any]:
    """The ``scale`` block of a Result (see the module docstring)."""
    mean = float(panel.y.mean())
    pre = treated_pre_mask(panel)  # never-treated units have onset -1: no row is "before" it
    out: dict[str, Any] = {
        "outcome_mean": mean,
        "outcome_mean_treated_pre": float(panel.y[pre].mean()) if pre.any() else None,
        "effect_pct_of_mean": None,
        "mde": None,
        "mde_pct_of_mean": None,
        "term": None,
    }
    est = headline(estimates, panel.treatment)
    if est is None:
        return out
    mde = MDE_MULTIPLIER * est.std_error
    out |= {"term": est.term, "mde": mde}
    if family == "poisson":
        out["effect_pct_of_mean"] = 100 * math.expm1(est.estimate)
        out["mde_pct_of_mean"] = 100 * math.expm1(mde) if math.isfinite(mde) else None
    elif mean != 0:
        out["effect_pct_of_mean"] = 100 * est.estimate / mean
        out["mde_pct_of_mean"] = 100 * mde / mean
    return out
