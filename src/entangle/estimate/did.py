"""Staggered difference-in-differences robust to heterogeneous and dynamic effects.

Two estimators of the same target (the average effect on treated unit-periods, term ``ATT``):

* ``estimator=cs`` (default): Callaway & Sant'Anna (2021) group-time ATT(g,t) through the
  ``differences`` package, aggregated with its "simple" weights (cohort size), analytic standard
  errors from the influence function (clustered by unit); controls enter as base-period covariates;
  ``control_group=never`` (default) or ``notyet``.
* ``estimator=imputation``: Borusyak, Jaravel & Spiess (2024), see ``imputation.py``; it always
  compares with all untreated observations (never and not-yet treated).

The treatment is read as absorbing: onset = first period with a non-zero value. ``event=true`` adds
event-time terms ``e=-leads``…``e=lags`` (cs) or ``e=0``…``e=lags`` (imputation).
"""

from __future__ import annotations

import warnings as pywarnings
from typing import Any

import numpy as np
import pandas as pd

from entangle.errors import EstimateError
from entangle.estimate import imputation
from entangle.estimate.data import Panel
from entangle.estimate.inference.ri import randomization_pvalues
from entangle.estimate.linear import DesignFit
from entangle.estimate.result import Estimate
from entangle.estimate.timing import onsets, timing_warnings

OPTIONS: dict[str, Any] = {
    "estimator": "cs",
    "control_group": "never",
    "event": False,
    "leads": 4,
    "lags": 8,
    "censored_onsets": "exclude",
}
CONTROL_GROUPS = {"never": "never_treated", "notyet": "not_yet_treated"}


def _cs_model(panel: Panel, onset: np.ndarray, options: dict[str, Any]):
    from differences import ATTgt

    keep = onset[panel.unit_code] != 0  # units treated from the first period have no pre-period
    unit_onset = onset[panel.unit_code[keep]]
    data = pd.DataFrame(
        {
            "unit": panel.unit_code[keep],
            "time": panel.period_code[keep] + 1,
            "cohort": np.where(unit_onset >= 0, unit_onset + 1, np.nan),
            "y": panel.y[keep],
        }
        | {f"c{k}": panel.x[keep, k] for k in range(panel.x.shape[1])}
    ).set_index(["unit", "time"])
    control = CONTROL_GROUPS.get(str(options["control_group"]))
    if control is None:
        raise EstimateError(
            "--option control_group", f"unknown {options['control_group']!r}", "never or notyet"
        )
    if control == "never_treated" and not (onset < 0).any():
        raise EstimateError("--design did", "no never-treated units", "use --option control_group=notyet")
    formula = "y" + (" ~ " + " + ".join(f"c{k}" for k in range(panel.x.shape[1])) if panel.x.shape[1] else "")
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        model = ATTgt(data, "cohort")
        model.fit(formula, control_group=control, progress_bar=False)
    return model


def _row(frame: pd.DataFrame, position: int, term: str) -> Estimate:
    values = frame.iloc[position]
    att = float(values[next(c for c in frame.columns if c[-1] == "ATT")])
    se = float(values[next(c for c in frame.columns if c[-1] == "std_error")])
    return Estimate.normal(term, att, se)


def _cs(panel: Panel, onset: np.ndarray, options: dict[str, Any], point_only: bool = False) -> list[Estimate]:
    model = _cs_model(panel, onset, options)
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        simple = model.aggregate("simple")
        out = [_row(simple, 0, "ATT")]
        if options["event"] and not point_only:
            event = model.aggregate("event")
            for rel in event.index:
                if -int(options["leads"]) <= int(rel) <= int(options["lags"]):
                    out.append(_row(event, list(event.index).index(rel), f"e={int(rel)}"))
    return out


def _horizons(options: dict[str, Any]) -> list[int]:
    return list(range(int(options["lags"]) + 1)) if options["event"] else []


def point(panel: Panel, matrix: np.ndarray, options: dict[str, Any]) -> np.ndarray:
    """The term estimates for a treatment matrix (used by randomization inference)."""
    onset = onsets(matrix)
    if options["estimator"] == "cs":
        return np.array([e.estimate for e in _cs(panel, onset, options, point_only=True)])
    stage = imputation.impute(panel, onset)
    return imputation.point_estimates(stage, imputation.targets(stage, []))


def fit(panel: Panel, inference: str, options: dict[str, Any], progress: bool = False) -> DesignFit:
    estimator = str(options["estimator"])
    matrix = panel.matrix(panel.d)
    onset = onsets(matrix)
    notes = timing_warnings(panel, matrix, onset)
    if estimator == "cs":
        if inference == "conley":
            raise EstimateError(
                "--inference conley",
                "not available for the Callaway–Sant'Anna estimator",
                "add --option estimator=imputation",
            )
        if panel.cluster != panel.unit:
            raise EstimateError(
                "--cluster",
                "the Callaway–Sant'Anna estimator clusters by unit only",
                "add --option estimator=imputation",
            )
        ests = _cs(panel, onset, options)
        formula = (
            f"ATT(g,t) of {panel.outcome} on cohorts of {panel.treatment} "
            f"(Callaway-Sant'Anna, {options['control_group']} controls)"
        )
    elif estimator == "imputation":
        stage = imputation.impute(panel, onset)
        if stage["dropped"]:
            notes.append(
                f"{stage['dropped']} treated unit-periods have no untreated comparison and are left out"
            )
        weights = imputation.targets(stage, _horizons(options))
        ests = imputation.estimates(panel, onset, stage, weights, options, inference)
        formula = (
            f"{panel.outcome} ~ 0 | {panel.unit} + {panel.time} on untreated; "
            "ATT = mean(y - imputed y0) (Borusyak-Jaravel-Spiess)"
        )
    else:
        raise EstimateError("--option estimator", f"unknown {estimator!r}", "cs or imputation")
    extra: dict[str, Any] = {"estimator": estimator, "n_treated_units": int((onset >= 0).sum())}
    if inference == "ri":
        overall = ests[:1]
        pvals, placebo, ri_notes = randomization_pvalues(
            panel,
            np.array([overall[0].estimate]),
            lambda m: point(panel, m, options)[:1],
            pool=str(options["ri_pool"]),
            draws=int(options["ri_draws"]),
            seed=int(options["seed"]),
            progress=progress,
        )
        notes += ri_notes
        first = ests[0]
        ests[0] = Estimate(
            first.term, first.estimate, first.std_error, first.ci_low, first.ci_high, float(pvals[0])
        )
        extra["ri"] = {
            "draws": int(options["ri_draws"]),
            "pool": options["ri_pool"],
            "seed": int(options["seed"]),
            "placebo_sd": [float(placebo[:, 0].std(ddof=1))],
            "note": "p_value of ATT from randomization inference; other p-values and CIs are analytic",
        }
    return DesignFit(ests, formula, None, extra, notes)
