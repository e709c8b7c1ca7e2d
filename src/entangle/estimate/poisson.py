"""Count outcomes: Poisson pseudo-maximum likelihood (PPML) with fixed effects, via pyfixest ``fepois``.

E[y_it] = exp(β·D_it + controls + α_i + λ_t). β is a log rate ratio: exp(β) is the incidence-rate
ratio (IRR) and 100·(exp(β) − 1) the percent change in the expected count. PPML is consistent
whenever the conditional mean is right, whatever the variance (Santos Silva & Tenreyro 2006), so
over-dispersed counts and non-integer rates are fine; negative outcomes are not.

Separation: a fixed-effect group (a unit, a period, ...) whose outcome is zero in every row has an
effect of −∞ and carries no information on β; its rows are dropped before the fit, repeatedly until
no such group is left (Correia, Guimarães & Zylkin 2021). pyfixest's ReLU check then drops rows
separated by the regressors themselves. Both are counted (observations, units, clusters, periods)
in ``extra.separation`` and in a warning, never silently.
"""

from __future__ import annotations

import math
import warnings as pywarnings
from typing import Any

import numpy as np

from entangle.errors import EstimateError
from entangle.estimate.data import FRAGILE_CLUSTERS, MIN_CLUSTERS, Panel
from entangle.estimate.inference import cluster as crv
from entangle.estimate.linear import DesignFit, user_formula


def separated_rows(y: np.ndarray, effects: dict[str, np.ndarray]) -> np.ndarray:
    """Rows in a fixed-effect group whose outcome is all zero, after repeated removal."""
    keep = np.ones(len(y), dtype=bool)
    while True:
        drop = np.zeros(len(y), dtype=bool)
        for codes in effects.values():
            totals = np.bincount(codes[keep], weights=y[keep], minlength=int(codes.max()) + 1)
            drop |= keep & (totals[codes] == 0)
        if not drop.any():
            return ~keep
        keep &= ~drop


def _count(codes: np.ndarray, dropped: np.ndarray) -> int:
    """Groups with every row dropped."""
    kept = np.bincount(codes[~dropped], minlength=int(codes.max()) + 1)
    return int((kept == 0).sum())


def fit_poisson(
    panel: Panel, regressors: dict[str, np.ndarray], effects: dict[str, np.ndarray], fixef: str
) -> DesignFit:
    """PPML of ``y ~ regressors + controls | effects`` with clustered errors (CRV1)."""
    import pyfixest as pf

    negative = int((panel.y < 0).sum())
    if negative:
        raise EstimateError(
            f"--outcome {panel.outcome}",
            f"{negative} negative values; a Poisson model needs counts or non-negative rates",
            "use --family linear, or a non-negative outcome",
        )
    separated = separated_rows(panel.y, effects)
    if separated.all():
        raise EstimateError(
            f"--outcome {panel.outcome}", "is zero in every row", "a Poisson model needs some positive counts"
        )
    clusters = panel.n_clusters - _count(panel.cluster_code, separated)
    if clusters < MIN_CLUSTERS:
        raise EstimateError(
            f"--outcome {panel.outcome}",
            f"only {clusters} clusters keep a non-zero outcome after Poisson separation",
            "clustered errors need many more; use --family linear or a broader outcome",
        )
    fragile = ""
    if clusters < FRAGILE_CLUSTERS:
        fragile = (
            f"poisson: only {clusters} clusters (< {FRAGILE_CLUSTERS}) left after separation: clustered "
            "standard errors are fragile"
        )
    internal = {f"r{k}": term for k, term in enumerate(regressors)}
    frame = panel.frame({name: regressors[term] for name, term in internal.items()} | effects)
    frame = frame.loc[~separated].reset_index(drop=True)
    for name, term in internal.items():
        if np.ptp(frame[name].to_numpy()) == 0:
            raise EstimateError(
                f"term {term}",
                "does not vary among the rows left after Poisson separation",
                "the treated rows all sit in groups with zero outcomes; use --family linear",
            )
    rhs = " + ".join([*internal, *(f"c{k}" for k in range(panel.x.shape[1]))])
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")  # pyfixest's separation warnings: we count and report them
        fit = pf.fepois(
            f"y ~ {rhs} | {' + '.join(effects)}",
            data=frame,
            vcov=crv.vcov_spec(panel),
            separation_check=["fe", "ir"],
            copy_data=False,  # the working frame is ours alone
        )
    if fit._collin_vars:
        names = internal | {f"c{k}": c for k, c in enumerate(panel.controls)}
        dropped = ", ".join(names.get(v, v) for v in fit._collin_vars)
        raise EstimateError(
            "model",
            f"{dropped} collinear with the fixed effects or other regressors among the rows left "
            "after Poisson separation",
            "drop it from --controls, or use --family linear",
        )
    by_regressors = len(frame) - int(fit._N)
    dropped_obs = int(separated.sum()) + by_regressors
    separation = {
        "obs_dropped": dropped_obs,
        "obs_dropped_fixed_effects": int(separated.sum()),
        "obs_dropped_regressors": by_regressors,
        "units_dropped": _count(panel.unit_code, separated),
        "periods_dropped": _count(panel.period_code, separated),
        "clusters_dropped": _count(panel.cluster_code, separated),
        "reason": "fixed-effect groups with an all-zero outcome (their effect is -inf; no information on "
        "the coefficients), then pyfixest's ReLU check for separation by the regressors",
    }
    warnings = [fragile] if fragile else []
    if dropped_obs:
        warnings.append(
            f"poisson: {dropped_obs} of {panel.n_obs} observations dropped for separation "
            f"({separation['units_dropped']} units and {separation['periods_dropped']} periods with an "
            f"all-zero outcome; {by_regressors} rows separated by the regressors)"
        )
    estimates = crv.estimates_from_fit(fit, internal)
    names = list(fit._coefnames)
    index = [names.index(name) for name in internal]
    irr = {
        e.term: {
            "irr": math.exp(e.estimate),
            "irr_ci_low": math.exp(e.ci_low),
            "irr_ci_high": math.exp(e.ci_high),
            "pct_change": 100 * math.expm1(e.estimate),
        }
        for e in estimates
    }
    formula = "poisson: " + user_formula(panel, list(regressors), fixef)
    extra: dict[str, Any] = {"separation": separation, "poisson": irr, "model": "poisson (PPML)"}
    vcov = np.asarray(fit._vcov)[np.ix_(index, index)]
    return DesignFit(estimates, formula, vcov, extra, warnings)
