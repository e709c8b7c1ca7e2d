"""Conley (1999) spatial HAC variance, with Hsiang's (2010) panel extension.

pyfixest 0.60 has no Conley errors (its vcov options are iid, hetero, CRV1/3, NW and DK), nor does
any other maintained Python package we found, so this implements it.

For a linear model with (demeaned) regressors X and residuals u, scores s_it = x_it · u_it:

    meat = Σ_t Σ_i Σ_j K(d_ij) s_it s_jt'                        (space: same period, within the cutoff)
         + Σ_i Σ_{l=1..L} w_l Σ_t (s_it s_i,t−l' + s_i,t−l s_it')  (time: same unit, lags up to L)
    V    = (X'X)⁻¹ · meat · (X'X)⁻¹

K is the Bartlett kernel 1 − d/cutoff (or uniform) on great-circle distance d between unit
centroids; K(0) = 1 so each observation pairs with itself once. The time weights w_l are Bartlett
1 − l/(L+1) or uniform. By default L covers the whole panel with uniform weights, so the time part
is exactly clustering by unit, and the space part adds correlation between nearby units within
each period. Cross-unit, cross-period pairs are not included (as in Hsiang's code). No small-sample
correction is applied: with a cutoff below the nearest-neighbour distance and L = T − 1 (uniform) the
result equals CRV0 clustered by unit; with L = 0 it equals HC0.
"""

from __future__ import annotations

import numpy as np

from entangle.errors import EstimateError
from entangle.estimate.data import Panel
from entangle.estimate.geo import Kernel, neighbour_matrix

DEFAULT_CUTOFF_KM = 100.0


def _cube(scores: np.ndarray, panel: Panel) -> np.ndarray:
    """Units × periods × k array of scores (zeros where a unit-period is absent)."""
    cube = np.zeros((panel.n_units, panel.n_periods, scores.shape[1]))
    cube[panel.unit_code, panel.period_code] = scores
    return cube


def conley_meat(
    scores: np.ndarray,
    panel: Panel,
    cutoff_km: float,
    kernel: Kernel = "bartlett",
    lag: int | None = None,
    lag_kernel: Kernel = "uniform",
) -> np.ndarray:
    """The k × k meat for per-observation ``scores`` (n × k); ``lag=None`` means all periods."""
    if panel.lat is None or panel.lon is None:
        raise EstimateError("--inference conley", "needs unit coordinates", "add unit_lat/unit_lon columns")
    if cutoff_km < 0:
        raise EstimateError("--option conley_km", "must be >= 0", "e.g. conley_km=100")
    cube = _cube(scores, panel)
    n, t, k = cube.shape
    weights = neighbour_matrix(panel.lat, panel.lon, cutoff_km, kernel=kernel, include_self=True)
    spread = (weights @ cube.reshape(n, t * k)).reshape(n, t, k)
    meat = np.einsum("ntk,ntl->kl", cube, spread)
    max_lag = t - 1 if lag is None else min(lag, t - 1)
    for ell in range(1, max_lag + 1):
        w = 1.0 if lag_kernel == "uniform" else 1 - ell / (max_lag + 1)
        cross = np.einsum("ntk,ntl->kl", cube[:, ell:, :], cube[:, :-ell, :])
        meat += w * (cross + cross.T)
    return meat


def conley_vcov(
    x_demeaned: np.ndarray,
    residuals: np.ndarray,
    panel: Panel,
    cutoff_km: float = DEFAULT_CUTOFF_KM,
    kernel: Kernel = "bartlett",
    lag: int | None = None,
    lag_kernel: Kernel = "uniform",
) -> np.ndarray:
    """Sandwich variance (k × k) of OLS coefficients on ``x_demeaned`` (see the module docstring)."""
    bread = np.linalg.inv(x_demeaned.T @ x_demeaned)
    meat = conley_meat(x_demeaned * residuals[:, None], panel, cutoff_km, kernel, lag, lag_kernel)
    return bread @ meat @ bread


def unit_level_variance(
    unit_scores: np.ndarray, lat: np.ndarray, lon: np.ndarray, cutoff_km: float, kernel: Kernel = "bartlett"
) -> float:
    """Σ_ij K(d_ij) w_i w_j for per-unit aggregated scores ``w`` (used by the imputation estimator)."""
    weights = neighbour_matrix(lat, lon, cutoff_km, kernel=kernel, include_self=True)
    return float(unit_scores @ (weights @ unit_scores))
