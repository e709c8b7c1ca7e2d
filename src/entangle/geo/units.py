"""Spatial units: PRIO-GRID cells (arithmetic), admin polygons (any vector file), H3 hexagons.

A ``Units`` value is the data every later step needs: the ids, a centroid per unit, the queen
neighbours (as index pairs), and a ``locate`` function from points to unit positions. ``unit_id`` is
an integer for PRIO-GRID (the gid) and a string for admin units (the user's id column) and H3 (the
cell's hex index).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from entangle.errors import InputError, PanelError

CELL_DEG = 0.5
ROWS, COLS = 360, 720
EQUAL_AREA_CRS = "EPSG:6933"  # cylindrical equal-area: areas and centroids without lon/lat distortion


@dataclasses.dataclass(frozen=True)
class Units:
    """A set of spatial units; positions 0..n-1 index every array."""

    kind: str  # "priogrid" | "admin" | "h3"
    spec: str  # the unit string as given, e.g. "priogrid", "h3:5", "admin:FILE:IDCOL"
    ids: np.ndarray  # int64 (priogrid) or object array of str
    lat: np.ndarray
    lon: np.ndarray
    neighbour_pairs: np.ndarray  # (m, 2) int64: (unit position, neighbour position), both directions
    locate: Callable[[np.ndarray, np.ndarray], np.ndarray]  # lat, lon -> position or -1
    geometries: np.ndarray | None = None  # shapely polygons (admin units only)

    def __len__(self) -> int:
        return len(self.ids)

    def neighbour_counts(self) -> np.ndarray:
        """Number of queen neighbours of each unit within this unit set."""
        return np.bincount(self.neighbour_pairs[:, 0], minlength=len(self)).astype(np.int64)


# --- PRIO-GRID -----------------------------------------------------------------------------------


def priogrid_gid(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """PRIO-GRID gid (row·720 + col + 1, row from −90°, col from −180°) of each point.

    Latitude 90 falls in the top row; longitude 180 is the same meridian as −180 (column 0).
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    row = np.clip(np.floor((lat + 90.0) / CELL_DEG), 0, ROWS - 1).astype(np.int64)
    col = np.floor((lon + 180.0) / CELL_DEG).astype(np.int64) % COLS
    return row * COLS + col + 1


def priogrid_centroid(gid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of the centre of each PRIO-GRID cell."""
    gid = np.asarray(gid, dtype=np.int64) - 1
    row, col = np.divmod(gid, COLS)
    return -90.0 + CELL_DEG * (row + 0.5), -180.0 + CELL_DEG * (col + 0.5)


def priogrid_neighbours(gid: int) -> np.ndarray:
    """Sorted gids of the queen neighbours of one cell on the global grid.

    Columns wrap at the antimeridian (col 719 touches col 0). Rows do not wrap: the polar rows have
    five neighbours (the pole is a degenerate edge of the lattice, not a shared point).
    """
    row, col = divmod(int(gid) - 1, COLS)
    out = [
        (row + dr) * COLS + (col + dc) % COLS + 1
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if (dr or dc) and 0 <= row + dr < ROWS
    ]
    return np.array(sorted(set(out)), dtype=np.int64)


def _priogrid_pairs(gids: np.ndarray) -> np.ndarray:
    """Queen-neighbour position pairs among sorted ``gids`` (vectorised ``priogrid_neighbours``)."""
    row, col = np.divmod(gids - 1, COLS)
    pairs = []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if not (dr or dc):
                continue
            nrow = row + dr
            ok = (nrow >= 0) & (nrow < ROWS)
            ngid = nrow * COLS + (col + dc) % COLS + 1
            pos = np.searchsorted(gids, ngid)
            pos_c = np.minimum(pos, len(gids) - 1)
            hit = ok & (gids[pos_c] == ngid)
            pairs.append(np.column_stack([np.flatnonzero(hit), pos_c[hit]]))
    return _unique_pairs(np.concatenate(pairs) if pairs else np.empty((0, 2), np.int64))


def _unique_pairs(pairs: np.ndarray) -> np.ndarray:
    if len(pairs) == 0:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(pairs.astype(np.int64), axis=0)


def priogrid_cells_for(outline) -> np.ndarray:
    """Sorted gids of the cells whose area intersects ``outline`` (touching only does not count)."""
    minx, miny, maxx, maxy = shapely.bounds(outline)
    gid_lo = priogrid_gid(np.array([miny]), np.array([minx]))[0] - 1
    gid_hi = priogrid_gid(np.array([maxy]), np.array([maxx]))[0] - 1
    r0, c0 = divmod(int(gid_lo), COLS)
    r1, c1 = divmod(int(gid_hi), COLS)
    rows = np.arange(r0, r1 + 1)
    cols = np.arange(c0, c1 + 1) if c1 >= c0 else np.arange(COLS)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    boxes = shapely.box(
        -180.0 + CELL_DEG * cc,
        -90.0 + CELL_DEG * rr,
        -180.0 + CELL_DEG * (cc + 1),
        -90.0 + CELL_DEG * (rr + 1),
    )
    shapely.prepare(outline)
    keep = shapely.intersects(outline, boxes) & ~shapely.touches(outline, boxes)
    return np.sort(rr[keep] * COLS + cc[keep] + 1).astype(np.int64)


def priogrid_cell_boxes(gids: np.ndarray) -> np.ndarray:
    """Shapely boxes (lon/lat) of PRIO-GRID cells."""
    row, col = np.divmod(np.asarray(gids, dtype=np.int64) - 1, COLS)
    return shapely.box(
        -180.0 + CELL_DEG * col,
        -90.0 + CELL_DEG * row,
        -180.0 + CELL_DEG * (col + 1),
        -90.0 + CELL_DEG * (row + 1),
    )


def priogrid_units(gids: np.ndarray) -> Units:
    """PRIO-GRID units for the given gids."""
    gids = np.unique(np.asarray(gids, dtype=np.int64))
    if len(gids) == 0:
        raise PanelError("unit priogrid", "the study extent contains no PRIO-GRID cell", "check the extent")
    lat, lon = priogrid_centroid(gids)

    def locate(plat: np.ndarray, plon: np.ndarray) -> np.ndarray:
        g = priogrid_gid(plat, plon)
        pos = np.minimum(np.searchsorted(gids, g), len(gids) - 1)
        return np.where(gids[pos] == g, pos, -1).astype(np.int64)

    return Units("priogrid", "priogrid", gids, lat, lon, _priogrid_pairs(gids), locate)


# --- admin polygons -------------------------------------------------------------------------------


def read_polygons(path: str | Path, id_column: str) -> tuple[np.ndarray, np.ndarray]:
    """Read a polygon file; return (ids as str, WGS84 polygons). Raises ``InputError`` on bad input.

    Invalid geometries are an error, not silently repaired: a repair can move a boundary and so the
    events assigned to a unit, which the user should decide on (hint: ``ogr2ogr -makevalid``).
    A file in another CRS is reprojected to WGS84; a file without a CRS must already be lon/lat.
    """
    import geopandas as gpd

    path = Path(path)
    where = str(path)
    if not path.exists():
        raise InputError(
            where, "polygon file not found", "give the path to a GeoJSON, GeoPackage or Shapefile"
        )
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(
            where, f"cannot read polygons: {exc}".splitlines()[0], "is it a vector file?"
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        # A CSV or a spreadsheet reads as a plain table (its cells are not repeated here).
        raise InputError(where, "no geometry: not a polygon file", "give a GeoJSON, GeoPackage or Shapefile")
    if id_column not in frame.columns or id_column == frame.geometry.name:
        cols = [c for c in frame.columns if c != frame.geometry.name]
        raise InputError(where, f"no id column {id_column!r}", f"columns are: {', '.join(map(str, cols))}")
    ids = frame[id_column]
    if ids.isna().any():
        raise InputError(where, f"id column {id_column!r} has {int(ids.isna().sum())} empty value(s)")
    ids = ids.astype(str)
    dup = ids[ids.duplicated()]
    if len(dup):
        raise InputError(
            where,
            f"id column {id_column!r} is not unique ({dup.iloc[0]!r} repeats)",
            "choose a unique column",
        )
    geoms = frame.geometry.values
    if len(frame) == 0:
        raise InputError(where, "the file has no features")
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        raise InputError(where, f"unit {ids[missing].iloc[0]!r} has no geometry")
    types = set(frame.geom_type)
    if not types <= {"Polygon", "MultiPolygon"}:
        raise InputError(where, f"expected polygons, found {sorted(types)}")
    invalid = ~np.asarray(shapely.is_valid(np.asarray(geoms)))
    if invalid.any():
        first = int(np.flatnonzero(invalid)[0])
        reason = shapely.is_valid_reason(np.asarray(geoms)[first])
        raise InputError(
            where,
            f"{int(invalid.sum())} invalid geometr{'y' if invalid.sum() == 1 else 'ies'} "
            f"(first: {ids.iloc[first]!r}: {reason})",
            "repair them, e.g. ogr2ogr -makevalid OUT IN",
        )
    if frame.crs is None:
        minx, miny, maxx, maxy = frame.total_bounds
        if minx < -180.5 or maxx > 180.5 or miny < -90.5 or maxy > 90.5:
            raise InputError(
                where, "no CRS and the coordinates are not longitude/latitude", "set the file's CRS"
            )
    elif not frame.crs.equals("EPSG:4326"):
        frame = frame.to_crs("EPSG:4326")
    return ids.to_numpy(dtype=object), np.asarray(frame.geometry.values)


def equal_area(geoms: np.ndarray) -> np.ndarray:
    """Geometries projected from WGS84 to an equal-area CRS (for areas and centroids)."""
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", EQUAL_AREA_CRS, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _centroids(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from pyproj import Transformer

    cent = shapely.centroid(equal_area(geoms))
    back = Transformer.from_crs(EQUAL_AREA_CRS, "EPSG:4326", always_xy=True)
    lon, lat = back.transform(shapely.get_x(cent), shapely.get_y(cent))
    return np.asarray(lat), np.asarray(lon)


def polygon_locator(geoms: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function (lat, lon) -> index of the polygon covering each point, -1 when none.

    A point on a shared boundary goes to the polygon listed first. Points are never made into
    geometries: they are sorted by longitude once, each polygon takes the slice within its bounding
    box, and ``shapely.intersects_xy`` (for a point, intersects = covers) tests that slice against
    the prepared polygon. On 431,800 ACLED points and 50 cercles this is 4x faster than building a
    tree of point geometries and querying it with the polygons, with identical results.
    """
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)

    def locate(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        out = np.full(len(lat), -1, dtype=np.int64)
        order = np.argsort(lon, kind="stable")  # NaN sorts last and falls in no box
        xs = lon[order]
        for k, (x0, y0, x1, y1) in enumerate(bounds):
            cand = order[np.searchsorted(xs, x0, "left") : np.searchsorted(xs, x1, "right")]
            cand = cand[(lat[cand] >= y0) & (lat[cand] <= y1) & (out[cand] < 0)]
            if len(cand):
                out[cand[shapely.intersects_xy(geoms[k], lon[cand], lat[cand])]] = k
        return out

    return locate


def admin_units(path: str | Path, id_column: str) -> Units:
    """Admin units from a polygon file; neighbours are polygons sharing at least a boundary point."""
    ids, geoms = read_polygons(path, id_column)
    lat, lon = _centroids(geoms)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left != right
    pairs = _unique_pairs(np.column_stack([left[keep], right[keep]]))
    return Units("admin", f"admin:{path}:{id_column}", ids, lat, lon, pairs, polygon_locator(geoms), geoms)


# --- H3 ------------------------------------------------------------------------------------------


def h3_units(resolution: int, outline) -> Units:
    """H3 cells at ``resolution`` that overlap ``outline``; neighbours are the cells of the first ring."""
    import h3

    if not 0 <= resolution <= 15:
        raise PanelError(f"unit h3:{resolution}", "H3 resolution must be 0..15")
    cells = sorted(
        h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(outline), resolution, contain="overlap")
    )
    if not cells:
        raise PanelError(f"unit h3:{resolution}", "the study extent contains no H3 cell", "check the extent")
    ids = np.array(cells, dtype=object)
    position = {c: i for i, c in enumerate(cells)}
    latlon = np.array([h3.cell_to_latlng(c) for c in cells])
    pairs = [(i, position[n]) for i, c in enumerate(cells) for n in h3.grid_ring(c, 1) if n in position]

    def locate(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return np.array(
            [position.get(h3.latlng_to_cell(a, b, resolution), -1) for a, b in zip(lat, lon, strict=True)],
            dtype=np.int64,
        )

    return Units(
        "h3",
        f"h3:{resolution}",
        ids,
        latlon[:, 0],
        latlon[:, 1],
        _unique_pairs(np.array(pairs, dtype=np.int64).reshape(-1, 2)),
        locate,
    )


# --- from a unit string --------------------------------------------------------------------------


def parse_unit(spec: str) -> tuple[str, str | None, str | None]:
    """Split a unit string into (kind, arg1, arg2): priogrid | h3:RES | admin:FILE:IDCOL."""
    if spec == "priogrid":
        return "priogrid", None, None
    if spec.startswith("h3:") and spec[3:].isdigit():
        return "h3", spec[3:], None
    if spec.startswith("admin:") and spec.count(":") >= 2:
        file, col = spec[len("admin:") :].rsplit(":", 1)
        if file and col:
            return "admin", file, col
    raise PanelError(f"unit {spec}", "unknown unit", "use priogrid, h3:RES or admin:FILE:IDCOL")


def make_units(spec: str, outline=None) -> Units:
    """Units for a unit string; PRIO-GRID and H3 need an ``outline`` (the study extent)."""
    kind, arg, col = parse_unit(spec)
    if kind == "admin":
        return admin_units(arg, col)
    if outline is None:
        raise PanelError(f"unit {spec}", "needs a study extent", "give --extent ISO3 or a registry theatre")
    if kind == "h3":
        return h3_units(int(arg), outline)
    return priogrid_units(priogrid_cells_for(outline))
