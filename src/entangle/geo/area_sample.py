"""Points spread evenly over each polygon's area, for exposures averaged over a unit's area.

``exposure_from = "area_share"``: a unit's presence is the share of its area within r km of an
active site. Each polygon is covered by a square lattice in an equal-area projection (EPSG:6933)
with about ``per_unit`` points inside it (spacing √(area / per_unit)); every point stands for the
same area of its unit, so the share of points within r km is the share of area, to about
1/per_unit. A polygon too small for any lattice point inside it gets its representative point.
"""

from __future__ import annotations

import numpy as np
import shapely

from entangle.geo.units import EQUAL_AREA_CRS, equal_area

PER_UNIT = 400


def area_samples(geoms: np.ndarray, per_unit: int = PER_UNIT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, unit index) of the sample points, ordered by unit."""
    from pyproj import Transformer

    projected = equal_area(np.asarray(geoms))
    xs, ys, owner = [], [], []
    for k, shape in enumerate(projected):
        x0, y0, x1, y1 = shapely.bounds(shape)
        step = np.sqrt(shapely.area(shape) / per_unit)
        gx, gy = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
        gx, gy = gx.ravel(), gy.ravel()
        inside = shapely.contains_xy(shape, gx, gy)
        if not inside.any():
            point = shapely.point_on_surface(shape)
            gx, gy, inside = (
                np.array([shapely.get_x(point)]),
                np.array([shapely.get_y(point)]),
                np.array([True]),
            )
        xs.append(gx[inside])
        ys.append(gy[inside])
        owner.append(np.full(int(inside.sum()), k, dtype=np.int64))
    back = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(np.concatenate(xs), np.concatenate(ys))
    return np.asarray(lat), np.asarray(lon), np.concatenate(owner)


def unit_means(values: np.ndarray, owner: np.ndarray, n_units: int) -> np.ndarray:
    """Mean of point values per unit (NaN when any of a unit's points is NaN)."""
    counts = np.bincount(owner, minlength=n_units)
    return np.bincount(owner, weights=values.astype(np.float64), minlength=n_units) / counts
