"""Points to admin polygons: the vectorised locator against shapely's own covers, point by point."""

from __future__ import annotations

import numpy as np
import shapely

from entangle.geo.units import polygon_locator


def _reference(geoms: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """First polygon (in list order) that covers each point, by brute force with Point objects."""
    out = np.full(len(lat), -1)
    for i, (y, x) in enumerate(zip(lat, lon, strict=True)):
        point = shapely.Point(x, y)
        for k, geom in enumerate(geoms):
            if geom.covers(point):
                out[i] = k
                break
    return out


def test_locator_matches_covers_with_ties_to_the_first_polygon():
    # Two squares sharing the edge x = 1, a triangle inside the first box but not its square's
    # corner, a multipolygon, and points inside, outside, on edges, on vertices and missing.
    geoms = np.array(
        [
            shapely.box(0, 0, 1, 1),
            shapely.box(1, 0, 2, 1),
            shapely.Polygon([(2, 0), (3, 0), (2, 1)]),
            shapely.MultiPolygon([shapely.box(5, 5, 6, 6), shapely.box(7, 7, 8, 8)]),
        ]
    )
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(-0.5, 8.5, 2000), [1.0, 1.0, 2.0, 2.5, 2.9, 7.5, 0.0, np.nan, 4.0]])
    lat = np.concatenate([rng.uniform(-0.5, 8.5, 2000), [0.5, 1.0, 0.5, 0.5, 0.9, 7.5, 0.0, 0.5, np.nan]])
    got = polygon_locator(geoms)(lat, lon)
    assert np.array_equal(got, _reference(geoms, lat, lon))
    # the shared edge x = 1 goes to the square listed first; (2.9, 0.9) is outside the triangle
    assert list(got[-9:]) == [0, 0, 1, 2, -1, 3, 0, -1, -1]
    assert polygon_locator(geoms)(np.array([]), np.array([])).shape == (0,)
