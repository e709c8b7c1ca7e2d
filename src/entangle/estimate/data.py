"""Read a panel and check it can carry the model asked for, before any estimator runs.

Every problem a user can fix raises ``EstimateError`` (one line, with a hint); problems that leave an
estimate usable but fragile become warnings on the ``Result``.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from entangle.errors import EstimateError, InputError
from entangle.panel.metadata import panel_metadata

MIN_CLUSTERS = 10  # below this, clustered errors are not a usable approximation at all
FRAGILE_CLUSTERS = 30  # below this, they are usable but known to over-reject
LAT, LON = "unit_lat", "unit_lon"
MAX_ABS_VALUE = 1e100  # beyond this, sums of squares over a panel overflow float64


@dataclass
class Panel:
    """A validated panel: the raw columns as arrays plus integer unit and period codes."""

    outcome: str
    treatment: str
    unit: str
    time: str
    cluster: str
    controls: tuple[str, ...]
    y: np.ndarray
    d: np.ndarray
    x: np.ndarray  # controls, n × k (k may be 0)
    unit_code: np.ndarray
    period_code: np.ndarray
    cluster_code: np.ndarray
    periods: np.ndarray  # sorted distinct period values; period_code indexes into it
    lat: np.ndarray | None  # per unit (indexed by unit_code), when the panel has coordinates
    lon: np.ndarray | None
    columns: dict[str, np.ndarray]  # extra columns asked for by a design (e.g. a feasibility flag)
    panel_hash: str
    warnings: list[str] = field(default_factory=list)
    synthetic: bool = False

    @property
    def n_obs(self) -> int:
        return len(self.y)

    @property
    def n_units(self) -> int:
        return int(self.unit_code.max()) + 1

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def n_clusters(self) -> int:
        return int(self.cluster_code.max()) + 1

    @property
    def balanced(self) -> bool:
        return self.n_obs == self.n_units * self.n_periods

    def matrix(self, values: np.ndarray, fill: float = np.nan) -> np.ndarray:
        """Units × periods matrix of per-row ``values`` (``fill`` where a unit-period is absent)."""
        out = np.full((self.n_units, self.n_periods), fill, dtype=float)
        out[self.unit_code, self.period_code] = values
        return out

    def frame(self, more: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
        """A working frame with safe column names: y, c0.., unit, period (and cluster) codes, plus
        ``more`` (e.g. regressors and extra fixed effects)."""
        data = {"y": self.y, "unit": self.unit_code, "period": self.period_code}
        data |= {f"c{k}": self.x[:, k] for k in range(self.x.shape[1])}
        if self.cluster != self.unit:
            data["cluster"] = self.cluster_code
        return pd.DataFrame(data | (more or {}), copy=False)


def read_panel(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """Read a Parquet panel and its ``entangle`` metadata (empty dict for foreign panels)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "panel file not found", "give the path to a .parquet panel")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise InputError(str(path), f"not a readable Parquet file ({type(exc).__name__})", None) from None
    # DATE columns as datetime64, not Python date objects: ~10x faster to factorize on big panels
    return table.to_pandas(date_as_object=False), panel_metadata(table)


def _require_column(df: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in df.columns:
        close = difflib.get_close_matches(name, [str(c) for c in df.columns], n=3)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else f"columns are: {', '.join(map(str, df.columns[:12]))}"
        )
        raise EstimateError(f"--{role} {name}", "no such column in the panel", hint)
    return df[name]


def _numeric(series: pd.Series, role: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan)
    raise EstimateError(
        f"--{role} {series.name}",
        f"is {series.dtype}, not numeric",
        f"choose a numeric {role} column (counts, rates, 0/1 flags)",
    )


def _hash(arrays: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for arr in arrays:
        digest.update(np.ascontiguousarray(arr).view(np.uint8).data)
    return digest.hexdigest()


def _check_collinear(d: np.ndarray, x: np.ndarray, names: tuple[str, ...], treatment: str) -> None:
    """Controls that are constant, duplicate each other or duplicate the treatment cannot be estimated."""
    cols = np.column_stack([np.ones(len(d)), d, x])
    labels = ["(intercept)", treatment, *names]
    gram = cols.T @ cols
    for k in range(2, cols.shape[1]):
        sub = gram[: k + 1, : k + 1]
        if np.linalg.matrix_rank(sub, tol=1e-9 * max(1.0, np.abs(sub).max())) <= k:
            raise EstimateError(
                f"--controls {labels[k]}",
                "is collinear with the treatment, the intercept or an earlier control",
                f"drop {labels[k]} from --controls",
            )


def _check_values(name: str, role: str, values: np.ndarray) -> None:
    """Infinite or astronomically large values cannot be demeaned; say which column and how many."""
    huge = np.abs(values) > MAX_ABS_VALUE  # one pass over the column; NaN is not huge, inf is
    if not huge.any():
        return
    bad = np.isinf(values)
    if bad.any():
        raise EstimateError(
            f"--{role} {name}",
            f"{int(bad.sum())} infinite values",
            "replace them (e.g. missing) or transform the column (log1p, asinh)",
        )
    raise EstimateError(
        f"--{role} {name}",
        f"{int(huge.sum())} values beyond ±{MAX_ABS_VALUE:g}, too large to estimate with",
        "rescale the column or transform it (log1p, asinh)",
    )


def prepare(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    unit: str = "unit_id",
    time: str = "period",
    cluster: str | None = None,
    controls: tuple[str, ...] | list[str] = (),
    need_coordinates: bool = False,
    extra_columns: tuple[str, ...] = (),
    synthetic: bool = False,
) -> Panel:
    """Validate ``df`` for one model and return it as arrays (see ``Panel``).

    Column names may be formula terms already materialized (``estimate.terms``), e.g. ``l(x, 1)``.
    """
    controls = tuple(controls)
    cluster = cluster or unit
    if outcome == treatment or outcome in controls:
        raise EstimateError(
            f"--outcome {outcome}",
            "is also the treatment" if outcome == treatment else "is also a control",
            "a model cannot explain a column by itself",
        )
    if treatment in controls:
        raise EstimateError(f"--controls {treatment}", "is the treatment", "drop it from --controls")
    y_raw = _numeric(_require_column(df, outcome, "outcome"), "outcome")
    d_raw = _numeric(_require_column(df, treatment, "treatment"), "treatment")
    unit_s = _require_column(df, unit, "unit")
    time_s = _require_column(df, time, "time")
    cluster_s = _require_column(df, cluster, "cluster")
    x_cols = [_numeric(_require_column(df, c, "controls"), "controls") for c in controls]
    for name, role, values in [(outcome, "outcome", y_raw), (treatment, "treatment", d_raw)] + [
        (c, "controls", v) for c, v in zip(controls, x_cols, strict=True)
    ]:
        _check_values(name, role, values)
    x_raw = np.column_stack(x_cols) if x_cols else np.empty((len(df), 0))
    extras = {c: _require_column(df, c, "option").to_numpy() for c in extra_columns}
    warnings: list[str] = []

    missing = {outcome: np.isnan(y_raw), treatment: np.isnan(d_raw)}
    missing |= {c: np.isnan(v) for c, v in zip(controls, x_cols, strict=True)}
    keep = ~(unit_s.isna().to_numpy() | time_s.isna().to_numpy())
    for flags in missing.values():
        keep &= ~flags
    if not keep.all():
        counts = ", ".join(f"{name} {int(m.sum())}" for name, m in missing.items() if m.any())
        warnings.append(
            f"dropped {int((~keep).sum())} rows with missing values in the model's columns"
            + (f" ({counts})" if counts else "")
        )
    if not keep.any():
        raise EstimateError(f"--outcome {outcome}", "every row has a missing value", "check the panel")
    all_rows = keep.all()

    def sel(a: np.ndarray) -> np.ndarray:
        return a if all_rows else a[keep]

    unit_code, _ = pd.factorize(sel(unit_s.to_numpy()), sort=True)
    period_code, periods = pd.factorize(sel(time_s.to_numpy()), sort=True)
    n_units, n_periods = int(unit_code.max()) + 1, len(periods)
    key = unit_code.astype(np.int64) * n_periods + period_code
    counts = np.bincount(key, minlength=n_units * n_periods)
    if counts.max() > 1:
        raise EstimateError(
            f"--unit {unit} --time {time}",
            f"{int((counts > 1).sum())} unit-periods appear more than once",
            "a panel has one row per unit and period; aggregate first or pick the right --unit/--time",
        )
    obs_per_unit = np.bincount(unit_code, minlength=n_units)
    if (obs_per_unit == 1).any():
        raise EstimateError(
            f"--unit {unit}",
            f"{int((obs_per_unit == 1).sum())} of {n_units} units are observed in only one period",
            "drop them, or check that --time names the period column",
        )
    y, d, x = sel(y_raw), sel(d_raw), sel(x_raw)

    if d.min() == d.max():  # rows with missing values are gone
        raise EstimateError(
            f"--treatment {treatment}",
            f"never varies (always {d[0]:g})",
            "choose a treatment that changes across units and periods, or widen the panel",
        )
    sums = np.bincount(unit_code, weights=d, minlength=n_units)
    sq = np.bincount(unit_code, weights=d * d, minlength=n_units)
    within = sq / obs_per_unit - (sums / obs_per_unit) ** 2
    if within.max() <= 1e-12 * max(1.0, float(np.abs(d).max()) ** 2):
        raise EstimateError(
            f"--treatment {treatment}",
            "never changes within a unit, so unit fixed effects absorb it",
            "use a time-varying treatment (e.g. presence by period), not a unit attribute",
        )
    if controls:
        _check_collinear(d, x, controls, treatment)

    if cluster == unit:
        cluster_code = unit_code
    else:
        cluster_code, _ = pd.factorize(sel(cluster_s.to_numpy()), sort=True)
    n_clusters = int(cluster_code.max()) + 1
    if n_clusters < MIN_CLUSTERS:
        raise EstimateError(
            f"--cluster {cluster}",
            f"only {n_clusters} clusters; clustered errors need many more",
            "cluster on a finer unit, or use --inference ri (randomization inference)",
        )
    if n_clusters < FRAGILE_CLUSTERS:
        warnings.append(
            f"only {n_clusters} clusters (< {FRAGILE_CLUSTERS}): clustered standard errors are fragile; "
            "check with --inference ri"
        )

    lat = lon = None
    if need_coordinates:
        lat_s = _require_column(df, LAT, "lat")
        lon_s = _require_column(df, LON, "lon")
        lat, lon = np.zeros(n_units), np.zeros(n_units)
        lat[unit_code] = sel(_numeric(lat_s, "lat"))
        lon[unit_code] = sel(_numeric(lon_s, "lon"))
        if np.isnan(lat).any() or np.isnan(lon).any() or np.abs(lat).max() > 90 or np.abs(lon).max() > 180:
            raise EstimateError(
                f"columns {LAT}/{LON}", "missing or out-of-range coordinates", "fix the panel"
            )

    digest = _hash([y, d, x, unit_code, period_code])
    return Panel(
        outcome=outcome,
        treatment=treatment,
        unit=unit,
        time=time,
        cluster=cluster,
        controls=controls,
        y=y,
        d=d,
        x=x,
        unit_code=unit_code,
        period_code=period_code,
        cluster_code=cluster_code,
        periods=np.asarray(periods),
        lat=lat,
        lon=lon,
        columns={c: sel(v) for c, v in extras.items()},
        panel_hash=digest,
        warnings=warnings,
        synthetic=synthetic,
    )
