"""Simulated worlds with known effects of site openings and closures (units on the equator)."""

from __future__ import annotations

import numpy as np
import pandas as pd

KM_PER_DEG = 2 * np.pi * 6371.0088 / 360


def units_frame(n_units: int, n_periods: int, spacing_km: float) -> pd.DataFrame:
    periods = pd.date_range("2015-01-01", periods=n_periods, freq="MS")
    lon = np.arange(n_units) * spacing_km / KM_PER_DEG
    return pd.DataFrame(
        {
            "unit_id": np.repeat([f"u{k:03d}" for k in range(n_units)], n_periods),
            "period": np.tile(periods, n_units),
            "unit_lat": 0.0,
            "unit_lon": np.repeat(lon, n_periods),
        }
    )


def spells(
    at_units: list[int], spacing_km: float, starts: list[str | None], ends: list[str | None]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lat": 0.0,
            "lon": [u * spacing_km / KM_PER_DEG for u in at_units],
            "start": pd.to_datetime([s or "2014-01-01" for s in starts]),
            "end": pd.to_datetime(ends),
        }
    )


def outcome(frame: pd.DataFrame, effect: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """y = unit effect + period effect + ``effect`` (per row) + N(0, 1) noise."""
    unit = pd.factorize(frame["unit_id"])[0]
    period = pd.factorize(frame["period"])[0]
    alpha = rng.normal(0, 1, unit.max() + 1)
    lam = rng.normal(0, 1, period.max() + 1)
    return frame.assign(y=alpha[unit] + lam[period] + effect + rng.normal(0, 1, len(frame)))


def after(frame: pd.DataFrame, sites: pd.DataFrame, lo_km: float, hi_km: float, change: str) -> np.ndarray:
    """1 where a site within (lo_km, hi_km] of the unit has opened (or closed) by the period."""
    km = np.abs(frame["unit_lon"].to_numpy()[:, None] - sites["lon"].to_numpy()[None, :]) * KM_PER_DEG
    inside = (km <= hi_km + 1e-9) & (km > lo_km + 1e-9 if lo_km > 0 else True)
    when = sites["start"] if change == "opening" else sites["end"] + pd.offsets.MonthBegin(1)
    when = when.fillna(pd.Timestamp("2200-01-01")).to_numpy()
    hit = inside & (frame["period"].to_numpy()[:, None] >= when[None, :])
    return hit.any(axis=1).astype(float)
