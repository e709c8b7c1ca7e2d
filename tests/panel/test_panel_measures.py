"""Exposures and the entanglement index: a hand-computed case and a brute-force cross-check."""

from __future__ import annotations

import numpy as np
import pytest

from entangle.geo.distance import EARTH_RADIUS_KM
from entangle.measures import Sites, Ties, entanglement_index, exposure_stream, radius_label, tie_weights

D = np.datetime64


def haversine(lat1, lon1, lat2, lon2):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _sites(rows):
    lat, lon, start, end, troops, iid, kind = zip(*rows, strict=True)
    return Sites(
        lat=np.array(lat, float),
        lon=np.array(lon, float),
        start=np.array(start, "datetime64[D]"),
        end=np.array(end, "datetime64[D]"),
        troops=np.array(troops, float),
        intervention=np.array(iid, object),
        kind=np.array(kind, object),
    )


def _ties(rows):
    if not rows:
        e = np.array([], object)
        return Ties(e, e, np.array([], "datetime64[D]"), np.array([], "datetime64[D]"), np.array([], float))
    a, b, start, end, w = zip(*rows, strict=True)
    return Ties(
        np.array(a, object),
        np.array(b, object),
        np.array(start, "datetime64[D]"),
        np.array(end, "datetime64[D]"),
        np.array(w, float),
    )


def test_entanglement_worked_example():
    """The worked example of docs/panel.md.

    Unit u, month 2020-03, r = 50 km. Present within 50 km: MINUSMA (peacekeeping), Barkhane
    (counterterrorism), FAMa (state forces). Ties active in March 2020: MINUSMA->Barkhane logistical
    support (w=1), Barkhane->MINUSMA medevac (w=0.5), Barkhane->FAMa joint operations (w=2);
    MINUSMA->FAMa support ended 2020-02-15 (not active). Wagner has a tie to FAMa (w=3) but no site
    near u. E = (1 + 0.5) + 2 = 3.5. A second unit with only MINUSMA and FAMa near it: E = 0.
    """
    nat = D("NaT")
    sites = _sites(
        [
            (15.00, 0.00, D("2019-01-01"), nat, 1000, "minusma", "peacekeeping"),
            (15.20, 0.00, D("2019-01-01"), nat, 600, "barkhane", "counterterrorism"),
            (15.00, 0.30, D("2019-01-01"), nat, np.nan, "fama", "state_forces"),
            (18.00, 3.00, D("2019-01-01"), nat, 200, "wagner", "private_military"),
            (12.00, -5.00, D("2019-01-01"), nat, 300, "minusma", "peacekeeping"),
            (12.00, -5.20, D("2019-01-01"), nat, 100, "fama", "state_forces"),
        ]
    )
    ties = _ties(
        [
            ("minusma", "barkhane", D("2019-06-01"), nat, 1.0),
            ("barkhane", "minusma", D("2020-03-10"), D("2020-03-20"), 0.5),
            ("barkhane", "fama", D("2018-01-01"), nat, 2.0),
            ("minusma", "fama", D("2018-01-01"), D("2020-02-15"), 4.0),
            ("wagner", "fama", D("2018-01-01"), nat, 3.0),
        ]
    )
    lat, lon = np.array([15.05, 12.0]), np.array([0.10, -5.1])
    (out,) = exposure_stream(
        lat, lon, sites, ties, np.array([D("2020-03-01")]), np.array([D("2020-03-31")]), [50.0]
    )
    assert out["entanglement_50km"].tolist() == [3.5, 0.0]
    assert out["copresence_50km"].tolist() == [1, 0]
    assert out["present_state_forces_50km"].tolist() == [1, 1]
    assert out["troops_peacekeeping_50km"].tolist() == [1000.0, 300.0]
    # FAMa's troops at u unknown: NULL (NaN), never 0; 0 means no site
    assert np.isnan(out["troops_state_forces_50km"][0]) and out["troops_state_forces_50km"][1] == 100.0
    assert out["present_private_military_50km"].tolist() == [0, 0]
    assert out["dist_km_private_military"][0] == pytest.approx(haversine(15.05, 0.10, 18.0, 3.0), abs=1e-6)


def test_tie_weights_and_index_formula():
    ties = _ties([("a", "b", D("2020-01-01"), D("NaT"), 2.0), ("b", "a", D("2020-01-01"), D("NaT"), 1.0)])
    w = tie_weights(ties, ["a", "b", "c"], D("2020-01-01"), D("2020-01-31"))
    assert w.tolist() == [[0, 3, 0], [3, 0, 0], [0, 0, 0]]
    assert entanglement_index(np.array([[1, 1, 1], [1, 0, 1], [0, 1, 0]], bool), w).tolist() == [
        3.0,
        0.0,
        0.0,
    ]


def test_radius_label():
    assert radius_label(25.0) == "25" and radius_label(12.5) == "12p5"


@pytest.mark.parametrize("n_sites", [120, 400])  # 400: over 32 sites of a kind start at once (full query)
def test_incremental_exposures_match_brute_force(n_sites):
    """Random sites starting and stopping over 30 months: every period equals a from-scratch computation."""
    rng = np.random.default_rng(7)
    n_units, months = 400, 30
    kinds = np.array(["peacekeeping", "counterterrorism", "state_forces", "training"], object)
    month0 = D("2015-01", "M")
    start_m = rng.integers(-5 if n_sites < 200 else -30, months, n_sites)
    length = rng.integers(1, 20, n_sites)
    start = (month0 + start_m).astype("datetime64[D]") + rng.integers(0, 28, n_sites)
    end = (month0 + start_m + length).astype("datetime64[D]")
    end = np.where(rng.random(n_sites) < 0.2, D("NaT"), end).astype("datetime64[D]")
    # sites clustered near a few spots, some across the antimeridian
    lat = rng.uniform(-5, 5, n_sites)
    lon = np.where(
        rng.random(n_sites) < 0.5, rng.uniform(177, 180, n_sites), rng.uniform(-180, -177, n_sites)
    )
    troops = np.where(rng.random(n_sites) < 0.3, np.nan, rng.integers(10, 500, n_sites).astype(float))
    iid = np.array([f"i{k}" for k in rng.integers(0, 6, n_sites)], object)
    kind = kinds[[int(s[1:]) % 4 for s in iid]]
    sites = Sites(lat, lon, start, end, troops, iid, kind)
    ties = _ties(
        [("i0", "i1", D("2015-06-01"), D("2016-01-31"), 1.5), ("i2", "i3", D("2014-01-01"), D("NaT"), 1.0)]
    )
    u_lat = rng.uniform(-6, 6, n_units)
    u_lon = rng.uniform(-184, -176, n_units)
    u_lon = np.where(u_lon < -180, u_lon + 360, u_lon)
    starts = (month0 + np.arange(months)).astype("datetime64[D]")
    ends = (month0 + np.arange(1, months + 1)).astype("datetime64[D]") - np.timedelta64(1, "D")
    radii = [100.0, 250.0]
    got = list(exposure_stream(u_lat, u_lon, sites, ties, starts, ends, radii))
    dist = haversine(u_lat[:, None], u_lon[:, None], lat[None, :], lon[None, :])
    interventions = sorted(set(iid))
    for t, (first, last) in enumerate(zip(starts, ends, strict=True)):
        active = (start <= last) & (np.isnat(end) | (end >= first))
        w = tie_weights(ties, interventions, first, last)
        for k in ("peacekeeping", "counterterrorism", "state_forces", "private_military", "training"):
            sel = active & (kind == k)
            expect = dist[:, sel].min(axis=1) if sel.any() else np.full(n_units, np.nan)
            np.testing.assert_allclose(got[t][f"dist_km_{k}"], expect, atol=1e-6, err_msg=f"{k} t={t}")
            for r in radii:
                near = (dist <= r) & sel[None, :]
                lab = radius_label(r)
                assert (got[t][f"present_{k}_{lab}km"] == near.any(axis=1)).all()
                expect = (near * np.nan_to_num(troops)).sum(axis=1)
                expect[(near & np.isnan(troops)[None, :]).any(axis=1)] = np.nan  # a figure unknown
                np.testing.assert_allclose(got[t][f"troops_{k}_{lab}km"], expect)
        for r in radii:
            near = (dist <= r) & active[None, :]
            present = np.stack([(near & (iid == i)[None, :]).any(axis=1) for i in interventions], axis=1)
            expect = np.array(
                [sum(w[a, b] for a in range(6) for b in range(a + 1, 6) if p[a] and p[b]) for p in present]
            )
            np.testing.assert_allclose(got[t][f"entanglement_{radius_label(r)}km"], expect)
