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
inference, samples with missing values under a lag, and any specification whose checks fail (so
its error message is the per-model one). Groups and per-model specifications are the tasks Dask
distributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from entangle.errors import EntangleError, EstimateError
from entangle.estimate import api
from entangle.estimate.data import FRAGILE_CLUSTERS, LAT, LON, MIN_CLUSTERS, Panel, _check_collinear, _hash
from entangle.estimate.inference.conley import conley_vcov
from entangle.estimate.linear import SOLVER, DesignFit, fixed_effects, fixef_columns, user_formula
from entangle.estimate.result import Estimate, Result
from entangle.estimate.timing import censored_units

Spec = dict[str, Any]
SHARED_DESIGNS = ("twfe", "dose", "event-study", "spillover")
DEMEAN_TOL = 1e-6  # pyfixest's default (MapDemeaner.fixef_tol), so results match feols
DEMEAN_MAXITER = 100_000


class _PerModel(Exception):
    """This specification goes the per-model way (``grid.run_one``)."""


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


def _materialize(frame: pd.DataFrame, specs: list[Spec]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Formula terms (``log1p(l(x, 1))``...) as columns, once for the whole grid."""
    try:
        from entangle.estimate.terms import materialize
    except ImportError:  # before formula terms exist every name is a column
        return frame, {}
    by_unit: dict[tuple[str, str], list[str]] = {}
    for spec in specs:
        names = [spec["outcome"], spec["treatment"], *spec.get("controls", ())]
        by_unit.setdefault((spec.get("unit", "unit_id"), spec.get("time", "period")), []).extend(names)
    mapping: dict[str, str] = {}
    for (unit, time), names in by_unit.items():
        try:
            frame, found = materialize(frame, list(dict.fromkeys(names)), unit=unit, period=time)
        except EntangleError:
            continue  # a bad term: the per-model path reports it for the specs that use it
        mapping |= found
    return frame, mapping


class _Columns:
    """Numeric columns of the frame as float arrays, converted once."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            if name not in self.frame.columns:
                raise _PerModel(name)
            series = self.frame[name]
            if not (pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)):
                raise _PerModel(name)
            self._cache[name] = series.to_numpy(dtype=float, na_value=np.nan)
        return self._cache[name]


def _plan(spec: Spec, columns: _Columns, mapping: dict[str, str], metadata: dict | None) -> _Plan:
    """Resolve a spec and decide its group; ``_PerModel`` if the shared path cannot take it."""
    design = spec["design"]
    inference = spec.get("inference", "cluster")
    if design not in SHARED_DESIGNS or inference not in ("cluster", "conley"):
        raise _PerModel(design)
    resolved = api.resolve_options(design, dict(spec.get("options", {})))
    if design == "event-study" and resolved["estimator"] != "twfe":
        raise _PerModel("estimator")
    if resolved.get("family", "linear") != "linear" or resolved.get("weights"):
        raise _PerModel("family")
    unit, time = spec.get("unit", "unit_id"), spec.get("time", "period")
    cluster = spec.get("cluster") or unit
    frame = columns.frame
    for name in (unit, time, cluster, *fixef_columns(resolved["fixef"])):
        if name not in frame.columns:
            raise _PerModel(name)
    roles = {"outcome": spec["outcome"], "treatment": spec["treatment"]}
    roles |= {f"c{k}": c for k, c in enumerate(spec.get("controls", ()))}
    named = {role: mapping.get(expr, expr) for role, expr in roles.items()}
    if named["outcome"] == named["treatment"]:
        raise _PerModel("outcome = treatment")
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
    missing = tuple(sorted(n for n in set(named.values()) if np.isnan(columns(n)).any()))
    lag = int(resolved["lag"])
    if lag and missing:
        raise _PerModel("lag with missing values")  # prepare lags within the rows it keeps
    need_xy = inference == "conley" or design == "spillover"
    key = (
        unit,
        time,
        excluded,
        missing,
        lag,
        named["treatment"] if lag else None,
        resolved["fixef"],
        need_xy,
    )
    return _Plan(spec, resolved, unit, time, cluster, named, censored, key)


@dataclass
class _Group:
    """One sample with its fixed effects: codes, base panel, and the demeaned columns."""

    rows: np.ndarray
    base: Panel
    flist: np.ndarray
    n_levels: list[int]
    dropped_missing: int
    lag_warning: str | None
    lagged: np.ndarray | None  # the lagged treatment on ``rows``
    demeaned: dict[Any, np.ndarray] = field(default_factory=dict)
    clusters: dict[str, tuple[np.ndarray, int, int]] = field(default_factory=dict)
    censored_present: int = 0

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
    base_mask = np.ones(len(frame), dtype=bool)
    excluded = plan.key[2]
    if excluded:
        base_mask &= ~frame[unit].astype(str).isin(set(excluded)).to_numpy()
    base_mask &= ~(pd.isna(frame[unit]).to_numpy() | pd.isna(frame[time]).to_numpy())
    keep = base_mask.copy()
    for name in plan.key[3]:
        keep &= ~np.isnan(columns(name))
    dropped_missing = int(base_mask.sum() - keep.sum())
    rows = np.flatnonzero(keep)
    if len(rows) == 0:
        raise _PerModel("empty sample")
    lag, lagged, lag_warning = plan.key[4], None, None
    if lag:
        unit_code, _ = pd.factorize(unit_all[rows], sort=True)
        period_code, periods = pd.factorize(frame[time].to_numpy()[rows], sort=True)
        n_u, n_t = int(unit_code.max()) + 1, len(periods)
        full = np.full((n_u, n_t), np.nan)
        full[unit_code, period_code] = columns(plan.key[5])[rows]
        source = period_code - lag
        inside = (source >= 0) & (source < n_t)
        values = np.where(inside, full[unit_code, np.clip(source, 0, n_t - 1)], np.nan)
        ok = ~np.isnan(values)
        lag_warning = (
            f"treatment lagged {lag} {'period' if lag == 1 else 'periods'}; "
            f"{int((~ok).sum())} rows without a lagged value dropped"
        )
        rows, lagged = rows[ok], values[ok]
    unit_code, _ = pd.factorize(unit_all[rows], sort=True)
    period_code, periods = pd.factorize(frame[time].to_numpy()[rows], sort=True)
    n_units, n_periods = int(unit_code.max()) + 1, len(periods)
    counts = np.bincount(unit_code.astype(np.int64) * n_periods + period_code, minlength=n_units * n_periods)
    if counts.max() > 1 or (np.bincount(unit_code, minlength=n_units) == 1).any():
        raise _PerModel("duplicates or single-period units")  # prepare's own errors say it best
    lat = lon = None
    if plan.key[7]:
        if LAT not in frame.columns or LON not in frame.columns:
            raise _PerModel("coordinates")
        lat, lon = np.zeros(n_units), np.zeros(n_units)
        lat[unit_code] = columns(LAT)[rows]
        lon[unit_code] = columns(LON)[rows]
        if np.isnan(lat).any() or np.isnan(lon).any() or np.abs(lat).max() > 90 or np.abs(lon).max() > 180:
            raise _PerModel("coordinates")
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
    return _Group(rows, base, flist, levels, dropped_missing, lag_warning, lagged)


def _cluster(group: _Group, name: str, columns: _Columns) -> tuple[np.ndarray, int, int]:
    """Cluster codes, their count, and df_k's fixed-effect part (pyfixest's ``get_ssc``)."""
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
            pairs = np.unique(group.flist[:, j].astype(np.int64) * n_clusters + codes)
            nested.append(len(pairs) == levels)
        n_fe = len(group.n_levels)
        k_fe = sum(group.n_levels)
        k_fe_adj = k_fe - (n_fe - 1) if n_fe > 1 else k_fe
        n_nested = sum(nested)
        k_nested = sum(n for n, flag in zip(group.n_levels, nested, strict=True) if flag) if n_nested else 0
        group.clusters[name] = (codes, n_clusters, k_fe_adj - k_nested + n_nested)
    return group.clusters[name]


def _solver(group: _Group, plan: _Plan, columns: _Columns, y_t: np.ndarray, x_t: np.ndarray):
    """The ``linear.SOLVER`` for one spec: FWL on the group's demeaned columns."""
    design_key = (
        plan.spec["design"],
        plan.columns["treatment"],
        tuple(sorted((k, str(v)) for k, v in plan.resolved.items() if k not in api.COMMON_OPTIONS)),
    )

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
            names = list(regressors)
            group.demeaned[(design_key, "names")] = names
            group.demean(design_key, np.column_stack([regressors[n] for n in names]))
        names = group.demeaned[(design_key, "names")]
        r_t = group.demeaned[design_key]
        xd = np.column_stack([r_t, x_t]) if x_t.shape[1] else r_t
        gram = xd.T @ xd
        scale = np.sqrt(np.diag(gram))
        if (scale == 0).any() or np.linalg.cond(gram / np.outer(scale, scale)) > 1e10:
            raise _PerModel("collinear")  # feols drops the variable; estimate names it in its error
        bread = np.linalg.inv(gram)
        beta = np.linalg.solve(gram, xd.T @ y_t)
        resid = y_t - xd @ beta
        k = len(names)
        extra: dict[str, Any] = {}
        if inference == "conley":
            lag = int(options["conley_lag"])
            full = conley_vcov(
                xd,
                resid,
                panel,
                cutoff_km=float(options["conley_km"]),
                kernel=options["conley_kernel"],
                lag=None if lag < 0 else lag,
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
            codes, n_clusters, fe_df = _cluster(group, plan.cluster, columns)
            scores = np.column_stack(
                [
                    np.bincount(codes, weights=xd[:, j] * resid, minlength=n_clusters)
                    for j in range(xd.shape[1])
                ]
            )
            n_obs = len(resid)
            df_k = xd.shape[1] + fe_df
            ssc = (n_obs - 1) / (n_obs - df_k) * n_clusters / (n_clusters - 1)
            full = ssc * bread @ (scores.T @ scores) @ bread
            vcov = full[:k, :k]
            se = np.sqrt(np.diag(vcov))
            crit = stats.t.ppf(0.975, n_clusters - 1)
            estimates = []
            for n, b, s in zip(names, beta[:k], se, strict=True):
                p = float(2 * stats.t.sf(abs(b / s), n_clusters - 1)) if s > 0 else float("nan")
                estimates.append(Estimate(n, float(b), float(s), float(b - crit * s), float(b + crit * s), p))
        formula = user_formula(panel, names, str(options.get("fixef", "")))
        return DesignFit(estimates, formula, vcov, extra, [])

    return solve


def _fit_shared(group: _Group, plan: _Plan, columns: _Columns, metadata: dict | None) -> Result:
    """One spec on its group's shared demeaning; ``_PerModel`` (or an ``EstimateError``) if its
    checks fail, so the per-model path can report it in its own words."""
    spec, resolved, cols = plan.spec, plan.resolved, plan.columns
    rows = group.rows
    y = columns(cols["outcome"])[rows]
    d = group.lagged if group.lagged is not None else columns(cols["treatment"])[rows]
    controls = tuple(spec.get("controls", ()))
    x = (
        np.column_stack([columns(cols[f"c{k}"])[rows] for k in range(len(controls))])
        if controls
        else np.empty((len(rows), 0))
    )
    base = group.base
    if np.nanmin(d) == np.nanmax(d):
        raise _PerModel("treatment constant")
    n_units = base.n_units
    obs = np.bincount(base.unit_code, minlength=n_units)
    within = (
        np.bincount(base.unit_code, weights=d * d, minlength=n_units) / obs
        - (np.bincount(base.unit_code, weights=d, minlength=n_units) / obs) ** 2
    )
    if within.max() <= 1e-12 * max(1.0, float(np.abs(d).max()) ** 2):
        raise _PerModel("treatment constant within units")
    if controls:
        _check_collinear(d, x, controls, cols["treatment"])
    codes, n_clusters, _ = _cluster(group, plan.cluster, columns)
    if n_clusters < MIN_CLUSTERS:
        raise _PerModel("clusters")
    warnings = []
    if group.dropped_missing:
        warnings.append(f"dropped {group.dropped_missing} rows with missing values in the model's columns")
    if group.lag_warning:
        warnings.append(group.lag_warning)
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
        panel_hash=_hash([y, d, x, base.unit_code, base.period_code]),
        warnings=warnings,
        synthetic=synthetic,
    )
    y_t = group.demean(("col", cols["outcome"]), y)
    x_t = (
        np.column_stack([group.demean(("col", cols[f"c{k}"]), x[:, k]) for k in range(len(controls))])
        if controls
        else np.empty((len(rows), 0))
    )
    token = SOLVER.set(_solver(group, plan, columns, y_t, x_t))
    try:
        fit = api.DESIGNS[spec["design"]].fit(panel, spec.get("inference", "cluster"), resolved, False)
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
    return api.assemble(
        panel,
        fit,
        spec["design"],
        spec["outcome"],
        spec["treatment"],
        spec.get("inference", "cluster"),
        list(controls),
        resolved,
        censored,
    )


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
    out: list[Result | None] = []
    for plan in plans:
        try:
            out.append(_fit_shared(group, plan, columns, metadata))
        except (_PerModel, EntangleError):
            out.append(None)
    return out


def _prepared(frame: pd.DataFrame, specs: list[Spec]) -> tuple[pd.DataFrame, list[Spec]]:
    """The frame with every term of the grid as a column, and the specs naming those columns."""
    frame, mapping = _materialize(frame, specs)
    if not mapping:
        return frame, specs
    return frame, [
        spec
        | {
            "outcome": mapping.get(spec["outcome"], spec["outcome"]),
            "treatment": mapping.get(spec["treatment"], spec["treatment"]),
            "controls": [mapping.get(c, c) for c in spec.get("controls", ())],
        }
        for spec in specs
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
    """Every spec's ``Result``, in order, equal to ``grid.run_one`` spec by spec (see the module
    docstring). ``dask``: a scheduler address or a ``distributed.Client``; groups and per-model
    specs are its tasks."""
    from entangle.estimate import grid

    if not specs:
        return []
    frame, named, groups, alone = plan_groups(frame, specs, metadata)
    results: list[Result | None] = [None] * len(specs)
    if dask is None:
        with grid._progress(len(specs), progress) as bar:
            task = bar.add_task("estimating", total=len(specs))
            for members in groups.values():
                for i, result in zip(
                    members, _run_group(frame, [named[i] for i in members], metadata), strict=True
                ):
                    results[i] = result
                bar.advance(task, len(members))
            for i in range(len(specs)):
                if results[i] is None:
                    results[i] = _relabel(grid.run_one(frame, named[i], metadata), specs[i])
                    if i in alone:
                        bar.advance(task)
        return [_relabel(r, s) for r, s in zip(results, specs, strict=True)]
    return _run_dask(frame, specs, named, groups, metadata, dask, progress)


def _relabel(result: Result, spec: Spec) -> Result:
    """The Result names the expressions the user wrote, not the columns they became."""
    result.outcome, result.treatment = spec["outcome"], spec["treatment"]
    if "controls" in result.options and spec.get("controls"):
        result.options["controls"] = list(spec["controls"])
    return result


def _run_dask(
    frame: pd.DataFrame,
    specs: list[Spec],
    named: list[Spec],
    groups: dict[tuple, list[int]],
    metadata: dict | None,
    dask: Any,
    progress: bool,
) -> list[Result]:
    from entangle.estimate import grid

    try:
        from distributed import Client, as_completed
    except ImportError:
        raise EstimateError(
            "--dask", "dask.distributed is not installed", "pip install 'entangle[dask]'"
        ) from None
    own = isinstance(dask, str)
    try:
        client = Client(dask, timeout="10s") if own else dask
    except OSError as exc:
        raise EstimateError(
            f"--dask {dask}", f"cannot reach the scheduler ({exc})", "check the address"
        ) from None
    try:
        shared = client.scatter(frame, broadcast=True)
        members = list(groups.values())
        futures = [
            client.submit(_run_group, shared, [named[i] for i in m], metadata, pure=False) for m in members
        ]
        with grid._progress(len(futures), progress) as bar:
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
            done = grid._run_dask(frame, [named[i] for i in rest], metadata, client, progress)
            for i, result in zip(rest, done, strict=True):
                results[i] = result
        return [_relabel(r, s) for r, s in zip(results, specs, strict=True)]
    finally:
        if own:
            client.close()
