"""A fast multiverse: specification grids fitted by shared demeaning (Frisch–Waugh–Lovell).

By FWL, the coefficients of ``y ~ R + X | fixed effects`` are those of the demeaned ŷ on [R̃, X̃],
and so are the residuals, hence every sandwich variance. Specifications are grouped by their sample
(the rows left after missing values, lags and excluded onsets), fixed effects and unit/time
columns; in each group every column a specification needs (outcomes, controls, the regressors a
design builds from a treatment) is demeaned once with pyfixest's demeaner (the one ``feols``
uses, same tolerance; it demeans each column on its own, so sharing changes nothing), and each
specification is then a small least-squares problem with its own CRV1 variance (pyfixest's
small-sample factor and t(G − 1) intervals) or Conley variance (``inference/conley.py``).

Each specification still runs through its design's own ``fit`` and the same ``assemble`` as
``estimate``, so its warnings, pre-trend tests, event-time tables and formula are the per-model
ones; only the regression underneath is shared (``linear.SOLVER``). What the shared path does not
handle goes the per-model way, one full ``estimate`` call: designs that are not one linear
regression (did, the imputation and Callaway–Sant'Anna event studies, Poisson), randomization
inference, and any specification whose checks fail (so
its error message is the per-model one). Groups and per-model specifications are the tasks Dask
distributes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import special

from entangle.errors import EntangleError, EstimateError
from entangle.estimate import api
from entangle.estimate.data import (
    FRAGILE_CLUSTERS,
    LAT,
    LON,
    MAX_ABS_VALUE,
    MIN_CLUSTERS,
    Panel,
    _check_collinear,
    _hash,
)
from entangle.estimate.design import DesignFit, fixed_effects, fixef_columns, user_formula
from entangle.estimate.inference.conley import conley_vcov
from entangle.estimate.linear import SOLVER
from entangle.estimate.result import Estimate, Result
from entangle.estimate.specs import Spec, dask_client, lag_as_term, progress_bar, run_on_dask, run_one
from entangle.estimate.terms import materialize
from entangle.estimate.timing import censored_units

SHARED_DESIGNS = ("twfe", "dose", "event-study", "spillover")
DEMEAN_TOL = 1e-6  # pyfixest's default (MapDemeaner.fixef_tol), so results match feols
DEMEAN_MAXITER = 100_000
COLLIN_TOL = 1e-9  # feols's default
# S = T[x, y] − T[x, x]·β cancels digits when regressors are nearly collinear (cond² of the
# correlation matrix ≈ digits lost); beyond this the scores are formed from residuals instead
WELL_CONDITIONED = 1e3


class _PerModel(Exception):
    """This specification goes the per-model way (``specs.run_one``)."""


def _missing_counts(columns: _Columns, plan: _Plan) -> str:
    """Missing values per model column, in ``prepare``'s words (outcome, treatment, controls)."""
    excluded = (
        plan.censored.get("flags", ()) if plan.censored and plan.censored.get("mode") == "exclude" else ()
    )
    key = ("kept", plan.unit, tuple(excluded))
    if key not in columns.samples:
        units = columns.frame[plan.unit]
        columns.samples[key] = ~units.astype(str).isin(set(excluded)).to_numpy() if excluded else None
    kept = columns.samples[key]
    parts = []
    for name in dict.fromkeys(plan.columns.values()):
        flags = np.isnan(columns(name))
        count = int(flags[kept].sum() if kept is not None else flags.sum())
        if count:
            parts.append(f"{name} {count}")
    return ", ".join(parts)


@dataclass
class _Plan:
    spec: Spec
    resolved: dict[str, Any]
    unit: str
    time: str
    cluster: str
    columns: dict[str, str]  # role -> frame column: outcome, treatment, c0..
    censored: dict | None
    key: tuple  # the group: sample, fixed effects, unit/time columns
    sample: _Sample
    excluded: tuple[str, ...]  # units left out for left-censored onsets


def _materialize(frame: pd.DataFrame, specs: list[Spec]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Formula terms (``log1p(l(x, 1))``...) as columns, once for the whole grid. A bad term is
    left as written: the per-model path reports it for the specs that use it."""
    by_unit: dict[tuple[str, str], list[str]] = {}
    for spec in specs:
        names = [spec["outcome"], spec["treatment"], *spec.get("controls", ())]
        by_unit.setdefault((spec.get("unit", "unit_id"), spec.get("time", "period")), []).extend(names)
    mapping: dict[str, str] = {}
    for (unit, time), names in by_unit.items():
        names = list(dict.fromkeys(names))
        try:
            frame, found = materialize(frame, names, unit=unit, period=time)
        except EntangleError:  # find the bad ones, keep the rest
            found = {}
            for name in names:
                try:
                    frame, one = materialize(frame, [name], unit=unit, period=time)
                except EntangleError:
                    continue
                found |= one
        mapping |= found
    return frame, mapping


class _Columns:
    """Numeric columns of the frame as float arrays, converted once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._cache: dict[str, np.ndarray] = {}
        self.samples: dict[tuple, Any] = {}

    def base(self, unit: str, excluded: tuple[str, ...]) -> np.ndarray:
        """Rows left after excluding units (left-censored onsets): what ``prepare`` is given."""
        key = ("base", unit, excluded)
        if key not in self.samples:
            mask = np.ones(len(self.frame), dtype=bool)
            if excluded:
                mask &= ~self.frame[unit].astype(str).isin(set(excluded)).to_numpy()
            self.samples[key] = mask
        return self.samples[key]

    def nan_count(self, name: str, unit: str, excluded: tuple[str, ...]) -> int:
        key = ("nan count", name, unit, excluded)
        if key not in self.samples:
            self.samples[key] = int(np.isnan(self(name))[self.base(unit, excluded)].sum())
        return self.samples[key]

    def huge(self, name: str) -> bool:
        """Infinite or beyond ``data.MAX_ABS_VALUE``: ``prepare`` refuses the column."""
        key = ("huge", name)
        if key not in self.samples:
            self.samples[key] = bool((np.abs(self(name)) > MAX_ABS_VALUE).any())
        return self.samples[key]

    def has_nan(self, name: str) -> bool:
        key = ("nan", name)
        if key not in self.samples:
            self.samples[key] = bool(np.isnan(self(name)).any())
        return self.samples[key]

    def __call__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if name not in self.frame.columns:
                raise _PerModel(name)
            series = self.frame[name]
            if not (pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)):
                raise _PerModel(name)
            values = series.to_numpy(dtype=float, na_value=np.nan)
            if (np.abs(values) > MAX_ABS_VALUE).any():  # infinite or huge: the per-model path says so
                raise _PerModel(name)
            self._cache[name] = values
        return self._cache[name]


def _plan(spec: Spec, columns: _Columns, mapping: dict[str, str], metadata: dict | None) -> _Plan:
    """Resolve a spec and decide its group; ``_PerModel`` if the shared path cannot take it."""
    design = spec["design"]
    inference = spec.get("inference", "cluster")
    if design not in SHARED_DESIGNS or inference not in ("cluster", "conley"):
        raise _PerModel(design)
    options = dict(spec.get("options", {}))
    family = options.pop("family", "linear")  # as estimate() takes it: a keyword, not an option
    if family != "linear":
        raise _PerModel("family")
    resolved = api.resolve_options(design, options) | {"family": family}
    if design == "event-study" and resolved["estimator"] != "twfe":
        raise _PerModel("estimator")
    if resolved.get("weights"):
        raise _PerModel("weights")
    unit, time = spec.get("unit", "unit_id"), spec.get("time", "period")
    cluster = spec.get("cluster") or unit
    frame = columns.frame
    for name in (unit, time, cluster, *fixef_columns(resolved["fixef"])):
        if name not in frame.columns:
            raise _PerModel(name)
    roles = {"outcome": spec["outcome"], "treatment": spec["treatment"]}
    roles |= {f"c{k}": c for k, c in enumerate(spec.get("controls", ()))}
    named = {role: mapping.get(expr, expr) for role, expr in roles.items()}
    controls = [named[f"c{k}"] for k in range(len(roles) - 2)]
    if named["outcome"] == named["treatment"] or {named["outcome"], named["treatment"]} & set(controls):
        raise _PerModel("a column in two roles")  # prepare's error names it
    if any(columns.huge(n) for n in set(named.values())):
        raise _PerModel("infinite or huge values")
    censored = None
    excluded: tuple[str, ...] = ()
    if "censored_onsets" in resolved:
        mode = str(resolved["censored_onsets"])
        if mode not in ("exclude", "keep"):
            raise _PerModel("censored_onsets")
        flagged = censored_units(metadata, spec["treatment"])
        censored = (
            {"mode": mode, "recorded": False, "excluded_units": 0}
            if flagged is None
            else {"mode": mode, "recorded": True, "flags": tuple(flagged)}
        )
        if flagged and mode == "exclude":
            excluded = tuple(sorted(flagged))
    missing = tuple(sorted(n for n in set(named.values()) if columns.has_nan(n)))
    sample = _sample(columns, unit, time, excluded, missing)
    key = (unit, time, sample.fingerprint, sample.dropped_missing, resolved["fixef"])
    return _Plan(spec, resolved, unit, time, cluster, named, censored, key, sample, excluded)


@dataclass
class _Sample:
    """The rows a spec keeps (after excluded onsets and missing values), as ``prepare`` keeps them."""

    rows: np.ndarray
    dropped_missing: int
    fingerprint: str


def _sample(
    columns: _Columns, unit: str, time: str, excluded: tuple[str, ...], missing: tuple[str, ...]
) -> _Sample:
    key = ("sample", unit, time, excluded, missing)
    if key in columns.samples:
        return columns.samples[key]
    frame = columns.frame
    base = columns.base(unit, excluded)
    keep = base & ~(pd.isna(frame[unit]).to_numpy() | pd.isna(frame[time]).to_numpy())
    for name in missing:
        keep &= ~np.isnan(columns(name))
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise _PerModel("empty sample")
    fingerprint = hashlib.blake2b(rows.astype(np.int64).tobytes(), digest_size=16).hexdigest()
    columns.samples[key] = _Sample(rows, int(base.sum() - keep.sum()), fingerprint)
    return columns.samples[key]


@dataclass
class _Group:
    """One sample with its fixed effects: codes, base panel, and the demeaned columns."""

    rows: np.ndarray
    base: Panel
    flist: np.ndarray
    n_levels: list[int]
    dropped_missing: int
    demeaned: dict[Any, np.ndarray] = field(default_factory=dict)
    clusters: dict[str, tuple[np.ndarray, int, int]] = field(default_factory=dict)
    names: dict[tuple, list[str]] = field(default_factory=dict)  # a design key's regressor names
    memo: dict[Any, Any] = field(default_factory=dict)  # cross products and per-treatment checks

    def dot(self, a: Any, b: Any) -> np.ndarray:
        """ã'b̃ for two cached demeaned blocks (2-D: columns of a × columns of b)."""
        key = ("dot", a, b)
        if key not in self.memo:
            left = self.demeaned[a].reshape(len(self.rows), -1)
            right = self.demeaned[b].reshape(len(self.rows), -1)
            self.memo[key] = left.T @ right
            self.memo[("dot", b, a)] = self.memo[key].T
        return self.memo[key]

    def cluster_dot(self, cluster: str, a: Any, b: Any, columns: _Columns) -> np.ndarray:
        """G × cols(a) × cols(b): Σ_{i∈g} ã_i b̃_i for every cluster g."""
        key = ("cdot", cluster, a, b)
        if key not in self.memo:
            members = _cluster(self, cluster, columns)[3]
            left = self.demeaned[a].reshape(len(self.rows), -1)
            right = self.demeaned[b].reshape(len(self.rows), -1)
            out = np.empty((members.shape[0], left.shape[1], right.shape[1]))
            for j in range(left.shape[1]):  # column by column: n × k temporaries, not n × k²
                start = j if a == b else 0  # a block with itself is symmetric
                out[:, j, start:] = members @ (right[:, start:] * left[:, j : j + 1])
                if a == b:
                    out[:, j:, j] = out[:, j, j:]
            self.memo[key] = out
            self.memo[("cdot", cluster, b, a)] = out.transpose(0, 2, 1)
        return self.memo[key]

    def column(self, name: str, columns: _Columns) -> np.ndarray:
        """A frame column on the group's rows (one copy, shared by the specs)."""
        key = ("rows", name)
        if key not in self.demeaned:
            self.demeaned[key] = columns(name)[self.rows]
        return self.demeaned[key]

    def stack(self, names: tuple[str, ...], columns: _Columns) -> np.ndarray:
        """The controls as an n × k matrix on the group's rows."""
        key = ("stack", names)
        if key not in self.memo:
            self.memo[key] = (
                np.column_stack([self.column(n, columns) for n in names])
                if names
                else np.empty((len(self.rows), 0))
            )
        return self.memo[key]

    def hash(self, cols: dict[str, str], n_controls: int, lag: int, y, d, x) -> str:
        """``Panel.panel_hash`` of a spec: it depends on the data only, so specs share it."""
        key = ("hash", lag, cols["outcome"], cols["treatment"], *(cols[f"c{k}"] for k in range(n_controls)))
        if key not in self.demeaned:
            self.demeaned[key] = _hash([y, d, x, self.base.unit_code, self.base.period_code])
        return self.demeaned[key]

    def demean(self, key: Any, values: np.ndarray) -> np.ndarray:
        if key not in self.demeaned:
            from pyfixest.estimation import demean

            values = np.ascontiguousarray(values, dtype=float)
            two_d = values.reshape(len(values), -1)
            out, _ = demean(two_d, self.flist, np.ones(len(two_d)), DEMEAN_TOL, DEMEAN_MAXITER)
            self.demeaned[key] = out if values.ndim == 2 else out[:, 0]
        return self.demeaned[key]


def _group(plan: _Plan, columns: _Columns) -> _Group:
    frame = columns.frame
    unit, time = plan.unit, plan.time
    unit_all = frame[unit].to_numpy()
    rows = plan.sample.rows
    unit_code, _ = pd.factorize(unit_all[rows], sort=True)
    period_code, periods = pd.factorize(frame[time].to_numpy()[rows], sort=True)
    n_units, n_periods = int(unit_code.max()) + 1, len(periods)
    counts = np.bincount(unit_code.astype(np.int64) * n_periods + period_code, minlength=n_units * n_periods)
    if counts.max() > 1 or (np.bincount(unit_code, minlength=n_units) == 1).any():
        raise _PerModel("duplicates or single-period units")  # prepare's own errors say it best
    lat = lon = None  # unit coordinates, for the specs that need them (Conley, spillover)
    if LAT in frame.columns and LON in frame.columns:
        lat, lon = np.zeros(n_units), np.zeros(n_units)
        try:
            lat[unit_code] = columns(LAT)[rows]
            lon[unit_code] = columns(LON)[rows]
        except _PerModel:
            lat = lon = None
        else:
            if (
                np.isnan(lat).any()
                or np.isnan(lon).any()
                or np.abs(lat).max() > 90
                or np.abs(lon).max() > 180
            ):
                lat = lon = None
    extras = {
        c: frame[c].to_numpy()[rows] for c in fixef_columns(plan.resolved["fixef"]) if c not in (unit, time)
    }
    empty = np.empty(len(rows))
    base = Panel(
        outcome="",
        treatment="",
        unit=unit,
        time=time,
        cluster=unit,
        controls=(),
        y=empty,
        d=empty,
        x=np.empty((len(rows), 0)),
        unit_code=unit_code,
        period_code=period_code,
        cluster_code=unit_code,
        periods=np.asarray(periods),
        lat=lat,
        lon=lon,
        columns=extras,
        panel_hash="",
    )
    effects = fixed_effects(base, str(plan.resolved["fixef"]))
    levels = [int(codes.max()) + 1 for codes in effects.values()]
    for codes, n in zip(effects.values(), levels, strict=True):
        if (np.bincount(codes, minlength=n) < 2).any():
            raise _PerModel("singleton fixed effects")  # feols would drop them
    flist = np.column_stack(list(effects.values())).astype(np.uint64)
    return _Group(rows, base, flist, levels, plan.sample.dropped_missing)


def _cluster(group: _Group, name: str, columns: _Columns) -> tuple[np.ndarray, int, int, Any]:
    """Cluster codes, their count, df_k's fixed-effect part (pyfixest's ``get_ssc``) and the sparse
    cluster × row membership matrix that sums scores within clusters."""
    if name not in group.clusters:
        base = group.base
        if name == base.unit:
            codes = base.unit_code
        else:
            codes, _ = pd.factorize(columns.frame[name].to_numpy()[group.rows], sort=True)
        n_clusters = int(codes.max()) + 1
        # fixed effects fully nested in the clusters are not counted (fixest's k_fixef="nonnested")
        nested = []
        for j, levels in enumerate(group.n_levels):
            fe = group.flist[:, j].astype(np.int64)
            one = np.empty(levels, dtype=np.int64)
            one[fe] = codes  # some cluster of each level: nested iff every row agrees with it
            nested.append(bool((one[fe] == codes).all()))
        n_fe = len(group.n_levels)
        k_fe = sum(group.n_levels)
        k_fe_adj = k_fe - (n_fe - 1) if n_fe > 1 else k_fe
        n_nested = sum(nested)
        k_nested = sum(n for n, flag in zip(group.n_levels, nested, strict=True) if flag) if n_nested else 0
        members = sp.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_clusters, len(codes))
        )
        group.clusters[name] = (codes, n_clusters, k_fe_adj - k_nested + n_nested, members)
    return group.clusters[name]


def _design_options(resolved: dict[str, Any]) -> tuple:
    """The design's own options (leads, radii, ...): with the treatment they fix its regressors."""
    return tuple(sorted((k, str(v)) for k, v in resolved.items() if k not in api.COMMON_OPTIONS))


def _collinear(gram: np.ndarray) -> bool:
    """pyfixest's own collinearity test on X̃'X̃ (feols's default ``collin_tol``)."""
    from pyfixest.core.collinear import find_collinear_variables

    _, n_excluded, all_removed = find_collinear_variables(np.ascontiguousarray(gram), COLLIN_TOL)
    return bool(all_removed or n_excluded)


def _design_key(plan: _Plan) -> tuple:
    """What fixes a spec's regressors within its group: design, treatment, lag, design options."""
    design = plan.spec["design"]
    lag = int(plan.resolved["lag"])
    if design == "twfe" or (design == "dose" and not plan.resolved["extensive"]):
        return ("the treatment alone", plan.columns["treatment"], lag)  # the same regressor
    return (design, plan.columns["treatment"], lag, _design_options(plan.resolved))


def _solver(group: _Group, plan: _Plan, columns: _Columns, uses: int = 1):
    """The ``linear.SOLVER`` for one spec: FWL on the group's demeaned columns.

    Everything of length n is cached on the group and shared: the demeaned columns, their cross
    products, and for CRV1 their within-cluster cross products T_g[a, b] = Σ_{i∈g} ã_i b̃_i. A spec
    then costs O(G·k²): the cluster scores are S_g = Σ_{i∈g} x̃_i ũ_i = T_g[x, y] − T_g[x, x]·β, so
    neither residuals nor scores are formed row by row. T[x, x] costs k²/2 passes over the rows, so
    it is only worth it for regressors that ``uses`` ≥ k/2 specs share, and only accurate when they
    are far from collinear; otherwise (and for Conley, which needs them) residuals and scores are
    formed directly."""
    design_key = _design_key(plan)
    outcome = ("col", plan.columns["outcome"])
    controls = [("col", plan.columns[f"c{k}"]) for k in range(len(plan.spec.get("controls", ())))]

    def solve(panel: Panel, build, inference: str, options: dict[str, Any]) -> DesignFit | None:
        if inference not in ("cluster", "conley"):
            return None
        if design_key not in group.demeaned:
            regressors = build(panel.matrix(panel.d))
            for term, values in regressors.items():
                if np.ptp(values) == 0:
                    raise EstimateError(
                        f"term {term}",
                        "has no variation in this panel",
                        "change the design options (radii, bins)",
                    )
            group.names[design_key] = list(regressors)
            group.demean(design_key, np.column_stack(list(regressors.values())))
        names = group.names[design_key]
        blocks = [design_key, *controls]
        gram = np.block([[group.dot(a, b) for b in blocks] for a in blocks])
        if _collinear(gram):
            raise _PerModel("collinear")  # feols drops the variable; estimate names it in its error
        bread = np.linalg.inv(gram)
        beta = np.linalg.solve(gram, np.concatenate([group.dot(a, outcome).ravel() for a in blocks]))
        k = len(names)
        extra: dict[str, Any] = {}
        if inference == "conley":
            xd = np.column_stack([group.demeaned[a].reshape(len(group.rows), -1) for a in blocks])
            resid = group.demeaned[outcome] - xd @ beta
            lag_c = int(options["conley_lag"])
            full = conley_vcov(
                xd,
                resid,
                panel,
                cutoff_km=float(options["conley_km"]),
                kernel=options["conley_kernel"],
                lag=None if lag_c < 0 else lag_c,
                lag_kernel=options["conley_lag_kernel"],
            )
            vcov = full[:k, :k]
            estimates = [
                Estimate.normal(n, float(b), float(np.sqrt(max(v, 0.0))))
                for n, b, v in zip(names, beta[:k], np.diag(vcov), strict=True)
            ]
            extra["conley"] = {
                key: options[key] for key in ("conley_km", "conley_kernel", "conley_lag", "conley_lag_kernel")
            }
        else:
            _codes, n_clusters, fe_df, members = _cluster(group, plan.cluster, columns)
            cl = plan.cluster
            scale = np.sqrt(np.diag(gram))
            conditioned = np.linalg.cond(gram / np.outer(scale, scale)) < WELL_CONDITIONED
            if 2 * uses >= gram.shape[0] and conditioned:
                # T[g, a, b] over the spec's columns, and T[g, a, y]
                t_xx = np.concatenate(
                    [
                        np.concatenate([group.cluster_dot(cl, a, b, columns) for b in blocks], axis=2)
                        for a in blocks
                    ],
                    axis=1,
                )
                t_xy = np.concatenate(
                    [group.cluster_dot(cl, a, outcome, columns)[:, :, 0] for a in blocks], axis=1
                )
                scores = t_xy - t_xx @ beta  # G × k
            else:
                xd = np.column_stack([group.demeaned[a].reshape(len(group.rows), -1) for a in blocks])
                scores = members @ (xd * (group.demeaned[outcome] - xd @ beta)[:, None])
            n_obs = len(group.rows)
            df_k = gram.shape[0] + fe_df
            ssc = (n_obs - 1) / (n_obs - df_k) * n_clusters / (n_clusters - 1)
            full = ssc * bread @ (scores.T @ scores) @ bread
            vcov = full[:k, :k]
            se = np.sqrt(np.diag(vcov))
            df = n_clusters - 1
            crit = float(special.stdtrit(df, 0.975))  # = scipy.stats.t.ppf, as pyfixest uses
            estimates = []
            for n, b, sd in zip(names, beta[:k], se, strict=True):
                p = float(2 * special.stdtr(df, -abs(b / sd))) if sd > 0 else float("nan")
                estimates.append(
                    Estimate(n, float(b), float(sd), float(b - crit * sd), float(b + crit * sd), p)
                )
        formula = user_formula(panel, names, str(options.get("fixef", "")))
        return DesignFit(estimates, formula, vcov, extra, [])

    return solve


def _fit_shared(
    group: _Group, plan: _Plan, columns: _Columns, metadata: dict | None, uses: int = 1
) -> Result:
    """One spec on its group's shared demeaning; ``_PerModel`` (or an ``EstimateError``) if its
    checks fail, so the per-model path can report it in its own words."""
    spec, resolved, cols = plan.spec, plan.resolved, plan.columns
    base = group.base
    y = group.column(cols["outcome"], columns)
    d = group.column(cols["treatment"], columns)
    needs_xy = spec.get("inference", "cluster") == "conley" or spec["design"] == "spillover"
    if needs_xy and group.base.lat is None:
        raise _PerModel("coordinates")
    controls = tuple(spec.get("controls", ()))
    control_cols = tuple(cols[f"c{k}"] for k in range(len(controls)))
    x = group.stack(control_cols, columns)
    lag = int(resolved["lag"])
    checked = ("checks", cols["treatment"], lag, control_cols)
    if checked not in group.memo:  # prepare's checks on the treatment and controls, once per pair
        group.memo[checked] = _checks(group.base, d, x, controls, cols["treatment"])
    if not group.memo[checked]:
        raise _PerModel("treatment or controls")
    codes, n_clusters, _, _ = _cluster(group, plan.cluster, columns)
    if n_clusters < MIN_CLUSTERS:
        raise _PerModel("clusters")
    warnings = []
    if group.dropped_missing:
        excluded = plan.excluded
        named = dict.fromkeys([cols["outcome"], cols["treatment"], *control_cols])
        counts = [(n, columns.nan_count(n, plan.unit, excluded)) for n in named]
        listed = ", ".join(f"{n} {c}" for n, c in counts if c)
        warnings.append(
            f"dropped {group.dropped_missing} rows with missing values in the model's columns"
            + (f" ({listed})" if listed else "")
        )
    if n_clusters < FRAGILE_CLUSTERS:
        warnings.append(
            f"only {n_clusters} clusters (< {FRAGILE_CLUSTERS}): clustered standard errors are fragile; "
            "check with --inference ri"
        )
    synthetic = bool((metadata or {}).get("synthetic"))
    panel = replace(
        base,
        outcome=cols["outcome"],
        treatment=cols["treatment"],
        cluster=plan.cluster,
        controls=tuple(cols[f"c{k}"] for k in range(len(controls))),
        y=y,
        d=d,
        x=x,
        cluster_code=codes,
        panel_hash=group.hash(cols, len(controls), lag, y, d, x),
        warnings=warnings,
        synthetic=synthetic,
    )
    try:
        api._check_window(resolved, spec.get("options", {}), base.n_periods)
    except EstimateError:
        raise _PerModel("window") from None
    group.demean(("col", cols["outcome"]), y)
    for k, name in enumerate(control_cols):
        group.demean(("col", name), x[:, k])
    token = SOLVER.set(_solver(group, plan, columns, uses))
    try:
        module = api.DESIGNS[spec["design"]]
        inference = spec.get("inference", "cluster")
        if spec["design"] == "event-study":  # the timing tables depend on the treatment only
            key = ("timing", cols["treatment"], int(resolved["lag"]), _design_options(resolved))
            if key not in group.demeaned:
                group.demeaned[key] = module.timing(panel, resolved)
            fit = module.fit(panel, inference, resolved, False, shared=group.demeaned[key])
        else:
            fit = module.fit(panel, inference, resolved, False)
    finally:
        SOLVER.reset(token)
    censored = plan.censored
    if censored is not None and censored.get("recorded"):
        flags = set(censored["flags"])
        n_flagged = _flagged_present(columns, plan.unit, flags)
        censored = {"mode": censored["mode"], "recorded": True, "flagged_units": n_flagged}
        censored["excluded_units"] = n_flagged if censored["mode"] == "exclude" else 0
        if censored["mode"] == "exclude" and n_flagged:
            censored["excluded_rows"] = _flagged_rows(columns, plan.unit, flags)
    elif censored is not None:
        censored = {
            "mode": censored["mode"],
            "recorded": False,
            "excluded_units": 0,
            "note": "the panel records no left-censored onsets: nothing excluded",
        }
    return api.assemble(panel, fit, spec["design"], spec.get("inference", "cluster"), resolved, censored)


def _checks(base: Panel, d: np.ndarray, x: np.ndarray, controls: tuple[str, ...], treatment: str) -> bool:
    """``prepare``'s checks of the treatment (varies, and within units) and the controls (not
    collinear); False sends the spec the per-model way, whose error says what is wrong."""
    if np.nanmin(d) == np.nanmax(d):
        return False
    n_units = base.n_units
    obs = np.bincount(base.unit_code, minlength=n_units)
    within = (
        np.bincount(base.unit_code, weights=d * d, minlength=n_units) / obs
        - (np.bincount(base.unit_code, weights=d, minlength=n_units) / obs) ** 2
    )
    if within.max() <= 1e-12 * max(1.0, float(np.abs(d).max()) ** 2):
        return False
    if controls:
        try:
            _check_collinear(d, x, controls, treatment)
        except EstimateError:
            return False
    return True


def _flagged_present(columns: _Columns, unit: str, flags: set[str]) -> int:
    ids = columns.frame[unit].astype(str)
    return int(ids[ids.isin(flags)].nunique())


def _flagged_rows(columns: _Columns, unit: str, flags: set[str]) -> int:
    return int(columns.frame[unit].astype(str).isin(flags).sum())


def _run_group(frame: pd.DataFrame, specs: list[Spec], metadata: dict | None) -> list[Result | None]:
    """Fit the specs of one group on shared demeaning; ``None`` where a spec must go per-model.
    (Top-level so Dask can ship it; the frame already carries the grid's terms.)"""
    columns = _Columns(frame)
    plans = [_plan(spec, columns, {}, metadata) for spec in specs]
    try:
        group = _group(plans[0], columns)
    except (_PerModel, EntangleError):
        return [None] * len(specs)
    uses = Counter((_design_key(plan), plan.cluster) for plan in plans)
    out: list[Result | None] = []
    for plan in plans:
        try:
            out.append(_fit_shared(group, plan, columns, metadata, uses[(_design_key(plan), plan.cluster)]))
        except (_PerModel, EntangleError):
            out.append(None)
    return out


def _prepared(frame: pd.DataFrame, specs: list[Spec]) -> tuple[pd.DataFrame, list[Spec]]:
    """The frame with every term of the grid as a column, and the specs naming those columns. As in
    ``estimate``, ``lag=k`` makes the treatment ``l(treatment, k)``."""
    lagged = [
        spec | {"treatment": f"l({spec['treatment']}, {int(spec['options']['lag'])})"}
        if spec.get("options", {}).get("lag")
        else spec
        for spec in specs
    ]
    frame, mapping = _materialize(frame, lagged)
    return frame, [
        spec
        | {
            "outcome": mapping.get(spec["outcome"], spec["outcome"]),
            "treatment": mapping.get(spec["treatment"], spec["treatment"]),
            "controls": [mapping.get(c, c) for c in spec.get("controls", ())],
        }
        for spec in lagged
    ]


def plan_groups(
    frame: pd.DataFrame, specs: list[Spec], metadata: dict | None = None
) -> tuple[pd.DataFrame, list[Spec], dict[tuple, list[int]], list[int]]:
    """The grid's terms materialised, and its specs split into shared groups and per-model ones."""
    frame, named = _prepared(frame, specs)
    columns = _Columns(frame)
    groups: dict[tuple, list[int]] = {}
    alone: list[int] = []
    for i, spec in enumerate(named):
        try:
            plan = _plan(spec, columns, {}, metadata)
        except (_PerModel, EntangleError):
            alone.append(i)
            continue
        groups.setdefault(plan.key, []).append(i)
    return frame, named, groups, alone


def run_multiverse(
    frame: pd.DataFrame,
    specs: list[Spec],
    metadata: dict | None = None,
    dask: Any = None,
    progress: bool = False,
) -> list[Result]:
    """Every spec's ``Result``, in order, equal to ``specs.run_one`` spec by spec (see the module
    docstring). ``dask``: a scheduler address or a ``distributed.Client``; groups and per-model
    specs are its tasks."""
    if not specs:
        return []
    specs = [lag_as_term(spec) for spec in specs]  # a lag is the term l(treatment, k)
    frame, named, groups, alone = plan_groups(frame, specs, metadata)
    results: list[Result | None] = [None] * len(specs)
    if dask is None:
        with progress_bar(len(specs), progress) as bar:
            task = bar.add_task("estimating", total=len(specs))
            for members in groups.values():
                for i, result in zip(
                    members, _run_group(frame, [named[i] for i in members], metadata), strict=True
                ):
                    results[i] = result
                bar.advance(task, len(members))
            for i in range(len(specs)):
                if results[i] is None:
                    results[i] = run_one(frame, specs[i], metadata)
                    if i in alone:
                        bar.advance(task)
        return results
    return _run_dask(frame, specs, named, groups, metadata, dask, progress)


def _run_dask(
    frame: pd.DataFrame,
    specs: list[Spec],
    named: list[Spec],
    groups: dict[tuple, list[int]],
    metadata: dict | None,
    dask: Any,
    progress: bool,
) -> list[Result]:
    with dask_client(dask) as client:
        from distributed import as_completed

        shared = client.scatter(frame, broadcast=True)
        members = list(groups.values())
        futures = [
            client.submit(_run_group, shared, [named[i] for i in m], metadata, pure=False) for m in members
        ]
        with progress_bar(len(futures), progress) as bar:
            task = bar.add_task("estimating groups on dask", total=len(futures))
            for _ in as_completed(futures):
                bar.advance(task)
        results: list[Result | None] = [None] * len(specs)
        for m, out in zip(members, client.gather(futures), strict=True):
            for i, result in zip(m, out, strict=True):
                results[i] = result
        rest = [i for i, r in enumerate(results) if r is None]
        if rest:
            # A user error on a worker is re-raised here as itself (EntangleError pickles).
            done = run_on_dask(frame, [specs[i] for i in rest], metadata, client, progress)
            for i, result in zip(rest, done, strict=True):
                results[i] = result
        return results
