"""Great-circle neighbourhoods of units, as sparse matrices (for Conley errors and spillover rings)."""

from __future__ import annotations

import hashlib
from typing import Literal

import numpy as np
import scipy.sparse as sp

from entangle.geo.distance import chord_to_km, km_to_chord, unit_vectors

Kernel = Literal["bartlett", "uniform"]


def pairs_within(
    lat: np.ndarray, lon: np.ndarray, cutoff_km: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All ordered pairs (i, j), i != j, within ``cutoff_km``, and their great-circle distances."""
    from scipy.spatial import cKDTree

    xyz = unit_vectors(lat, lon)
    pairs = cKDTree(xyz).query_pairs(km_to_chord(cutoff_km), output_type="ndarray")
    if len(pairs) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0)
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    arc = chord_to_km(np.linalg.norm(xyz[i] - xyz[j], axis=1))
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
    """Sparse n × n matrix of kernel weights between units within ``cutoff_km`` (diagonal = 1).

    Kept for the last few coordinate sets: a grid of models asks for the same units many times."""
    key = (
        hashlib.blake2b(np.ascontiguousarray([lat, lon], dtype=float).tobytes()).hexdigest(),
        float(cutoff_km),
        kernel,
        include_self,
    )
    if key not in _NEIGHBOURS:
        if len(_NEIGHBOURS) >= 8:
            _NEIGHBOURS.pop(next(iter(_NEIGHBOURS)))
        _NEIGHBOURS[key] = _neighbour_matrix(lat, lon, cutoff_km, kernel, include_self)
    return _NEIGHBOURS[key].copy()


_NEIGHBOURS: dict[tuple, sp.csr_matrix] = {}


def _neighbour_matrix(
    lat: np.ndarray, lon: np.ndarray, cutoff_km: float, kernel: Kernel, include_self: bool
) -> sp.csr_matrix:
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
