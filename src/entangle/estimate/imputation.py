"""The imputation estimator of Borusyak, Jaravel & Spiess (2024), sparse.

1. Fit y = α_i + λ_t + X·δ on untreated observations (never-treated units and not-yet-treated
   periods) by sparse least squares.
2. Impute Y(0) for treated observations; τ_it = y_it − Ŷ(0)_it.
3. Each target (the overall ATT, or event time h) is a weighted average of τ_it.

Variance: the estimate is linear in y, Σ v_it·y_it, with v = w on treated observations and
v = −Z0 (Z0'Z0)⁻¹ Z1'w on untreated ones. BJS's conservative estimator (their Theorem 3) sums the
unit scores Σ_t v_it·ε̃_it within clusters, where ε̃ is the stage-1 residual on untreated
observations and τ_it − τ̄ on treated ones, τ̄ being the v-weighted mean of the *other* treated
observations of the same cohort × period (the leave-out version BJS recommend for small cells);
an observation alone in its cell takes the mean of its event time, then of all treated observations.
For Conley inference the unit scores are combined with the spatial kernel between units instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from entangle.errors import EstimateError
from entangle.estimate.data import Panel
from entangle.estimate.inference.conley import unit_level_variance
from entangle.estimate.result import Estimate
from entangle.estimate.timing import event_time


def _columns(panel: Panel, rows: np.ndarray, units: np.ndarray, periods: np.ndarray) -> sp.csc_matrix:
    """Sparse design [unit dummies | period dummies (first dropped) | controls] for ``rows``."""
    n = len(rows)
    unit_col = np.searchsorted(units, panel.unit_code[rows])
    period_pos = np.searchsorted(periods, panel.period_code[rows])
    has_period = period_pos > 0
    nu, nt = len(units), len(periods) - 1
    i = np.concatenate([np.arange(n), np.flatnonzero(has_period)])
    j = np.concatenate([unit_col, nu + period_pos[has_period] - 1])
    dummies = sp.csc_matrix((np.ones(len(i)), (i, j)), shape=(n, nu + nt))
    if panel.x.shape[1] == 0:
        return dummies
    return sp.hstack([dummies, sp.csc_matrix(panel.x[rows])], format="csc")


def impute(panel: Panel, onset: np.ndarray) -> dict[str, Any]:
    """Stage 1 and imputed effects. Treated rows whose unit or period has no untreated row are left out."""
    rel, ever = event_time(panel, onset)
    treated = ever & (rel >= 0)
    untreated_rows = np.flatnonzero(~treated)
    if len(untreated_rows) == 0:
        raise EstimateError("--design did", "no untreated observations to impute from", "check the treatment")
    units = np.unique(panel.unit_code[untreated_rows])
    periods = np.unique(panel.period_code[untreated_rows])
    treated_rows = np.flatnonzero(treated)
    estimable = np.isin(panel.unit_code[treated_rows], units) & np.isin(
        panel.period_code[treated_rows], periods
    )
    dropped = int((~estimable).sum())
    treated_rows = treated_rows[estimable]
    if len(treated_rows) == 0:
        raise EstimateError(
            "--design did", "no treated observation has an untreated comparison", "check the treatment timing"
        )
    z0 = _columns(panel, untreated_rows, units, periods)
    z1 = _columns(panel, treated_rows, units, periods)
    gram = (z0.T @ z0).tocsc()
    try:
        solver = splu(gram)
    except RuntimeError:
        raise EstimateError(
            "--design did", "the untreated observations do not identify the fixed effects", "check the panel"
        ) from None
    y0 = panel.y[untreated_rows]
    beta = solver.solve(z0.T @ y0)
    return {
        "z0": z0,
        "z1": z1,
        "solver": solver,
        "untreated_rows": untreated_rows,
        "treated_rows": treated_rows,
        "residual0": y0 - z0 @ beta,
        "tau": panel.y[treated_rows] - z1 @ beta,
        "rel": rel[treated_rows],
        "dropped": dropped,
    }


def targets(stage: dict[str, Any], horizons: list[int]) -> dict[str, np.ndarray]:
    """Weights over treated rows: ``ATT`` (all equally) and ``e=h`` for each horizon present."""
    rel = stage["rel"]
    out = {"ATT": np.full(len(rel), 1.0 / len(rel))}
    for h in horizons:
        hit = rel == h
        if hit.any():
            out[f"e={h}"] = hit / hit.sum()
    return out


def point_estimates(stage: dict[str, Any], weights: dict[str, np.ndarray]) -> np.ndarray:
    return np.array([w @ stage["tau"] for w in weights.values()])


def estimates(
    panel: Panel,
    onset: np.ndarray,
    stage: dict[str, Any],
    weights: dict[str, np.ndarray],
    options: dict[str, Any],
    inference: str,
) -> list[Estimate]:
    """Point estimates with BJS conservative standard errors (clustered, or Conley between units)."""
    w1 = np.column_stack(list(weights.values()))
    gamma = stage["solver"].solve(np.asarray(stage["z1"].T @ w1))
    v0 = -(stage["z0"] @ gamma)
    tau = stage["tau"]
    treated_rows, untreated_rows = stage["treated_rows"], stage["untreated_rows"]
    cohort = onset[panel.unit_code[treated_rows]].astype(np.int64)
    period = panel.period_code[treated_rows]
    # Cells for the leave-one-out means, finest first: cohort × period, then event time (cohorts
    # pooled), then every treated observation. An observation alone in its cell takes the mean of
    # the next coarser one; were its own τ used, its residual and its share of the variance would be 0.
    cells = [
        pd.factorize(cohort * (panel.n_periods + 1) + period)[0],
        pd.factorize(period - cohort)[0],
        np.zeros(len(tau), dtype=np.int64),
    ]
    out = []
    for m, term in enumerate(weights):
        w = w1[:, m]
        mean = np.zeros(len(tau))
        found = np.zeros(len(tau), dtype=bool)
        for cell in cells:
            level, ok = _leave_one_out_mean(cell, w, tau)
            mean = np.where(found, mean, level)
            found |= ok
        scores = np.bincount(
            np.concatenate([panel.unit_code[treated_rows], panel.unit_code[untreated_rows]]),
            weights=np.concatenate([w * (tau - mean), v0[:, m] * stage["residual0"]]),
            minlength=panel.n_units,
        )
        if inference == "conley":
            variance = unit_level_variance(
                scores, panel.lat, panel.lon, float(options["conley_km"]), options["conley_kernel"]
            )
        else:
            unit_cluster = np.zeros(panel.n_units, dtype=np.int64)
            unit_cluster[panel.unit_code] = panel.cluster_code
            variance = float((np.bincount(unit_cluster, weights=scores) ** 2).sum())
        out.append(Estimate.normal(term, float(w @ tau), float(np.sqrt(max(variance, 0.0)))))
    return out


def _leave_one_out_mean(cell: np.ndarray, w: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per observation, the w-weighted mean τ of the *other* observations of its cell (BJS §4.3; the
    plain mean where those carry no weight), and whether it has any other observation."""
    wsum = np.bincount(cell, weights=w)[cell] - w
    wtau = np.bincount(cell, weights=w * tau)[cell] - w * tau
    count = np.bincount(cell)[cell] - 1
    plain = (np.bincount(cell, weights=tau)[cell] - tau) / np.maximum(count, 1)
    mean = np.where(wsum > 0, wtau / np.where(wsum > 0, wsum, 1), plain)
    return mean, count > 0
