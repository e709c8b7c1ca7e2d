"""Shared machinery for the designs that are one fixed-effects regression (twfe, dose, spillover,
event study): build regressors from the treatment, fit with pyfixest, apply the chosen inference.

A design supplies ``build``: a function from the units × periods treatment matrix to named per-row
regressors. Building from the matrix (not from the column) is what lets randomization inference
re-assign treatment histories and recompute derived regressors (event time, rings) consistently.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from entangle.errors import EstimateError
from entangle.estimate.data import Panel
from entangle.estimate.inference import cluster as crv
from entangle.estimate.inference.conley import conley_vcov
from entangle.estimate.inference.ri import randomization_pvalues
from entangle.estimate.result import Estimate

Build = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass
class DesignFit:
    estimates: list[Estimate]
    formula: str
    vcov: np.ndarray | None = None  # of the estimates, in order
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# A multiverse run (estimate/multiverse.py) installs a solver that fits from demeaned columns it
# shares across specifications; it returns None for anything it does not handle.
SOLVER: ContextVar[Callable[..., DesignFit | None] | None] = ContextVar("linear_solver", default=None)


def fixed_effects(panel: Panel, fixef: str) -> dict[str, np.ndarray]:
    """Unit and period codes plus any extra effects: ``fixef="admin1^period,ethnic"`` (columns;
    ``^`` interacts them)."""
    effects = {"unit": panel.unit_code, "period": panel.period_code}
    named = {panel.unit: panel.unit_code, panel.time: panel.period_code}
    for k, item in enumerate(extra_fixef(panel, fixef)):
        codes = np.zeros(panel.n_obs, dtype=np.int64)
        for name in item.split("^"):
            column = named.get(name)
            if column is None:
                if name not in panel.columns:
                    raise EstimateError(
                        "--option fixef", f"no column {name!r} in the panel", "check the name"
                    )
                column = pd.factorize(panel.columns[name])[0]
            codes = codes * (int(column.max()) + 1) + column
        effects[f"fe{k}"] = pd.factorize(codes)[0]
    return effects


def extra_fixef(panel: Panel, fixef: str) -> list[str]:
    """The fixed effects ``fixef`` adds to unit and period, each once (``fixef=unit_id`` adds none)."""
    out: list[str] = []
    for part in (p.strip() for p in fixef.split(",")):
        if part and part not in (panel.unit, panel.time) and part not in out:
            out.append(part)
    return out


def fixef_columns(fixef: str) -> tuple[str, ...]:
    """The panel columns that ``fixef`` names (so data preparation keeps them)."""
    return tuple(
        name for part in fixef.split(",") if part.strip() for name in (n.strip() for n in part.split("^"))
    )


def user_formula(panel: Panel, terms: list[str], fixef: str) -> str:
    rhs = " + ".join([*terms, *panel.controls])
    fes = " + ".join([panel.unit, panel.time, *extra_fixef(panel, fixef)])
    return f"{panel.outcome} ~ {rhs} | {fes}"


def _feols(panel: Panel, regressors: dict[str, np.ndarray], effects: dict[str, np.ndarray], vcov):
    import pyfixest as pf

    internal = {f"r{k}": term for k, term in enumerate(regressors)}
    # one frame built in one go (column inserts each cost a consolidation pass on big panels)
    frame = panel.frame({name: regressors[term] for name, term in internal.items()} | effects)
    rhs = " + ".join([*internal, *(f"c{k}" for k in range(panel.x.shape[1]))])
    # the working frame is ours alone, so pyfixest need not copy it (twice, on 5M rows: ~0.2 s)
    fit = pf.feols(f"y ~ {rhs} | {' + '.join(effects)}", data=frame, vcov=vcov, copy_data=False)
    dropped = [internal.get(v, v) for v in (fit._collin_vars or [])]
    if dropped:
        controls = {f"c{k}": c for k, c in enumerate(panel.controls)}
        names = [controls.get(v, v) for v in dropped]
        raise EstimateError(
            "model",
            f"{', '.join(names)} collinear with the fixed effects or other regressors",
            "drop it from --controls or change the fixed effects",
        )
    return fit, internal


def linear_statistic(
    panel: Panel, effects: dict[str, np.ndarray], build: Build
) -> Callable[[np.ndarray], np.ndarray]:
    """A fast re-estimator for RI: coefficients of the built regressors, by Frisch–Waugh–Lovell.

    The outcome and controls are demeaned once; each draw demeans only the new regressors.
    """
    from pyfixest.estimation import demean

    flist = np.column_stack(list(effects.values())).astype(np.uint64)
    ones = np.ones(panel.n_obs)
    base, _ = demean(np.column_stack([panel.y, panel.x]), flist, ones)
    y_t, x_t = base[:, 0], base[:, 1:]

    def statistic(matrix: np.ndarray) -> np.ndarray:
        regs = np.column_stack(list(build(matrix).values())).astype(float)
        r_t, _ = demean(regs, flist, ones)
        if x_t.shape[1]:
            r_t = r_t - x_t @ np.linalg.lstsq(x_t, r_t, rcond=None)[0]
        return np.linalg.lstsq(r_t, y_t, rcond=None)[0]

    return statistic


def fit_linear(
    panel: Panel,
    build: Build,
    inference: str,
    options: dict[str, Any],
    progress: bool,
    observed: dict[str, np.ndarray] | None = None,
) -> DesignFit:
    """Fit ``y ~ build(D) + controls | unit + period (+ fixef)`` with the chosen inference.

    ``observed``: the regressors ``build`` gives for the panel's own treatment, when the design
    has them at hand (twfe: the treatment column itself), which saves a units × periods round trip.
    """
    solver = SOLVER.get()
    linear = options.get("family", "linear") == "linear"  # the shared solver is least squares only
    if solver is not None and linear and (shared := solver(panel, build, inference, options)) is not None:
        return shared
    regressors = observed if observed is not None else build(panel.matrix(panel.d))
    for term, values in regressors.items():
        if np.ptp(values) == 0:
            raise EstimateError(
                f"term {term}", "has no variation in this panel", "change the design options (radii, bins)"
            )
    effects = fixed_effects(panel, str(options.get("fixef", "")))
    if options.get("family") == "poisson":
        from entangle.estimate.poisson import fit_poisson

        return fit_poisson(panel, regressors, effects, str(options.get("fixef", "")))
    vcov = "iid" if inference == "conley" else crv.vcov_spec(panel)
    fit, internal = _feols(panel, regressors, effects, vcov)
    formula = user_formula(panel, list(regressors), str(options.get("fixef", "")))
    index = [list(fit._coefnames).index(name) for name in internal]
    extra: dict[str, Any] = {}
    warnings: list[str] = []
    if inference == "conley":
        lag = int(options["conley_lag"])
        full = conley_vcov(
            fit._X,
            fit._u_hat.ravel(),
            panel,
            cutoff_km=float(options["conley_km"]),
            kernel=options["conley_kernel"],
            lag=None if lag < 0 else lag,
            lag_kernel=options["conley_lag_kernel"],
        )
        vcov_terms = full[np.ix_(index, index)]
        beta = np.asarray(fit._beta_hat)[index]
        estimates = [
            Estimate.normal(term, float(b), float(np.sqrt(max(v, 0.0))))
            for term, b, v in zip(internal.values(), beta, np.diag(vcov_terms), strict=True)
        ]
        extra["conley"] = {
            k: options[k] for k in ("conley_km", "conley_kernel", "conley_lag", "conley_lag_kernel")
        }
    else:
        estimates = crv.estimates_from_fit(fit, internal)
        vcov_terms = np.asarray(fit._vcov)[np.ix_(index, index)]
    if inference == "ri":
        statistic = linear_statistic(panel, effects, build)
        observed = np.array([e.estimate for e in estimates])
        pvals, placebo, ri_warn = randomization_pvalues(
            panel,
            observed,
            statistic,
            pool=str(options["ri_pool"]),
            draws=int(options["ri_draws"]),
            seed=int(options["seed"]),
            progress=progress,
        )
        warnings += ri_warn
        estimates = [
            Estimate(e.term, e.estimate, e.std_error, e.ci_low, e.ci_high, float(p))
            for e, p in zip(estimates, pvals, strict=True)
        ]
        extra["ri"] = {
            "draws": int(options["ri_draws"]),
            "pool": options["ri_pool"],
            "seed": int(options["seed"]),
            "placebo_sd": [float(s) for s in placebo.std(axis=0, ddof=1)],
            "note": "p_value from randomization inference; std_error and CI are clustered",
        }
    return DesignFit(estimates, formula, vcov_terms, extra, warnings)
