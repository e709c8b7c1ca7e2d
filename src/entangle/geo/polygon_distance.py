"""Great-circle distance from points to polygons: 0 inside, distance to the boundary outside.

For admin units a site's distance to the unit is its distance to the polygon, not to the centroid:
a large cercle that holds a camp is exposed to it however far its centroid lies from the camp.
Admin layers have few units (at most a few thousand), so the whole (unit × site) matrix is computed
once. Inside means ``covers`` (boundary points count as inside), the rule the event locator uses.
Outside, the boundary is densified to vertices at most ``max_step_deg`` apart (in lon/lat, the
coordinate space in which the polygon edges are drawn) and the distance is the great-circle
distance to the nearest vertex, found with a KD-tree on 3-D unit vectors. That overestimates the
distance to the edge by at most half a step: ≤ 0.56 km at the default 0.01°.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from entangle.geo.distance import chord_to_km, unit_vectors

MAX_STEP_DEG = 0.01


def polygon_point_km(
    geoms: np.ndarray, lat: np.ndarray, lon: np.ndarray, max_step_deg: float = MAX_STEP_DEG
) -> np.ndarray:
    """(polygons × points) great-circle km from each point to each polygon (0 when covered)."""
    geoms = np.asarray(geoms)
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    if len(geoms) == 0 or len(lat) == 0:
        return np.zeros((len(geoms), len(lat)))
    # sites often share a location (one camp, several contingents): measure each location once
    where, back = np.unique(np.column_stack([lat, lon]), axis=0, return_inverse=True)
    back = back.ravel()
    km = np.empty((len(geoms), len(where)))
    query = unit_vectors(where[:, 0], where[:, 1])
    boundary = shapely.segmentize(shapely.boundary(geoms), max_step_deg)
    xy, owner = shapely.get_coordinates(boundary, return_index=True)
    order = np.argsort(owner, kind="stable")
    xy, owner = xy[order], owner[order]
    bounds = np.searchsorted(owner, np.arange(len(geoms) + 1))
    for g in range(len(geoms)):
        vertices = unit_vectors(xy[bounds[g] : bounds[g + 1], 1], xy[bounds[g] : bounds[g + 1], 0])
        chord, _ = cKDTree(vertices).query(query, k=1)
        km[g] = chord_to_km(chord)
    points = shapely.points(where[:, 1], where[:, 0])
    shapely.prepare(geoms)
    poly_idx, point_idx = shapely.STRtree(points).query(geoms, predicate="covers")
    km[poly_idx, point_idx] = 0.0
    return km[:, back]
