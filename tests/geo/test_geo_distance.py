"""Great-circle distances via unit vectors and KD-trees: hand cases at the antimeridian and poles."""

from __future__ import annotations

import numpy as np
import pytest

from entangle.geo.distance import EARTH_RADIUS_KM, great_circle_km, km_to_chord, nearest_km, within_km

DEG_KM = 2 * np.pi * EARTH_RADIUS_KM / 360  # 111.1951 km per degree of great circle


def haversine(lat1, lon1, lat2, lon2):
    p1, p2, dl = np.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


@pytest.mark.parametrize(
    ("a", "b", "km"),
    [
        ((0.0, 179.5), (0.0, -179.5), DEG_KM),  # across the antimeridian: 1 degree, not 359
        ((89.5, 0.0), (89.5, 180.0), DEG_KM),  # over the north pole
        ((-90.0, 10.0), (-90.0, -170.0), 0.0),  # the south pole is one point
        ((0.0, 0.0), (0.0, 180.0), 180 * DEG_KM),  # antipodes
        ((10.0, 20.0), (10.0, 20.0), 0.0),
    ],
)
def test_great_circle_hand_cases(a, b, km):
    got = great_circle_km(np.array([a[0]]), np.array([a[1]]), np.array([b[0]]), np.array([b[1]]))[0]
    assert got == pytest.approx(km, abs=1e-6)


def test_matches_haversine_on_random_pairs():
    rng = np.random.default_rng(1)
    lat1, lat2 = rng.uniform(-90, 90, (2, 1000))
    lon1, lon2 = rng.uniform(-180, 180, (2, 1000))
    np.testing.assert_allclose(
        great_circle_km(lat1, lon1, lat2, lon2), haversine(lat1, lon1, lat2, lon2), atol=1e-6
    )


def test_nearest_across_antimeridian_and_pole():
    sites_lat = np.array([0.0, 0.0, 89.0])
    sites_lon = np.array([-179.9, 170.0, 0.0])
    km, idx = nearest_km(np.array([0.0, 89.0]), np.array([179.9, 180.0]), sites_lat, sites_lon)
    assert idx.tolist() == [0, 2]
    assert km[0] == pytest.approx(0.2 * DEG_KM, rel=1e-9)
    assert km[1] == pytest.approx(2 * DEG_KM, rel=1e-9)  # 89N,180E -> pole -> 89N,0E


def test_nearest_matches_brute_force():
    rng = np.random.default_rng(2)
    q_lat, q_lon = rng.uniform(-90, 90, 300), rng.uniform(-180, 180, 300)
    s_lat, s_lon = rng.uniform(-90, 90, 50), rng.uniform(-180, 180, 50)
    km, _ = nearest_km(q_lat, q_lon, s_lat, s_lon)
    brute = haversine(q_lat[:, None], q_lon[:, None], s_lat[None, :], s_lon[None, :])
    np.testing.assert_allclose(km, brute.min(axis=1), atol=1e-6)


def test_within_radius_inclusive():
    lat = np.array([0.0, 0.0, 0.0])
    lon = np.array([0.0, 1.0, 2.0])
    hits = within_km(np.array([0.0]), np.array([0.0]), lat, lon, DEG_KM)
    assert hits[0].tolist() == [0, 1]
    assert km_to_chord(0.0) == 0.0


def test_empty_site_set():
    km, idx = nearest_km(np.array([1.0]), np.array([1.0]), np.array([]), np.array([]))
    assert np.isnan(km[0]) and idx[0] == -1
