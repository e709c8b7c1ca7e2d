"""Synthetic unit × period panels with known effects, for estimator tests and power analysis.

Units sit on a regular lat/lon grid (so distances, Conley errors and spillover rings make sense).
The outcome is ``unit FE + period FE + effect + noise``; the noise has a spatially correlated part
(a Gaussian filter over the grid, redrawn each period) and an idiosyncratic AR(1) part per unit.

Designs:

* ``staggered``: a binary absorbing treatment switched on in a few cohorts, with effects that differ
  by cohort (``heterogeneity``) and grow with time since onset (``dynamic``), the case where static
  two-way fixed effects is biased;
* ``dose``: a continuous treatment (troops nearby), larger in units with higher baseline outcomes
  (so pooled OLS is confounded, fixed effects are not), effect ``effect`` per unit of dose;
* ``spillover``: staggered sites whose opening affects the unit itself (``effect``) and neighbours
  within ``r1_km`` (``spill_effects[0]``) and between ``r1_km`` and ``r2_km`` (``spill_effects[1]``).

Every panel says it is synthetic in its Parquet metadata (key ``entangle``) and carries the truth.
The outcome is continuous (not a count): it is a test bed for estimators, not a model of violence.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from entangle import __version__
from entangle.errors import EntangleError
from entangle.estimate.geo import ring_exposure

Design = Literal["staggered", "dose", "spillover"]

OUTCOME = "civilian_fatalities"
TREATMENTS = {
    "staggered": "present_peacekeeping_25km",
    "dose": "troops_peacekeeping_50km",
    "spillover": "present_peacekeeping_25km",
}


class SimulateError(EntangleError):
    """The simulation parameters are inconsistent."""


MAX_ROWS = 10_000_000  # about 2 GB of synthetic panel in memory


@dataclass(frozen=True)
class SimulationSpec:
    units: int = 400
    periods: int = 48
    design: Design = "staggered"
    effect: float = 1.0
    seed: int = 0
    start: dt.date = dt.date(2012, 1, 1)
    origin_lat: float = 14.0
    origin_lon: float = -4.0
    spacing_deg: float = 0.25
    noise_sd: float = 1.0
    ar1: float = 0.5
    spatial_sd: float = 0.7
    spatial_range_cells: float = 1.5
    never_share: float = 0.4
    cohorts: int = 4
    heterogeneity: float = 0.0
    dynamic: float = 0.0
    r1_km: float = 30.0
    r2_km: float = 60.0
    spill_effects: tuple[float, float] = field(default=(0.5, 0.25))

    def validate(self) -> None:
        if self.units < 4 or self.periods < 4:
            raise SimulateError("simulate", "need at least 4 units and 4 periods", "raise --units/--periods")
        if self.units * self.periods > MAX_ROWS:
            raise SimulateError(
                "simulate",
                f"{self.units} units x {self.periods} periods is {self.units * self.periods:,} rows, "
                f"more than the {MAX_ROWS:,} a synthetic panel may have",
                "lower --units or --periods",
            )
        for name in ("effect", "noise_sd", "spatial_sd", "spacing_deg", "heterogeneity", "dynamic", "r1_km", "r2_km"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise SimulateError(f"simulate {name}", f"{value} is not a finite number", "give a number")
        for name in ("noise_sd", "spatial_sd", "heterogeneity"):
            if getattr(self, name) < 0:
                raise SimulateError(f"simulate {name}", f"{getattr(self, name)} is negative", "give a number >= 0")
        if self.spacing_deg <= 0:
            raise SimulateError("simulate spacing_deg", f"{self.spacing_deg} must be > 0", "e.g. 0.25")
        if self.design not in TREATMENTS:
            raise SimulateError("simulate", f"unknown design {self.design!r}", f"one of {sorted(TREATMENTS)}")
        if not 0 <= self.never_share < 1:
            raise SimulateError("simulate", "never_share must be in [0, 1)", "e.g. 0.4")
        if self.cohorts < 1 or self.cohorts > self.periods - 2:
            raise SimulateError("simulate", f"cohorts must be in 1..{self.periods - 2}", "lower --cohorts")
        if not -1 < self.ar1 < 1:
            raise SimulateError("simulate", "ar1 must be in (-1, 1)", "e.g. 0.5")


def grid_coordinates(spec: SimulationSpec) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Latitudes and longitudes of the units laid out row by row on a square-ish grid."""
    cols = math.ceil(math.sqrt(spec.units))
    rows = math.ceil(spec.units / cols)
    idx = np.arange(spec.units)
    lat = spec.origin_lat + (idx // cols) * spec.spacing_deg
    lon = spec.origin_lon + (idx % cols) * spec.spacing_deg
    return lat, lon, (rows, cols)


def _spatial_noise(spec: SimulationSpec, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Periods × units noise with unit variance, correlated over ~``spatial_range_cells`` grid cells."""
    from scipy.ndimage import gaussian_filter

    rows, cols = shape
    z = rng.standard_normal((spec.periods, rows, cols))
    if spec.spatial_range_cells > 0:
        z = gaussian_filter(z, sigma=(0, spec.spatial_range_cells, spec.spatial_range_cells), mode="reflect")
        z /= z.std()
    return z.reshape(spec.periods, rows * cols)[:, : spec.units]


def _ar1_noise(spec: SimulationSpec, rng: np.random.Generator) -> np.ndarray:
    """Periods × units stationary AR(1) noise with unit variance."""
    shocks = rng.standard_normal((spec.periods, spec.units))
    out = np.empty_like(shocks)
    out[0] = shocks[0]
    scale = math.sqrt(1 - spec.ar1**2)
    for t in range(1, spec.periods):
        out[t] = spec.ar1 * out[t - 1] + scale * shocks[t]
    return out


def _onsets(spec: SimulationSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Onset period index per unit (-1 = never treated) and the cohort onset times."""
    lo, hi = max(1, spec.periods // 4), max(2, (3 * spec.periods) // 4)
    cohort_times = np.unique(np.linspace(lo, hi, spec.cohorts).round().astype(int))
    treated = rng.random(spec.units) >= spec.never_share
    onset = np.where(treated, rng.choice(cohort_times, spec.units), -1)
    return onset, cohort_times


def simulate_panel(spec: SimulationSpec) -> tuple[pd.DataFrame, dict]:
    """A synthetic panel (one row per unit × period) and its metadata (parameters and truth)."""
    spec.validate()
    rng = np.random.default_rng(spec.seed)
    lat, lon, shape = grid_coordinates(spec)
    n, t_count = spec.units, spec.periods
    unit_fe = rng.standard_normal(n)
    period_fe = np.cumsum(rng.standard_normal(t_count)) * 0.3
    noise = spec.spatial_sd * _spatial_noise(spec, shape, rng) + spec.noise_sd * _ar1_noise(spec, rng)
    noise = noise.T  # units × periods
    t_idx = np.arange(t_count)[None, :]
    truth: dict = {}
    onset: np.ndarray | None = None

    if spec.design in ("staggered", "spillover"):
        onset, cohort_times = _onsets(spec, rng)
        treated = (onset[:, None] >= 0) & (t_idx >= onset[:, None])
        event_time = t_idx - onset[:, None]
        rank = np.searchsorted(cohort_times, onset)
        centred = (rank - (len(cohort_times) - 1) / 2) / max(1, len(cohort_times) - 1)
        tau = spec.effect * (1 + spec.heterogeneity * centred)[:, None] + spec.dynamic * event_time
        tau = np.where(treated, tau, 0.0)
        treatment = treated.astype(np.int8)
        effect_it = tau
        truth["att"] = float(tau[treated].mean()) if treated.any() else 0.0
        post = event_time[treated]
        truth["event"] = {f"e={e}": float(tau[treated][post == e].mean()) for e in np.unique(post)}
        truth["cohorts"] = [int(c) for c in cohort_times]
        if spec.design == "spillover":
            w1, w2 = ring_exposure(treatment, lat, lon, spec.r1_km, spec.r2_km)
            effect_it = effect_it + spec.spill_effects[0] * w1 + spec.spill_effects[1] * w2
            truth["own"] = spec.effect
            truth["within_r1"] = spec.spill_effects[0]
            truth["r1_r2"] = spec.spill_effects[1]
            truth["r1_km"], truth["r2_km"] = spec.r1_km, spec.r2_km
    else:  # dose: sites open and change size; more troops where the baseline is worse (confounding)
        site = rng.random(n) < (1 - spec.never_share)
        opens = rng.integers(1, t_count - 1, n)
        level = np.exp(0.5 * unit_fe + rng.normal(0, 0.3, n)) * 100
        steps = rng.normal(0, 0.2, (n, t_count)).cumsum(axis=1)
        dose = np.where(site[:, None] & (t_idx >= opens[:, None]), level[:, None] * np.exp(steps), 0.0)
        treatment = dose.round(1)
        effect_it = spec.effect * treatment
        truth["slope"] = spec.effect

    y = unit_fe[:, None] + period_fe[None, :] + effect_it + noise
    periods = pd.date_range(spec.start, periods=t_count, freq="MS").date
    frame = pd.DataFrame(
        {
            "unit_id": np.repeat(np.arange(1, n + 1), t_count).astype(np.int64),
            "period": np.tile(periods, n),
            "unit_lat": np.repeat(lat, t_count),
            "unit_lon": np.repeat(lon, t_count),
            OUTCOME: y.ravel(),
            TREATMENTS[spec.design]: treatment.ravel(),
            "true_effect": np.asarray(effect_it, dtype=float).ravel(),
        }
    )
    if onset is not None:
        onset_dates = np.array([periods[o] if o >= 0 else None for o in onset], dtype=object)
        frame["onset"] = np.repeat(onset_dates, t_count)
    spec_dict = asdict(spec) | {"start": spec.start.isoformat()}
    meta = {
        "synthetic": True,
        "generator": "entangle simulate",
        "entangle_version": __version__,
        "spec": spec_dict,
        "outcome": OUTCOME,
        "treatment": TREATMENTS[spec.design],
        "truth": truth,
    }
    return frame, meta


def write_panel(frame: pd.DataFrame, meta: dict, out: str | Path) -> Path:
    """Write the panel as Parquet with its metadata under the schema key ``entangle`` (atomically)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from entangle.atomic import atomic_path

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"entangle": json.dumps(meta)})
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp)
    return Path(out)
