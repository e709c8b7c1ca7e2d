"""Great-circle distances through 3-D unit vectors.

Points on the sphere become unit vectors; the straight-line (chord) distance between two unit vectors
is monotone in the arc between them, so a KD-tree (scipy ``cKDTree``) answers nearest-neighbour and
within-radius questions exactly, with no special case at the antimeridian (longitudes ±180 map to the
same vector) or at the poles (every longitude at ±90 maps to the same vector).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """(n, 3) unit vectors for latitudes and longitudes in degrees."""
    lat_r = np.radians(np.asarray(lat, dtype=np.float64))
    lon_r = np.radians(np.asarray(lon, dtype=np.float64))
    cos_lat = np.cos(lat_r)
    return np.column_stack([cos_lat * np.cos(lon_r), cos_lat * np.sin(lon_r), np.sin(lat_r)])


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Arc length in km for chord lengths between unit vectors (chord = 2 sin(θ/2))."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))


def km_to_chord(km: float | np.ndarray) -> float | np.ndarray:
    """Chord length between unit vectors for a great-circle distance in km."""
    theta = np.minimum(np.asarray(km, dtype=np.float64) / EARTH_RADIUS_KM, np.pi)
    return 2.0 * np.sin(theta / 2.0)


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Element-wise great-circle distance in km (chord formula: accurate at every distance)."""
    diff = unit_vectors(lat1, lon1) - unit_vectors(lat2, lon2)
    return chord_to_km(np.sqrt((diff * diff).sum(axis=1)))


def nearest_km(
    query_lat: np.ndarray, query_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each query point, the distance in km to the nearest point of (lat, lon) and its index."""
    if len(lat) == 0:
        n = len(query_lat)
        return np.full(n, np.nan), np.full(n, -1, dtype=np.int64)
    tree = cKDTree(unit_vectors(lat, lon))
    chord, index = tree.query(unit_vectors(query_lat, query_lon), k=1)
    return chord_to_km(chord), index.astype(np.int64)


def within_km(
    centre_lat: np.ndarray, centre_lon: np.ndarray, lat: np.ndarray, lon: np.ndarray, radius_km: float
) -> list[np.ndarray]:
    """For each centre, the sorted indices of the points of (lat, lon) within ``radius_km`` (inclusive)."""
    tree = cKDTree(unit_vectors(lat, lon))
    # A tiny relative slack so a point exactly at the radius (up to rounding) counts as inside.
    hits = tree.query_ball_point(unit_vectors(centre_lat, centre_lon), km_to_chord(radius_km) * (1 + 1e-12))
    return [np.sort(np.asarray(h, dtype=np.int64)) for h in hits]
