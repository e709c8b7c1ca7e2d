"""Exposure across the regime complex on hand-made inputs: neighbours, kind pairs, named
interventions, the admin exposure rules. Expected values are worked out here by hand or by plain
loops, not by entangle's own functions."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest

from entangle.errors import PanelError
from entangle.geo.units import priogrid_units
from entangle.panel import PanelSpec, build_panel, registry_sites

D = dt.date
ROW0, COL0 = 210, 360  # cell (210, 360): lat 15.0-15.5, lon 0.0-0.5


def _gid(row, col):
    return row * 720 + col + 1


def _centre(row, col):
    return -90 + 0.5 * row + 0.25, -180 + 0.5 * col + 0.25


def _grid_world(helpers):
    """A 5 x 5 block of cells; sites at the centres of three of them."""
    reg = helpers.registry(
        interventions=[
            helpers.intervention("un", "peacekeeping"),
            helpers.intervention("pmc", "private_military"),
            helpers.intervention("fr", "counterterrorism"),
        ],
        sites=[
            helpers.site("pk_mid", "un", *_centre(ROW0 + 2, COL0 + 2), troops=100),
            helpers.site("pk_corner", "un", *_centre(ROW0, COL0), troops=50),
            helpers.site("pm_edge", "pmc", *_centre(ROW0 + 2, COL0 + 4)),  # troops unknown
            helpers.site("ct", "fr", *_centre(ROW0 + 4, COL0 + 2), troops=10),
        ],
    )
    gids = [_gid(ROW0 + r, COL0 + c) for r in range(5) for c in range(5)]
    return reg, priogrid_units(np.array(gids))


def test_neighbour_exposure_on_a_hand_made_grid(helpers):
    reg, units = _grid_world(helpers)
    spec = PanelSpec(start=D(2013, 1, 1), end=D(2013, 1, 31), radii_km=(10.0,))
    df = build_panel(helpers.events([]), registry_sites(reg), reg, spec, units=units).to_pandas()
    df = df.set_index("unit_id")
    sites = {"peacekeeping": [((2, 2), 100), ((0, 0), 50)], "private_military": [((2, 4), None)]}
    for r in range(5):
        for c in range(5):
            row = df.loc[_gid(ROW0 + r, COL0 + c)]
            for kind, placed in sites.items():
                # the 8 queen neighbours inside the 5 x 5 block, the cell itself left out
                near = [t for (sr, sc), t in placed if max(abs(sr - r), abs(sc - c)) == 1]
                assert row[f"nb_present_{kind}"] == (1 if near else 0), (r, c, kind)
                expect = 0.0 if not near else (np.nan if None in near else float(sum(near)))
                got = row[f"nb_troops_{kind}"]
                assert (np.isnan(got) and np.isnan(expect)) or got == expect, (r, c, kind)
    # the cell holding the mid site: its own site does not count, the corner site is two rows away
    assert df.loc[_gid(ROW0 + 2, COL0 + 2), "nb_present_peacekeeping"] == 0
    # (1, 1) touches both peacekeeping sites
    assert df.loc[_gid(ROW0 + 1, COL0 + 1), "nb_troops_peacekeeping"] == 150


def test_pairs_and_named_interventions(helpers):
    reg, units = _grid_world(helpers)
    spec = PanelSpec(
        start=D(2013, 1, 1),
        end=D(2013, 1, 31),
        radii_km=(120.0,),
        pairs=(("peacekeeping", "private_military"), ("peacekeeping", "counterterrorism")),
        interventions=("pmc",),
    )
    table = build_panel(helpers.events([]), registry_sites(reg), reg, spec, units=units)
    df = table.to_pandas().set_index("unit_id")
    meta = json.loads(table.schema.metadata[b"entangle"])
    assert meta["pairs"] == [["peacekeeping", "private_military"], ["peacekeeping", "counterterrorism"]]
    for r in range(5):
        for c in range(5):
            lat, lon = _centre(ROW0 + r, COL0 + c)
            row = df.loc[_gid(ROW0 + r, COL0 + c)]

            def within(place, lat=lat, lon=lon):
                plat, plon = _centre(ROW0 + place[0], COL0 + place[1])
                a = (
                    math.sin(math.radians(plat - lat) / 2) ** 2
                    + math.cos(math.radians(lat))
                    * math.cos(math.radians(plat))
                    * math.sin(math.radians(plon - lon) / 2) ** 2
                )
                return 2 * 6371.0088 * math.asin(math.sqrt(a)) <= 120

            pk = within((2, 2)) or within((0, 0))
            pm, ct = within((2, 4)), within((4, 2))
            assert row["copresence_peacekeeping__private_military_120km"] == int(pk and pm)
            assert row["copresence_peacekeeping__counterterrorism_120km"] == int(pk and ct)
            assert row["copresence_120km"] == int(pk and ct)
            assert row["present_pmc_120km"] == row["present_private_military_120km"] == int(pm)
            assert row["dist_km_pmc"] == pytest.approx(row["dist_km_private_military"])
            # unknown figure: NULL where the site is in range, 0 where it is not
            assert np.isnan(row["troops_pmc_120km"]) if pm else row["troops_pmc_120km"] == 0


def test_unknown_intervention_and_bad_pair_are_refused(helpers):
    reg, units = _grid_world(helpers)
    spec = PanelSpec(start=D(2013, 1, 1), end=D(2013, 1, 31), interventions=("wagner",))
    with pytest.raises(PanelError, match="unknown intervention 'wagner'"):
        build_panel(helpers.events([]), registry_sites(reg), reg, spec, units=units)
    bad = PanelSpec(start=D(2013, 1, 1), end=D(2013, 1, 31), pairs=(("peacekeeping", "peacekeeping"),))
    with pytest.raises(PanelError, match="not a pair of two different intervention kinds"):
        bad.validate()


def test_admin_exposure_rules(helpers, tmp_path):
    """A 1° x 1° square at the equator with a site on the middle of its west edge, r = 30 km."""
    import geopandas as gpd
    import shapely

    path = tmp_path / "sq.gpkg"
    gpd.GeoDataFrame({"code": ["SQ"]}, geometry=[shapely.box(10, 0, 11, 1)], crs="EPSG:4326").to_file(path)
    reg = helpers.registry(
        interventions=[helpers.intervention("un", "peacekeeping")],
        sites=[helpers.site("s", "un", 0.5, 10.0, troops=1000)],
        iso3=("GAB",),
    )

    def panel(rule):
        spec = PanelSpec(
            start=D(2013, 1, 1),
            end=D(2013, 1, 31),
            unit=f"admin:{path}:code",
            radii_km=(30.0,),
            exposure_from=rule,
        )
        table = build_panel(helpers.events([]), registry_sites(reg), reg, spec)
        return table.to_pandas().iloc[0], json.loads(table.schema.metadata[b"entangle"])

    boundary, meta = panel(None)
    assert meta["exposure_from"] == "boundary" and boundary.present_peacekeeping_30km == 1
    centroid, meta = panel("centroid")
    assert meta["exposure_from"] == "centroid" and centroid.present_peacekeeping_30km == 0  # ~55 km away
    share, meta = panel("area_share")
    assert meta["exposure_from"] == "area_share"
    # a half disc of radius 30 km inside a square of 1° x 1° at the equator
    side_ns = 6371.0088 * math.radians(1.0)
    square = side_ns * 6371.0088 * math.radians(1.0) * (math.sin(math.radians(1.0)) / math.radians(1.0))
    expected = (math.pi * 30.0**2 / 2) / square
    assert share.present_peacekeeping_30km == pytest.approx(expected, abs=0.01)
    assert share.troops_peacekeeping_30km == pytest.approx(1000 * expected, abs=10)
    with pytest.raises(PanelError, match="'area_share' needs admin polygons"):
        build_panel(
            helpers.events([]),
            registry_sites(reg),
            reg,
            PanelSpec(start=D(2013, 1, 1), end=D(2013, 1, 31), exposure_from="area_share", extent=("GAB",)),
        )
