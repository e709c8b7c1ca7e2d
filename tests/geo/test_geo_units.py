"""PRIO-GRID arithmetic, admin polygons and H3 units, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from entangle.errors import InputError, PanelError
from entangle.geo import outlines
from entangle.geo.units import (
    admin_units,
    make_units,
    parse_unit,
    priogrid_cells_for,
    priogrid_centroid,
    priogrid_gid,
    priogrid_neighbours,
    priogrid_units,
)


@pytest.mark.parametrize(
    ("lat", "lon", "gid"),
    [
        (-90.0, -180.0, 1),  # first cell: row 0, col 0
        (-89.9, 179.9, 720),  # last column of the first row
        (89.9, 179.9, 259200),  # last cell
        (90.0, 0.0, 359 * 720 + 360 + 1),  # the pole falls in the top row
        (0.0, 180.0, 180 * 720 + 0 + 1),  # 180 E is the same meridian as 180 W
        (16.27, -0.04, 212 * 720 + 359 + 1),  # Gao: row floor(106.27/0.5)=212, col floor(179.96/0.5)=359
        (-0.25, -0.25, 179 * 720 + 359 + 1),
    ],
)
def test_gid_by_hand(lat, lon, gid):
    assert priogrid_gid(np.array([lat]), np.array([lon]))[0] == gid


def test_centroid_by_hand():
    lat, lon = priogrid_centroid(np.array([1, 720, 259200, 153000]))
    np.testing.assert_allclose(lat, [-89.75, -89.75, 89.75, 16.25])
    np.testing.assert_allclose(lon, [-179.75, 179.75, 179.75, -0.25])
    # centroid -> gid round trip for every cell of a row
    gids = np.arange(1, 721) + 100 * 720
    assert (priogrid_gid(*priogrid_centroid(gids)) == gids).all()


def test_queen_neighbours_wrap_at_antimeridian():
    # cell 1 (row 0, col 0) at the south pole row: row 0 cols 719, 1; row 1 cols 719, 0, 1
    assert priogrid_neighbours(1).tolist() == [2, 720, 721, 722, 1440]
    # interior cell at col 719 (just west of 180): 8 neighbours, three of them in col 0
    gid = 100 * 720 + 719 + 1
    expected = sorted(r * 720 + c + 1 for r in (99, 100, 101) for c in (718, 719, 0) if (r, c) != (100, 719))
    assert priogrid_neighbours(gid).tolist() == expected


def test_queen_neighbours_at_north_pole_row():
    gid = 359 * 720 + 10 + 1  # top row: no row above, five neighbours
    assert priogrid_neighbours(gid).tolist() == sorted(
        [359 * 720 + 9 + 1, 359 * 720 + 11 + 1, 358 * 720 + 9 + 1, 358 * 720 + 10 + 1, 358 * 720 + 11 + 1]
    )


def test_unit_neighbour_pairs_match_global_rule_within_set():
    gids = np.array([1, 2, 720, 1440, 721, 5000])
    units = priogrid_units(gids)
    got = {(int(units.ids[a]), int(units.ids[b])) for a, b in units.neighbour_pairs}
    expected = {(g, n) for g in gids for n in priogrid_neighbours(g) if n in set(gids.tolist())}
    assert got == expected
    assert units.neighbour_counts()[list(units.ids).index(5000)] == 0


def test_priogrid_locate_outside_is_minus_one():
    units = priogrid_units(np.array([153000]))
    pos = units.locate(np.array([16.27, 0.0]), np.array([-0.04, 0.0]))
    assert pos.tolist() == [0, -1]


def test_cells_for_a_box_outline():
    # a 1 x 1 degree box aligned on the grid covers exactly 4 cells (edge-touching cells excluded)
    box = shapely.box(0.0, 10.0, 1.0, 11.0)
    gids = priogrid_cells_for(box)
    assert sorted(gids.tolist()) == sorted(
        priogrid_gid(np.array([10.25, 10.25, 10.75, 10.75]), np.array([0.25, 0.75, 0.25, 0.75])).tolist()
    )


def test_mali_outline_cells():
    gids = priogrid_cells_for(outlines.outline(["MLI"]))
    # Mali is about 1.24 million km2; a 0.5 degree cell at 15 N is about 2,990 km2
    assert 400 < len(gids) < 560
    gao = priogrid_gid(np.array([16.27]), np.array([-0.04]))[0]
    assert gao in gids


def test_outlines_sahel_and_unknown():
    for code in ("MLI", "NER", "BFA", "MRT", "TCD"):
        assert code in outlines.available()
    sahel = outlines.outline(["MLI", "NER"])
    assert sahel.contains(shapely.Point(-0.04, 16.27)) and sahel.contains(
        shapely.Point(2.11, 13.51)
    )  # Gao, Niamey
    with pytest.raises(PanelError, match="XXX"):
        outlines.outline(["XXX"])


def test_parse_unit():
    assert parse_unit("priogrid") == ("priogrid", None, None)
    assert parse_unit("h3:5") == ("h3", "5", None)
    assert parse_unit("admin:/a/b:c.gpkg:GID_2") == ("admin", "/a/b:c.gpkg", "GID_2")
    with pytest.raises(PanelError):
        parse_unit("cells")


def test_h3_units_have_six_neighbours_inside():
    import h3

    units = make_units("h3:4", shapely.box(0, 10, 3, 13))
    counts = units.neighbour_counts()
    assert counts.max() == 6
    i = int(np.argmax(counts))
    assert set(units.ids[units.neighbour_pairs[units.neighbour_pairs[:, 0] == i, 1]]) == set(
        h3.grid_ring(units.ids[i], 1)
    )
    lat, lon = units.lat[i], units.lon[i]
    assert units.locate(np.array([lat]), np.array([lon]))[0] == i


def _write(frame, path):
    frame.to_file(path, driver="GPKG" if str(path).endswith(".gpkg") else "GeoJSON")
    return path


def _squares():
    import geopandas as gpd

    # three squares in a row (A|B|C) and D touching C only at a corner
    geoms = [
        shapely.box(0, 0, 1, 1),
        shapely.box(1, 0, 2, 1),
        shapely.box(2, 0, 3, 1),
        shapely.box(3, 1, 4, 2),
    ]
    return gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "D"], "n": [1, 1, 2, 3]}, geometry=geoms, crs="EPSG:4326"
    )


def test_admin_units_neighbours_and_locate(tmp_path):
    units = admin_units(_write(_squares(), tmp_path / "sq.geojson"), "code")
    pairs = {(units.ids[a], units.ids[b]) for a, b in units.neighbour_pairs}
    assert pairs == {("A", "B"), ("B", "A"), ("B", "C"), ("C", "B"), ("C", "D"), ("D", "C")}
    pos = units.locate(np.array([0.5, 0.5, 5.0, 0.5]), np.array([0.5, 1.0, 5.0, 2.5]))
    # a point on the A|B edge goes to the first listed polygon (A); outside -> -1
    assert [units.ids[p] if p >= 0 else None for p in pos] == ["A", "A", None, "C"]
    # the centroid of the 1x1 square at the equator is its centre (equal-area centroid)
    assert units.lat[0] == pytest.approx(0.5, abs=1e-3) and units.lon[0] == pytest.approx(0.5, abs=1e-9)


def test_admin_reprojects_other_crs(tmp_path):
    frame = _squares()
    units_wgs = admin_units(_write(frame, tmp_path / "a.geojson"), "code")
    units_merc = admin_units(_write(frame.to_crs("EPSG:3857"), tmp_path / "b.gpkg"), "code")
    np.testing.assert_allclose(units_merc.lat, units_wgs.lat, atol=1e-6)
    np.testing.assert_allclose(units_merc.lon, units_wgs.lon, atol=1e-6)


def test_admin_bad_inputs(tmp_path):
    import geopandas as gpd

    good = _write(_squares(), tmp_path / "sq.geojson")
    with pytest.raises(InputError, match="no id column 'GID_2'"):
        admin_units(good, "GID_2")
    with pytest.raises(InputError, match="not unique"):
        admin_units(good, "n")
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    bad = gpd.GeoDataFrame({"code": ["X", "Y"]}, geometry=[bowtie, shapely.box(5, 5, 6, 6)], crs="EPSG:4326")
    with pytest.raises(InputError, match=r"1 invalid geometry \(first: 'X': Self-intersection"):
        admin_units(_write(bad, tmp_path / "bad.geojson"), "code")
    with pytest.raises(InputError, match="not found"):
        admin_units(tmp_path / "missing.gpkg", "code")
    (tmp_path / "junk.geojson").write_text("not json")
    with pytest.raises(InputError, match="cannot read polygons"):
        admin_units(tmp_path / "junk.geojson", "code")
