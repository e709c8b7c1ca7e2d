"""Conley spatial HAC: against a direct O(n²) double loop, and its known equivalences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from entangle.estimate import estimate
from entangle.estimate.data import prepare
from entangle.estimate.inference.conley import conley_vcov
from entangle.simulate import SimulationSpec, simulate_panel


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle km by the haversine formula: a second method beside the library's chords."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _small_panel(seed: int = 0, units: int = 30, periods: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    lat = 14 + rng.uniform(0, 1.0, units)
    lon = -4 + rng.uniform(0, 1.0, units)
    frame = pd.DataFrame(
        {
            "unit_id": np.repeat(np.arange(units), periods),
            "period": np.tile(np.arange(periods), units),
            "unit_lat": np.repeat(lat, periods),
            "unit_lon": np.repeat(lon, periods),
        }
    )
    frame["x"] = rng.normal(size=len(frame)) + 0.3 * frame["unit_lat"]
    frame["w"] = rng.normal(size=len(frame))
    frame["y"] = 0.5 * frame["x"] + rng.normal(size=len(frame))
    return frame


def _direct(frame: pd.DataFrame, xd: np.ndarray, u: np.ndarray, cutoff: float, lag: int) -> np.ndarray:
    """Textbook double loop over all observation pairs: Bartlett in space (same period), Bartlett in lags."""
    n = len(frame)
    lat, lon = frame["unit_lat"].to_numpy(), frame["unit_lon"].to_numpy()
    unit, period = frame["unit_id"].to_numpy(), frame["period"].to_numpy()
    meat = np.zeros((xd.shape[1], xd.shape[1]))
    for a in range(n):
        for b in range(n):
            if period[a] == period[b]:
                d = haversine_km(lat[a], lon[a], lat[b], lon[b])
                w = max(0.0, 1 - d / cutoff)
            elif unit[a] == unit[b] and abs(period[a] - period[b]) <= lag:
                w = 1 - abs(period[a] - period[b]) / (lag + 1)
            else:
                w = 0.0
            if w:
                meat += w * np.outer(xd[a] * u[a], xd[b] * u[b])
    bread = np.linalg.inv(xd.T @ xd)
    return bread @ meat @ bread


def _fit(frame: pd.DataFrame):
    fit = pf.feols("y ~ x + w | unit_id + period", data=frame, vcov="iid")
    panel = prepare(frame, "y", "x", controls=("w",), need_coordinates=True)
    return fit, panel


def test_conley_matches_direct_double_loop():
    frame = _small_panel()
    fit, panel = _fit(frame)
    ours = conley_vcov(
        fit._X, fit._u_hat.ravel(), panel, cutoff_km=60.0, kernel="bartlett", lag=2, lag_kernel="bartlett"
    )
    direct = _direct(frame, fit._X, fit._u_hat.ravel(), cutoff=60.0, lag=2)
    np.testing.assert_allclose(ours, direct, rtol=1e-10, atol=1e-14)
    # the spatial part is not trivial here: some pairs are within the cutoff
    no_space = conley_vcov(fit._X, fit._u_hat.ravel(), panel, 1e-6, "bartlett", 2, "bartlett")
    assert not np.allclose(ours, no_space)


def test_conley_without_neighbours_or_lags_is_hc0():
    frame = _small_panel(1)
    fit, panel = _fit(frame)
    ours = conley_vcov(fit._X, fit._u_hat.ravel(), panel, cutoff_km=1e-6, lag=0)
    hc0 = pf.feols(
        "y ~ x + w | unit_id + period", data=frame, vcov="hetero", ssc=pf.ssc(k_adj=False, G_adj=False)
    )
    np.testing.assert_allclose(ours, hc0._vcov, rtol=1e-8)


def test_conley_all_lags_uniform_is_cluster_by_unit_without_correction():
    frame = _small_panel(2)
    fit, panel = _fit(frame)
    ours = conley_vcov(fit._X, fit._u_hat.ravel(), panel, cutoff_km=1e-6, lag=None, lag_kernel="uniform")
    crv0 = pf.feols(
        "y ~ x + w | unit_id + period",
        data=frame,
        vcov={"CRV1": "unit_id"},
        ssc=pf.ssc(k_adj=False, G_adj=False),
    )
    np.testing.assert_allclose(ours, crv0._vcov, rtol=1e-8)


def test_conley_through_the_api_reduces_to_unit_clustering_at_zero_distance():
    frame, meta = simulate_panel(SimulationSpec(units=64, periods=10, seed=4))
    ours = estimate(frame, "twfe", meta["outcome"], meta["treatment"], inference="conley", conley_km=0.001)
    crv0 = pf.feols(
        f"{meta['outcome']} ~ {meta['treatment']} | unit_id + period",
        data=frame,
        vcov={"CRV1": "unit_id"},
        ssc=pf.ssc(k_adj=False, G_adj=False),
    )
    assert ours.estimates[0].estimate == pytest.approx(float(crv0.coef().iloc[0]), rel=1e-9)
    assert ours.estimates[0].std_error == pytest.approx(float(crv0.se().iloc[0]), rel=1e-8)
    wide = estimate(frame, "twfe", meta["outcome"], meta["treatment"], inference="conley", conley_km=80)
    assert wide.estimates[0].std_error != pytest.approx(ours.estimates[0].std_error, rel=1e-3)
    assert wide.extra["conley"]["conley_km"] == 80
