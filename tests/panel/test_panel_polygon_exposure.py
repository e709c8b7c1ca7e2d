"""Admin units are exposed from their polygon (0 inside, distance to the boundary outside)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest

from entangle.geo.distance import EARTH_RADIUS_KM, great_circle_km
from entangle.geo.polygon_distance import polygon_point_km
from entangle.measures import Sites, Ties, exposure_stream
from entangle.panel import PanelSpec, build_panel, registry_sites
from entangle.report.assemble import map_layers

D = dt.date
# 30 km east of the meridian 6°E at latitude 15.5°: on the sphere the distance from (φ, 6° + Δλ) to
# that meridian (a great circle) is R·asin(cos φ · sin Δλ), so Δλ = asin(sin(30/R) / cos φ).
EDGE_LAT, EDGE_LON, OUT_KM = 15.5, 6.0, 30.0
OUT_LON = EDGE_LON + math.degrees(
    math.asin(math.sin(OUT_KM / EARTH_RADIUS_KM) / math.cos(math.radians(EDGE_LAT)))
)


def _two_polygons(tmp_path):
    import geopandas as gpd
    import shapely

    # BIG spans 6° × 6°: its centroid (≈ 17°N, 0°) lies ~400 km from a site near its south-east corner
    geoms = [shapely.box(-3, 14, 3, 20), shapely.box(5, 15, 6, 16)]
    path = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"code": ["BIG", "SMALL"]}, geometry=geoms, crs="EPSG:4326").to_file(path)
    return path


def test_site_inside_far_from_centroid_and_site_outside_an_edge(helpers, tmp_path):
    path = _two_polygons(tmp_path)
    reg = helpers.registry(
        interventions=[
            helpers.intervention("un", "peacekeeping"),
            helpers.intervention("fr", "counterterrorism"),
        ],
        sites=[
            helpers.site("in_big", "un", 14.2, 2.8, troops=700),
            helpers.site("east_of_small", "fr", EDGE_LAT, OUT_LON),
        ],
    )
    spec = PanelSpec(
        start=D(2013, 1, 1), end=D(2013, 1, 31), unit=f"admin:{path}:code", radii_km=(25.0, 50.0)
    )
    table = build_panel(helpers.events([]), registry_sites(reg), reg, spec)
    assert json.loads(table.schema.metadata[b"entangle"])["exposure_from"] == "boundary"
    df = table.to_pandas().set_index("unit_id")
    big, small = df.loc["BIG"], df.loc["SMALL"]
    # the centroid is far from the site (the old rule saw nothing within 50 km) ...
    assert great_circle_km([big.unit_lat], [big.unit_lon], [14.2], [2.8])[0] > 300
    # ... but the site lies inside the polygon
    assert big.dist_km_peacekeeping == 0.0
    assert big.present_peacekeeping_25km == 1 and big.troops_peacekeeping_25km == 700
    # 30 km outside SMALL's east edge (densified boundary: at most 0.56 km too far)
    assert small.dist_km_counterterrorism == pytest.approx(OUT_KM, abs=0.6)
    assert small.present_counterterrorism_50km == 1 and small.present_counterterrorism_25km == 0
    assert small.present_peacekeeping_50km == 0 and big.present_counterterrorism_50km == 0
    # the nearest point of BIG to the fr site is its east edge at 3°E: 3°+ of longitude away
    expected = great_circle_km([EDGE_LAT], [3.0], [EDGE_LAT], [OUT_LON])[0]
    assert big.dist_km_counterterrorism == pytest.approx(expected, abs=0.6)
    # the report's map notes say what "within r km" is measured from
    notes = {layer["id"]: layer["note"] for layer in map_layers(table, [25.0, 50.0])}
    assert "within 50 km of the unit's boundary (or inside the unit)" in notes["copresence"]


def test_polygon_distance_matches_hand_values():
    import shapely

    geoms = np.array([shapely.box(5, 15, 6, 16)])
    lat = np.array([15.5, 15.5, 15.0, 17.0])
    lon = np.array([5.5, OUT_LON, 5.0, 5.5])  # inside, 30 km east, on a corner, 1° north of the top edge
    km = polygon_point_km(geoms, lat, lon)
    north = great_circle_km([16.0], [5.5], [17.0], [5.5])[0]  # along a meridian: exact foot at 16°N
    assert km[0].tolist()[:3] == [0.0, pytest.approx(OUT_KM, abs=0.6), 0.0]
    assert km[0, 3] == pytest.approx(north, abs=0.6)


def test_matrix_path_equals_centroid_path_when_given_centroid_distances():
    """The two paths share everything but the distance: fed centroid distances, they agree exactly."""
    rng = np.random.default_rng(7)
    n_units, n_sites = 40, 25
    ulat, ulon = rng.uniform(14, 18, n_units), rng.uniform(-4, 2, n_units)
    starts = np.arange("2013-01", "2013-07", dtype="datetime64[M]").astype("datetime64[D]")
    ends = (starts.astype("datetime64[M]") + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    begin = starts[rng.integers(0, 6, n_sites)]
    kinds = {"un": "peacekeeping", "fr": "counterterrorism", "g5": "counterterrorism", "fama": "state_forces"}
    who = rng.choice(list(kinds), n_sites)
    sites = Sites(
        lat=rng.uniform(14, 18, n_sites),
        lon=rng.uniform(-4, 2, n_sites),
        start=begin,
        end=np.where(rng.random(n_sites) < 0.5, begin + np.timedelta64(40, "D"), np.datetime64("NaT")),
        troops=np.where(rng.random(n_sites) < 0.5, rng.integers(10, 900, n_sites), np.nan),
        intervention=who.astype(object),
        kind=np.array([kinds[i] for i in who], dtype=object),
    )
    ties = Ties(
        source=np.array(["un", "fr"], dtype=object),
        target=np.array(["fr", "fama"], dtype=object),
        start=np.array(["2013-02-01", "2013-01-01"], dtype="datetime64[D]"),
        end=np.array(["NaT", "2013-04-30"], dtype="datetime64[D]"),
        weight=np.array([1.5, 2.0]),
    )
    site_km = great_circle_km(
        np.repeat(ulat, n_sites),
        np.repeat(ulon, n_sites),
        np.tile(sites.lat, n_units),
        np.tile(sites.lon, n_units),
    ).reshape(n_units, n_sites)
    radii = [50.0, 120.0]
    centroid = list(exposure_stream(ulat, ulon, sites, ties, starts, ends, radii))
    matrix = list(exposure_stream(ulat, ulon, sites, ties, starts, ends, radii, site_km))
    assert any(out["copresence_120km"].any() for out in centroid)  # the case exercises co-presence
    for a, b in zip(centroid, matrix, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_allclose(a[name], b[name], atol=1e-6, err_msg=name)


@pytest.mark.shared
def test_gao_cercle_copresence_june_2015(shared_data, helpers):
    import geopandas as gpd
    import shapely

    from entangle.registry import load_registry

    file = shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson"
    cercles = gpd.read_file(file)
    gao = cercles[cercles.NAME_2 == "Gao"].iloc[0]
    registry = load_registry()
    camp = next(s for s in registry.sites if s.id == "minusma_gao")
    assert gao.geometry.covers(shapely.Point(camp.lon, camp.lat))  # independent inside test
    spec = PanelSpec(start=D(2015, 6, 1), end=D(2015, 6, 30), unit=f"admin:{file}:GID_2", extent=("MLI",))
    df = build_panel(helpers.events([]), registry_sites(registry), registry, spec).to_pandas()
    row = df.set_index("unit_id").loc[gao.GID_2]
    assert row.dist_km_peacekeeping == 0.0 and row.dist_km_counterterrorism == 0.0
    assert row.present_peacekeeping_50km == 1 and row.present_counterterrorism_50km == 1
    assert row.copresence_50km == 1
    # the centroid alone would not see the camp within 50 km
    assert great_circle_km([row.unit_lat], [row.unit_lon], [camp.lat], [camp.lon])[0] > 50
