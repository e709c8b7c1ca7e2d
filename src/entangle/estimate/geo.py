"""Great-circle neighbourhoods of units, as sparse matrices (for Conley errors and spillover rings)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

EARTH_RADIUS_KM = 6371.0088

Kernel = Literal["bartlett", "uniform"]


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km (vectorised, broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def pairs_within(
    lat: np.ndarray, lon: np.ndarray, cutoff_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs (i, j), i != j, within ``cutoff_km``, and their great-circle distances."""
    from scipy.spatial import cKDTree

    xyz = _unit_vectors(np.asarray(lat, float), np.asarray(lon, float))
    # a chord of 2·sin(d / 2R) on the unit sphere is an arc of d km
    chord = 2 * np.sin(min(cutoff_km / EARTH_RADIUS_KM, np.pi) / 2)
    pairs = cKDTree(xyz).query_pairs(chord, output_type="ndarray")
    if len(pairs) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    arc = 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.linalg.norm(xyz[i] - xyz[j], axis=1) / 2, 0, 1))
    keep = arc <= cutoff_km
    return i[keep], j[keep], arc[keep]


def kernel_weights(distance_km: np.ndarray, cutoff_km: float, kernel: Kernel) -> np.ndarray:
    """Bartlett: 1 − d/cutoff (0 beyond); uniform: 1 within the cutoff."""
    if kernel == "uniform":
        return (distance_km <= cutoff_km).astype(float)
    return np.clip(1 - distance_km / cutoff_km, 0, None)


def neighbour_matrix(
    lat: np.ndarray,
    lon: np.ndarray,
    cutoff_km: float,
    kernel: Kernel = "uniform",
    include_self: bool = True,
) -> sp.csr_matrix:
    """Sparse n × n matrix of kernel weights between units within ``cutoff_km`` (diagonal = 1)."""
    n = len(lat)
    if cutoff_km > 0:
        i, j, d = pairs_within(lat, lon, cutoff_km)
        w = kernel_weights(d, cutoff_km, kernel)
    else:
        i = j = np.empty(0, dtype=np.int64)
        w = np.empty(0)
    if include_self:
        i = np.concatenate([i, np.arange(n)])
        j = np.concatenate([j, np.arange(n)])
        w = np.concatenate([w, np.ones(n)])
    return sp.csr_matrix((w, (i, j)), shape=(n, n))


def ring_exposure(
    treated: np.ndarray, lat: np.ndarray, lon: np.ndarray, r1_km: float, r2_km: float
) -> tuple[np.ndarray, np.ndarray]:
    """Units × periods 0/1 exposure of *untreated* units: a treated unit within ``r1_km``; else one
    within (``r1_km``, ``r2_km``]. ``treated`` is a units × periods 0/1 matrix."""
    near = neighbour_matrix(lat, lon, r1_km, include_self=False)
    far = neighbour_matrix(lat, lon, r2_km, include_self=False)
    t = np.nan_to_num(np.asarray(treated, dtype=float))
    untreated = t == 0
    within1 = ((near @ t) > 0) & untreated
    within2 = ((far @ t) > 0) & untreated & ~within1
    return within1.astype(np.int8), within2.astype(np.int8)
