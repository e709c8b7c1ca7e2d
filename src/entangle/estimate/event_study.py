"""Event study: dynamic effects around treatment onset, with leads, lags, binned endpoints and a
pre-trend test.

``estimator=twfe`` (default): y_it = Σ_e β_e·1[event time = e] + controls + α_i + λ_t + ε_it, event
time binned at ``-leads`` (all earlier periods) and ``lags`` (all later), e = −1 the reference.
Never-treated units have all indicators 0. Terms ``e=-4`` … ``e=8``. Pre-trend test: Wald χ² that
all lead coefficients (e ≤ −2) are zero, with the design's variance. With heterogeneous effects
across cohorts the lead/lag coefficients can be contaminated (Sun & Abraham 2021): compare with
``estimator=imputation`` — per-horizon effects e=0…lags by the imputation estimator, with BJS's
pre-trend test (leads regressed on untreated observations only).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from entangle.errors import EstimateError
from entangle.estimate import imputation
from entangle.estimate.data import Panel
from entangle.estimate.inference import cluster as crv
from entangle.estimate.linear import Build, DesignFit, fit_linear
from entangle.estimate.timing import event_time, onsets, timing_warnings

OPTIONS: dict[str, Any] = {"leads": 4, "lags": 8, "estimator": "twfe"}


def _bins(options: dict[str, Any]) -> tuple[int, int]:
    leads, lags = int(options["leads"]), int(options["lags"])
    if leads < 2 or lags < 0:
        raise EstimateError("--option leads/lags", "need leads >= 2 and lags >= 0", "e.g. leads=4 lags=8")
    return leads, lags


def _all_terms(panel: Panel, matrix: np.ndarray, leads: int, lags: int) -> dict[str, np.ndarray]:
    rel, ever = event_time(panel, onsets(matrix))
    binned = np.clip(rel, -leads, lags)
    return {f"e={e}": (ever & (binned == e)).astype(float) for e in range(-leads, lags + 1) if e != -1}


def observed_terms(panel: Panel, options: dict[str, Any]) -> list[str]:
    """Event times that occur in the panel (a short panel may not reach ``lags`` or ``-leads``)."""
    leads, lags = _bins(options)
    terms = _all_terms(panel, panel.matrix(panel.d), leads, lags)
    return [term for term, values in terms.items() if values.any()]


def build(panel: Panel, options: dict[str, Any]) -> Build:
    leads, lags = _bins(options)
    keep = observed_terms(panel, options)

    def regressors(matrix: np.ndarray) -> dict[str, np.ndarray]:
        terms = _all_terms(panel, matrix, leads, lags)
        return {term: terms[term] for term in keep}

    return regressors


def wald(estimates: np.ndarray, vcov: np.ndarray) -> dict[str, float]:
    stat = float(estimates @ np.linalg.solve(vcov, estimates))
    return {"stat": stat, "df": len(estimates), "p_value": float(stats.chi2.sf(stat, len(estimates)))}


def _imputation_pretrend(panel: Panel, onset: np.ndarray, leads: int) -> dict[str, Any]:
    import pyfixest as pf

    rel, ever = event_time(panel, onset)
    untreated = ~(ever & (rel >= 0))
    frame = panel.frame()[untreated].copy()
    names = []
    for k, e in enumerate(range(-leads, 0)):
        frame[f"l{k}"] = (ever & (rel == e))[untreated].astype(float)  # earlier periods are the reference
        names.append(f"l{k}")
    controls = [f"c{k}" for k in range(panel.x.shape[1])]
    fit = pf.feols(
        f"y ~ {' + '.join(names + controls)} | unit + period", data=frame, vcov=crv.vcov_spec(panel)
    )
    index = [list(fit._coefnames).index(n) for n in names]
    result = wald(np.asarray(fit._beta_hat)[index], np.asarray(fit._vcov)[np.ix_(index, index)])
    return result | {"terms": [f"e={e}" for e in range(-leads, 0)], "test": "BJS: leads on untreated obs"}


def fit(panel: Panel, inference: str, options: dict[str, Any], progress: bool = False) -> DesignFit:
    leads, lags = _bins(options)
    matrix = panel.matrix(panel.d)
    onset = onsets(matrix)
    notes = timing_warnings(panel, matrix, onset)
    if options["estimator"] == "imputation":
        if inference == "ri":
            raise EstimateError(
                "--inference ri", "not available for the imputation event study", "use estimator=twfe"
            )
        stage = imputation.impute(panel, onset)
        weights = imputation.targets(stage, list(range(lags + 1)))
        weights.pop("ATT")
        ests = imputation.estimates(panel, onset, stage, weights, options, inference)
        formula = f"{panel.outcome}: imputation event study e=0..{lags} (Borusyak-Jaravel-Spiess)"
        return DesignFit(ests, formula, None, {"pretrend": _imputation_pretrend(panel, onset, leads)}, notes)
    if options["estimator"] != "twfe":
        raise EstimateError("--option estimator", f"unknown {options['estimator']!r}", "twfe or imputation")
    missing = [
        f"e={e}"
        for e in range(-leads, lags + 1)
        if e != -1 and f"e={e}" not in observed_terms(panel, options)
    ]
    if missing:
        notes.append(
            f"no observations at {', '.join(missing)}; those terms are left out (shorten leads/lags)"
        )
    result = fit_linear(panel, build(panel, options), inference, options, progress)
    result.warnings[:0] = notes
    lead_idx = [k for k, e in enumerate(result.estimates) if int(e.term[2:]) <= -2]
    if not lead_idx:
        result.warnings.append("no lead terms: no pre-trend test")
        return result
    beta = np.array([result.estimates[k].estimate for k in lead_idx])
    test = wald(beta, result.vcov[np.ix_(lead_idx, lead_idx)])
    result.extra["pretrend"] = test | {
        "terms": [result.estimates[k].term for k in lead_idx],
        "test": "Wald chi2: all leads = 0",
    }
    if test["p_value"] < 0.05:
        result.warnings.append(f"pre-trend test rejects parallel trends (p = {test['p_value']:.3g})")
    return result
