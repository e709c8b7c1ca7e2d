"""Event study: dynamic effects around treatment onset, with leads, lags, binned end points, counts
per event time, a cohort table and checks on the reference period.

``estimator=imputation`` (default): per-horizon effects e=0…lags by the imputation estimator of
Borusyak, Jaravel & Spiess (robust to effects that differ across cohorts and over time), the last
horizon binned (e ≥ lags); the leads e=−leads…−1 are BJS's pre-trend coefficients (leads regressed
on untreated observations, relative to earlier periods and never-treated units) with their Wald test.
``estimator=cs``: Callaway & Sant'Anna event-time aggregation (``differences``), not binned.
``estimator=twfe``: y_it = Σ_e β_e·1[event time = e] + controls + α_i + λ_t + ε_it, event time binned
at −leads (all earlier) and lags (all later), the reference e = −1 (``reference=-1``) or the mean of
e = −1…−``reference_periods`` (``reference=pre_mean``). Under staggered adoption with heterogeneous
effects its coefficients mix cohorts with negative weights (Sun & Abraham 2021); it is fitted beside
the robust estimator anyway and stored in ``extra.comparison`` so the two can be shown together.

``extra.event_time``: per term its event time, label (``≤−4``, ``≥8`` for the binned end points) and
the number of treated units and observations behind it. ``extra.cohorts``: one row per onset period.
``extra.reference``: the reference-period check (see ``reference_check``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
from scipy import stats

from entangle.errors import EstimateError
from entangle.estimate import imputation
from entangle.estimate.data import Panel
from entangle.estimate.inference import cluster as crv
from entangle.estimate.linear import Build, DesignFit, fit_linear
from entangle.estimate.timing import cohort_table, event_time, onsets, timing_warnings

ESTIMATORS = ("imputation", "cs", "twfe")
REFERENCES = ("-1", "pre_mean")
OPTIONS: dict[str, Any] = {
    "leads": 4,
    "lags": 8,
    "estimator": "imputation",
    "reference": "-1",
    "reference_periods": 3,
    "control_group": "never",
    "censored_onsets": "exclude",
}
OUTLIER_Z = 4.0  # robust z above which the reference is an outlier (null false-alarm ≈ 2.5 %, docs)
OUTLIER_WINDOW = 8  # pre-periods e = −2 … −8 form the comparison for the reference check
MAX_WINDOW = 60  # leads and lags beyond this are refused (each is a regressor)


def _bins(options: dict[str, Any]) -> tuple[int, int]:
    leads, lags = int(options["leads"]), int(options["lags"])
    if leads < 2 or lags < 0:
        raise EstimateError("--option leads/lags", "need leads >= 2 and lags >= 0", "e.g. leads=4 lags=8")
    if leads > MAX_WINDOW or lags > MAX_WINDOW:
        raise EstimateError(
            "--option leads/lags", f"at most {MAX_WINDOW} each", "bin the end points: e.g. leads=4 lags=8"
        )
    return leads, lags


def reference_set(options: dict[str, Any]) -> tuple[int, ...]:
    """The omitted event times of the TWFE event study."""
    reference = str(options["reference"])
    if reference not in REFERENCES:
        raise EstimateError("--option reference", f"unknown {reference!r}", "-1 or pre_mean")
    if reference == "-1":
        return (-1,)
    k = int(options["reference_periods"])
    if not 2 <= k < int(options["leads"]):
        raise EstimateError(
            "--option reference_periods",
            f"need 2 <= reference_periods < leads, got {k}",
            "e.g. 3 with leads=4",
        )
    return tuple(range(-k, 0))


def label(e: int, leads: int, lags: int, binned: bool = True) -> str:
    """How an event time is shown: the binned end points as ``≤−4`` and ``≥8``."""
    text = str(e).replace("-", "−")
    if binned and e == -leads:
        return f"≤{text}"
    if binned and e == lags:
        return f"≥{text}"
    return text


def _all_terms(
    panel: Panel, matrix: np.ndarray, leads: int, lags: int, omit: tuple[int, ...] = (-1,)
) -> dict[str, np.ndarray]:
    rel, ever = event_time(panel, onsets(matrix))
    binned = np.clip(rel, -leads, lags)
    return {f"e={e}": (ever & (binned == e)).astype(float) for e in range(-leads, lags + 1) if e not in omit}


def observed_terms(panel: Panel, options: dict[str, Any]) -> list[str]:
    """Event times that occur in the panel (a short panel may not reach ``lags`` or ``-leads``)."""
    leads, lags = _bins(options)
    terms = _all_terms(panel, panel.matrix(panel.d), leads, lags, reference_set(options))
    return [term for term, values in terms.items() if values.any()]


def build(panel: Panel, options: dict[str, Any], keep: list[str] | None = None) -> Build:
    """The TWFE event-time regressors; ``keep``: the observed terms, when already known."""
    leads, lags = _bins(options)
    omit = reference_set(options)
    keep = observed_terms(panel, options) if keep is None else keep

    def regressors(matrix: np.ndarray) -> dict[str, np.ndarray]:
        terms = _all_terms(panel, matrix, leads, lags, omit)
        return {term: terms[term] for term in keep}

    return regressors


def wald(estimates: np.ndarray, vcov: np.ndarray) -> dict[str, float]:
    stat = float(estimates @ np.linalg.solve(vcov, estimates))
    return {"stat": stat, "df": len(estimates), "p_value": float(stats.chi2.sf(stat, len(estimates)))}


def event_time_table(
    panel: Panel, onset: np.ndarray, leads: int, lags: int, bin_leads: bool, bin_lags: bool
) -> list[dict]:
    """Per event time (end points binned as asked): treated units and observations."""
    rel, ever = event_time(panel, onset)
    rows = []
    for e in range(-leads, lags + 1):
        binned = (bin_leads and e == -leads) or (bin_lags and e == lags)
        hit = ever & ((rel <= e) if binned and e < 0 else (rel >= e) if binned else (rel == e))
        rows.append(
            {
                "term": f"e={e}",
                "event_time": e,
                "label": label(e, leads, lags) if binned else label(e, leads, lags, binned=False),
                "binned": binned,
                "treated_units": int(np.count_nonzero(np.bincount(panel.unit_code[hit], minlength=1))),
                "observations": int(hit.sum()),
            }
        )
    return rows


def pre_period_rows(panel: Panel, onset: np.ndarray) -> dict[int, np.ndarray]:
    """Rows of treated units at each pre-period e = −1 … −OUTLIER_WINDOW that occurs."""
    rel, ever = event_time(panel, onset)
    out = {}
    for e in range(-1, -OUTLIER_WINDOW - 1, -1):
        rows = np.flatnonzero(ever & (rel == e))
        if len(rows):
            out[e] = rows
    return out


def reference_check(
    panel: Panel, onset: np.ndarray, z_limit: float = OUTLIER_Z, pre_rows: dict | None = None
) -> dict[str, Any]:
    """Is the treated units' outcome in the reference period (e = −1) an outlier among their pre-periods?

    Rule: for each pre-period e = −1, −2, …, −OUTLIER_WINDOW (exact, not binned) take m_e, the mean over
    treated units observed at e of y_it − ȳ_t (the outcome net of the all-unit mean of its period, so
    calendar shocks shared by everyone do not count). The robust z-score is
    z = (m_−1 − median(m_−2…)) / (1.4826 · MAD(m_−2…)); |z| > 4 is an outlier. Needs 3 comparison
    periods. With a TWFE event study every coefficient is measured against m_−1, so an outlying
    reference shifts them all.
    """
    if pre_rows is None:
        pre_rows = pre_period_rows(panel, onset)
    period_mean = np.bincount(panel.period_code, weights=panel.y) / np.bincount(panel.period_code)
    means = {}
    for e, rows in pre_rows.items():
        means[e] = float((panel.y[rows] - period_mean[panel.period_code[rows]]).mean())
    others = np.array([m for e, m in means.items() if e != -1])
    out: dict[str, Any] = {
        "rule": (
            f"robust z of the treated units' mean outcome at e=-1 (net of period means) against "
            f"e=-2..-{OUTLIER_WINDOW}: |z| > {z_limit:g} is an outlier"
        ),
        "means": {f"e={e}": m for e, m in means.items()},
    }
    if -1 not in means or len(others) < 3:
        return out | {"z": None, "outlier": False, "note": "too few pre-periods to judge the reference"}
    median = float(np.median(others))
    mad = 1.4826 * float(np.median(np.abs(others - median)))
    gap = means[-1] - median
    scale = mad if mad > 0 else float(np.std(others)) or 0.0
    z = gap / scale if scale > 0 else (0.0 if gap == 0 else float(np.sign(gap)) * np.inf)
    return out | {"z": z, "outlier": bool(abs(z) > z_limit), "median_other": median, "mad": mad}


def _imputation_pretrend(panel: Panel, onset: np.ndarray, leads: int) -> tuple[dict[str, Any], list]:
    import pyfixest as pf

    from entangle.estimate.result import Estimate

    rel, ever = event_time(panel, onset)
    untreated = ~(ever & (rel >= 0))
    frame = panel.frame()[untreated].copy()
    names, terms = [], []
    for k, e in enumerate(range(-leads, 0)):
        hit = (ever & (rel == e))[untreated]
        if hit.any():  # a short panel may not reach every lead
            frame[f"l{k}"] = hit.astype(float)  # earlier periods are the reference
            names.append(f"l{k}")
            terms.append(f"e={e}")
    controls = [f"c{k}" for k in range(panel.x.shape[1])]
    fit = pf.feols(
        f"y ~ {' + '.join(names + controls)} | unit + period", data=frame, vcov=crv.vcov_spec(panel)
    )
    index = [list(fit._coefnames).index(n) for n in names]
    result = wald(np.asarray(fit._beta_hat)[index], np.asarray(fit._vcov)[np.ix_(index, index)])
    tidy = fit.tidy()
    leads_est = [
        Estimate(
            term,
            float(tidy.loc[n, "Estimate"]),
            float(tidy.loc[n, "Std. Error"]),
            float(tidy.loc[n, "2.5%"]),
            float(tidy.loc[n, "97.5%"]),
            float(tidy.loc[n, "Pr(>|t|)"]),
        )
        for n, term in zip(names, terms, strict=True)
    ]
    test = result | {"terms": terms, "test": "BJS: leads on untreated obs"}
    return test, leads_est


def _imputation(panel: Panel, onset: np.ndarray, inference: str, options: dict[str, Any]) -> DesignFit:
    leads, lags = _bins(options)
    if inference == "ri":
        raise EstimateError(
            "--inference ri", "not available for the imputation event study", "use estimator=twfe"
        )
    stage = imputation.impute(panel, onset)
    rel = stage["rel"]
    weights = {}
    for h in range(lags + 1):
        hit = rel == h if h < lags else rel >= lags  # the last horizon pools all later periods
        if hit.any():
            weights[f"e={h}"] = hit / hit.sum()
    post = imputation.estimates(panel, onset, stage, weights, options, inference)
    pretrend, lead_est = _imputation_pretrend(panel, onset, leads)
    notes = []
    if stage["dropped"]:
        notes.append(f"{stage['dropped']} treated unit-periods have no untreated comparison and are left out")
    if pretrend["p_value"] < 0.05:
        notes.append(f"pre-trend test rejects parallel trends (p = {pretrend['p_value']:.3g})")
    formula = (
        f"{panel.outcome}: imputation event study e=0..{lags} (last binned), "
        "Borusyak-Jaravel-Spiess; leads from the pre-trend regression on untreated observations"
    )
    return DesignFit([*lead_est, *post], formula, None, {"pretrend": pretrend}, notes)


def _cs(panel: Panel, onset: np.ndarray, inference: str, options: dict[str, Any]) -> DesignFit:
    from entangle.estimate import did

    if inference != "cluster" or panel.cluster != panel.unit:
        raise EstimateError(
            f"--inference {inference}",
            "the Callaway–Sant'Anna event study has unit-clustered errors only",
            "use estimator=imputation",
        )
    ests = did._cs(panel, onset, options | {"event": True})[1:]  # drop the overall ATT
    formula = (
        f"ATT(g, g+e) of {panel.outcome} on cohorts of {panel.treatment}, event-time aggregation "
        f"(Callaway-Sant'Anna, {options['control_group']} controls)"
    )
    return DesignFit(ests, formula, None, {}, [])


def _twfe(
    panel: Panel, inference: str, options: dict[str, Any], progress: bool, present: list[str]
) -> DesignFit:
    leads, lags = _bins(options)
    omit = reference_set(options)
    missing = [f"e={e}" for e in range(-leads, lags + 1) if e not in omit and f"e={e}" not in present]
    result = fit_linear(panel, build(panel, options, present), inference, options, progress)
    if missing:
        result.warnings.insert(
            0, f"no observations at {', '.join(missing)}; those terms are left out (shorten leads/lags)"
        )
    lead_idx = [k for k, e in enumerate(result.estimates) if int(e.term[2:]) < 0]
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


def timing(panel: Panel, options: dict[str, Any]) -> dict[str, Any]:
    """What the event study needs from the treatment's timing alone (not the outcome): onsets,
    timing warnings, the observed TWFE terms, counts per event time and the cohort table. The
    multiverse computes it once for all the outcomes and controls fitted on one treatment."""
    leads, lags = _bins(options)
    matrix = panel.matrix(panel.d)
    onset = onsets(matrix)
    terms = _all_terms(panel, matrix, leads, lags, reference_set(options))
    return {
        "onset": onset,
        "notes": timing_warnings(panel, matrix, onset),
        "present": [term for term, values in terms.items() if values.any()],
        "tables": {
            bins: {row["term"]: row for row in event_time_table(panel, onset, leads, lags, *bins)}
            for bins in ((True, True), (False, True), (False, False))
        },
        "cohorts": cohort_table(panel, onset),
        "pre_rows": pre_period_rows(panel, onset),
    }


def fit(
    panel: Panel,
    inference: str,
    options: dict[str, Any],
    progress: bool = False,
    shared: dict[str, Any] | None = None,
) -> DesignFit:
    """``shared``: ``timing(panel, options)`` when the caller already has it."""
    estimator = str(options["estimator"])
    if estimator not in ESTIMATORS:
        raise EstimateError("--option estimator", f"unknown {estimator!r}", " or ".join(ESTIMATORS))
    omit = reference_set(options)
    shared = timing(panel, options) if shared is None else shared
    onset, present = shared["onset"], shared["present"]
    notes = list(shared["notes"])
    if estimator == "imputation":
        result = _imputation(panel, onset, inference, options)
    elif estimator == "cs":
        result = _cs(panel, onset, inference, options)
    else:
        result = _twfe(panel, inference, options, progress, present)
    result.warnings[:0] = notes
    # TWFE bins both end points; imputation bins the last horizon (its leads are exact); cs bins none
    counts = shared["tables"][(estimator == "twfe", estimator != "cs")]
    result.extra["estimator"] = estimator
    result.extra["event_time"] = [counts[e.term] for e in result.estimates if e.term in counts]
    result.extra["cohorts"] = shared["cohorts"]
    check = reference_check(panel, onset, pre_rows=shared["pre_rows"])
    result.extra["reference"] = check | {
        "twfe_reference": [f"e={e}" for e in omit],
        "option": str(options["reference"]),
    }
    if check["outlier"] and estimator == "twfe" and omit == (-1,):
        result.warnings.append(
            f"reference period e=-1 is an outlier (robust z = {check['z']:.1f} > {OUTLIER_Z:g} against "
            f"e=-2..-{OUTLIER_WINDOW}): every coefficient is measured against it; "
            "use -o reference=pre_mean or estimator=imputation"
        )
    elif check["outlier"]:
        result.warnings.append(
            f"reference period e=-1 is an outlier (robust z = {check['z']:.1f} > {OUTLIER_Z:g} against "
            f"e=-2..-{OUTLIER_WINDOW}); the {estimator} estimates do not rest on it alone, "
            "but the TWFE comparison (reference e=-1) does"
        )
    if estimator != "twfe" and inference != "ri":
        try:
            twfe = _twfe(panel, inference, options, False, present)
        except EstimateError as exc:
            result.extra["comparison"] = {"estimator": "twfe", "error": str(exc)}
        else:
            labels = shared["tables"][(True, True)]
            result.extra["comparison"] = {
                "estimator": "twfe",
                "reference": [f"e={e}" for e in omit],
                "estimates": [asdict(e) | labels[e.term] for e in twfe.estimates],
                "pretrend": twfe.extra.get("pretrend"),
                "formula": twfe.formula,
            }
    return result
