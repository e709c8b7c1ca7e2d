"""The dense panel on hand-made inputs: outcomes, lags, imprecision rules, conservation, metadata."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from entangle.errors import PanelError
from entangle.geo.assign import ImprecisionRule
from entangle.geo.units import priogrid_gid, priogrid_neighbours
from entangle.panel import PanelSpec, build_panel, registry_sites, write_panel

D = dt.date
GAO = (16.27, -0.04)
MOPTI = (14.49, -4.19)


def _panel(helpers, events, reg=None, **kw):
    reg = reg or helpers.registry()
    spec = PanelSpec(start=kw.pop("start", D(2013, 1, 1)), end=kw.pop("end", D(2013, 6, 30)), **kw)
    return build_panel(events, registry_sites(reg), reg, spec).to_pandas()


def _gid(lat, lon):
    return int(priogrid_gid(np.array([lat]), np.array([lon]))[0])


def test_dense_rows_outcomes_and_categories(helpers):
    ev = helpers.events(
        [
            {
                "date_start": D(2013, 3, 5),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 3,
                "civilian_fatalities": 2,
                "perpetrator_category": "jihadist",
                "target_peacekeepers": True,
                "violence_type": "state_based",
            },
            {
                "date_start": D(2013, 3, 28),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 4,
                "civilian_fatalities": 4,
                "perpetrator_category": None,
                "violence_type": "one_sided",
            },
            {
                "date_start": D(2013, 4, 1),
                "lat": MOPTI[0],
                "lon": MOPTI[1],
                "fatalities_best": 5,
                "civilian_fatalities": 1,
                "perpetrator_category": "bandits",
                "violence_type": "one_sided",
            },
        ]
    )
    df = _panel(helpers, ev)
    n_cells = df.unit_id.nunique()
    assert len(df) == n_cells * 6  # dense: every cell x 6 months
    assert df.period.min() == D(2013, 1, 1) and sorted(df.period.unique())[1] == D(2013, 2, 1)
    gao = df[(df.unit_id == _gid(*GAO)) & (df.period == D(2013, 3, 1))].iloc[0]
    assert (gao.events, gao.fatalities, gao.civilian_fatalities) == (2, 7, 6)
    assert (
        gao.events_state_based,
        gao.fatalities_state_based,
        gao.events_one_sided,
        gao.fatalities_one_sided,
    ) == (1, 3, 1, 4)
    assert (
        gao.civilian_fatalities_jihadist,
        gao.civilian_fatalities_unknown,
        gao.attacks_on_peacekeepers,
    ) == (2, 4, 1)
    mopti = df[(df.unit_id == _gid(*MOPTI)) & (df.period == D(2013, 4, 1))].iloc[0]
    assert mopti.civilian_fatalities_other == 1  # a category outside the list counts as "other"
    assert df.fatalities.sum() == 12 and df.events.sum() == 3
    assert df.unit_lat[df.unit_id == _gid(*GAO)].iloc[0] == 16.25


def test_lag_is_mean_over_queen_neighbours(helpers):
    ev = helpers.events(
        [
            {"date_start": D(2013, 2, 1), "lat": 15.25, "lon": -2.25, "fatalities_best": 8},
            {"date_start": D(2013, 2, 2), "lat": 15.75, "lon": -2.25, "fatalities_best": 4},
        ]
    )
    df = _panel(helpers, ev)
    feb = df[df.period == D(2013, 2, 1)].set_index("unit_id")
    a, b = _gid(15.25, -2.25), _gid(15.75, -2.25)
    # a and b are neighbours (b directly north of a); both interior cells of Mali with 8 neighbours
    assert feb.loc[a, "splag_fatalities"] == pytest.approx(4 / 8)
    assert feb.loc[b, "splag_fatalities"] == pytest.approx(8 / 8)
    c = _gid(15.25, -1.75)  # east of a, south-east of b
    assert feb.loc[c, "splag_fatalities"] == pytest.approx(12 / 8)
    assert feb.loc[c, "splag_events"] == pytest.approx(2 / 8)
    far = _gid(*GAO)
    assert feb.loc[far, "splag_fatalities"] == 0
    # a cell on the border: mean over the neighbours inside the study only
    border = feb.index[[len(set(priogrid_neighbours(g)) & set(feb.index)) < 8 for g in feb.index]][0]
    assert np.isfinite(feb.loc[border, "splag_events"])


def test_conservation_random_events(helpers):
    rng = np.random.default_rng(3)
    n = 3000
    lat = rng.uniform(11, 24, n)
    lon = rng.uniform(-11, 4, n)
    days = rng.integers(0, 3 * 365, n)
    rows = [
        {
            "date_start": D(2012, 1, 1) + dt.timedelta(days=int(d)),
            "lat": a,
            "lon": b,
            "fatalities_best": int(f),
            "violence_type": ["state_based", "non_state", "one_sided"][i % 3],
        }
        for i, (a, b, d, f) in enumerate(zip(lat, lon, days, rng.poisson(3, n), strict=True))
    ]
    ev = helpers.events(rows)
    df = _panel(helpers, ev, start=D(2012, 1, 1), end=D(2014, 12, 31))
    inside = np.isin(priogrid_gid(lat, lon), df.unit_id.unique())
    years = np.array([r["date_start"].year for r in rows])
    fat = np.array([r["fatalities_best"] for r in rows])
    for year in (2012, 2013, 2014):
        expect = fat[inside & (years == year)].sum()
        got = df.fatalities[df.period.map(lambda p: p.year) == year].sum()
        assert got == expect
    assert df[[c for c in df.columns if c.startswith("fatalities_")]].sum(axis=1).sum() == fat[inside].sum()


def test_imprecision_rules(helpers):
    ev = helpers.events(
        [
            {"date_start": D(2013, 2, 1), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 1},
            {
                "date_start": D(2013, 2, 1),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 10,
                "geo_precision": 3,
            },
            {
                "date_start": D(2013, 2, 1),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 100,
                "source": "ucdp",
                "geo_precision": 3,
            },
            # a 59-day event (Feb 1 .. Mar 31): imprecise date
            {
                "date_start": D(2013, 2, 1),
                "date_end": D(2013, 3, 31),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 59,
            },
        ]
    )
    reg = helpers.registry()
    totals = {}
    for rule in ("drop", "point"):
        spec = PanelSpec(start=D(2013, 1, 1), end=D(2013, 6, 30), imprecision=ImprecisionRule(rule=rule))
        table = build_panel(ev, registry_sites(reg), reg, spec)
        totals[rule] = table.column("fatalities").to_numpy().sum()
        meta = json.loads(table.schema.metadata[b"entangle"])
        assert meta["imprecision"]["rule"] == rule
        if rule == "drop":
            assert meta["counts"]["dropped_imprecise_location"] == 2
            assert meta["counts"]["dropped_imprecise_date"] == 1
    spread = PanelSpec(start=D(2013, 1, 1), end=D(2013, 6, 30), imprecision=ImprecisionRule(rule="spread"))
    with pytest.raises(PanelError, match="needs admin polygons"):
        build_panel(ev, registry_sites(reg), reg, spread)
    assert totals == {"drop": 1, "point": 1 + 10 + 100 + 59}


def test_spread_over_admin_polygons_conserves(helpers, tmp_path):
    import geopandas as gpd
    import shapely

    # an admin polygon covering one full cell and half of the next (same latitude band): shares 2/3, 1/3
    zone = shapely.box(-2.0, 15.0, -1.25, 15.5)
    path = tmp_path / "zones.geojson"
    gpd.GeoDataFrame({"zid": ["z1"]}, geometry=[zone], crs="EPSG:4326").to_file(path)
    ev = helpers.events(
        [
            {
                "date_start": D(2013, 2, 10),
                "lat": 15.2,
                "lon": -1.4,
                "fatalities_best": 9,
                "geo_precision": 3,
            },
            # precise, 31-day window: Jan 20 .. Feb 19 spans 31 days -> precise date at Jan
            {
                "date_start": D(2013, 1, 20),
                "date_end": D(2013, 2, 19),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 1,
            },
            # imprecise date, 62 days Jan 30 .. Apr 1: 2 days Jan, 28 Feb, 31 Mar, 1 Apr
            {
                "date_start": D(2013, 1, 30),
                "date_end": D(2013, 4, 1),
                "lat": GAO[0],
                "lon": GAO[1],
                "fatalities_best": 62,
            },
        ]
    )
    reg = helpers.registry()
    spec = PanelSpec(
        start=D(2013, 1, 1),
        end=D(2013, 6, 30),
        imprecision=ImprecisionRule(rule="spread"),
        spread_over=f"{path}:zid",
    )
    df = build_panel(ev, registry_sites(reg), reg, spec).to_pandas()
    assert df.fatalities.dtype == np.float64
    feb = df[df.period == D(2013, 2, 1)].set_index("unit_id")
    assert feb.loc[_gid(15.25, -1.75), "fatalities"] == pytest.approx(6.0)
    assert feb.loc[_gid(15.25, -1.25), "fatalities"] == pytest.approx(3.0)
    gao = df[df.unit_id == _gid(*GAO)].set_index("period").fatalities
    assert gao[D(2013, 1, 1)] == pytest.approx(1 + 2.0)
    assert gao[D(2013, 2, 1)] == pytest.approx(28.0)
    assert gao[D(2013, 3, 1)] == pytest.approx(31.0)
    assert gao[D(2013, 4, 1)] == pytest.approx(1.0)
    assert df.fatalities.sum() == pytest.approx(72.0)


def test_admin_unit_panel_and_exposures(helpers, tmp_path):
    import geopandas as gpd
    import shapely

    path = tmp_path / "adm.gpkg"
    geoms = [shapely.box(-1, 15, 0, 16), shapely.box(0, 15, 1, 16), shapely.box(1, 15, 2, 16)]
    gpd.GeoDataFrame({"code": ["W", "M", "E"]}, geometry=geoms, crs="EPSG:4326").to_file(path)
    reg = helpers.registry(
        interventions=[
            helpers.intervention("un", "peacekeeping"),
            helpers.intervention("fr", "counterterrorism"),
        ],
        ties=[helpers.tie("t", "un", "fr", 2.0, start=D(2013, 3, 1))],
        sites=[
            helpers.site("s1", "un", 15.5, 0.5, start=D(2013, 2, 1), troops=800),
            helpers.site("s2", "fr", 15.5, 0.6, start=D(2013, 1, 1), end=D(2013, 4, 30)),
        ],
    )
    ev = helpers.events([{"date_start": D(2013, 3, 1), "lat": 15.5, "lon": -0.5, "fatalities_best": 6}])
    df = _panel(helpers, ev, reg, unit=f"admin:{path}:code", radii_km=(25.0,))
    assert sorted(df.unit_id.unique()) == ["E", "M", "W"]
    m = df[df.unit_id == "M"].set_index("period")
    assert m.present_peacekeeping_25km.tolist() == [0, 1, 1, 1, 1, 1]
    assert m.copresence_25km.tolist() == [0, 1, 1, 1, 0, 0]
    assert m.entanglement_25km.tolist() == [0, 0, 2.0, 2.0, 0, 0]
    assert m.troops_peacekeeping_25km.tolist() == [0, 800, 800, 800, 800, 800]
    assert m.dist_km_peacekeeping.isna().tolist() == [True] + [False] * 5
    # centroid of M is (15.5, 0.5) up to the equal-area centroid's tiny shift
    assert m.dist_km_peacekeeping.iloc[1] == pytest.approx(0.0, abs=0.5)
    march = df[df.period == D(2013, 3, 1)].set_index("unit_id")
    assert march.loc["W", "fatalities"] == 6 and march.loc["M", "splag_fatalities"] == 3.0  # (6 + 0) / 2
    assert march.loc["E", "splag_fatalities"] == 0.0


def test_quarter_and_year_periods(helpers):
    ev = helpers.events([{"date_start": D(2013, 5, 5), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 2}])
    q = _panel(helpers, ev, period="quarter", start=D(2013, 1, 1), end=D(2013, 12, 31))
    assert sorted(q.period.unique()) == [D(2013, 1, 1), D(2013, 4, 1), D(2013, 7, 1), D(2013, 10, 1)]
    assert q[q.period == D(2013, 4, 1)].fatalities.sum() == 2
    y = _panel(helpers, ev, period="year", start=D(2012, 6, 1), end=D(2013, 2, 1))
    assert sorted(y.period.unique()) == [D(2012, 1, 1), D(2013, 1, 1)]


def test_write_panel_streams_same_table_with_metadata(helpers, tmp_path):
    reg = helpers.registry(
        interventions=[helpers.intervention("un", "peacekeeping")],
        sites=[helpers.site("s1", "un", *GAO, troops=10)],
    )
    ev = helpers.events([{"date_start": D(2013, 5, 5), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 2}])
    spec = PanelSpec(start=D(2013, 1, 1), end=D(2013, 6, 30))
    out = tmp_path / "p.parquet"
    meta = write_panel(ev, registry_sites(reg), reg, spec, out, metadata={"study_hash": "abc"})
    table = pq.read_table(out)
    expect = build_panel(ev, registry_sites(reg), reg, spec, metadata={"study_hash": "abc"})
    assert table.equals(expect)
    stored = json.loads(table.schema.metadata[b"entangle"])
    assert (
        stored["study_hash"] == "abc" and stored["radii_km"] == [25.0, 50.0] and stored["unit"] == "priogrid"
    )
    assert stored["entangle_version"] and stored["imprecision"]["rule"] == "drop"
    assert meta["rows"] == table.num_rows
    assert [p.name for p in tmp_path.iterdir()] == ["p.parquet"]  # no temp file left behind


def test_unmatched_sites_are_counted_not_used(helpers):
    reg = helpers.registry(interventions=[helpers.intervention("un", "peacekeeping", start=D(2013, 3, 1))])
    sites = pa.table(
        {
            "intervention_id": ["un", None, "ghost", "un"],
            "lat": [GAO[0], GAO[0], GAO[0], GAO[0]],
            "lon": [GAO[1], GAO[1], GAO[1], GAO[1]],
            "start": pa.array([D(2013, 1, 1), D(2013, 1, 1), D(2013, 1, 1), D(2010, 1, 1)], pa.date32()),
            "end": pa.array([None, None, None, D(2011, 1, 1)], pa.date32()),
            "troops": [5, 6, 7, 8],
        }
    )
    table = build_panel(helpers.events([]), sites, reg, PanelSpec(start=D(2013, 1, 1), end=D(2013, 6, 30)))
    meta = json.loads(table.schema.metadata[b"entangle"])["counts"]
    assert (meta["sites_unmatched"], meta["sites_outside_lifetime"], meta["sites_used"]) == (2, 1, 1)
    df = table.to_pandas()
    gao = df[df.unit_id == _gid(*GAO)].set_index("period")
    # the site starts 2013-01-01 but its intervention only on 2013-03-01: clipped
    assert gao.present_peacekeeping_25km.tolist() == [0, 0, 1, 1, 1, 1]
    assert gao.troops_peacekeeping_25km.max() == 5


def test_undated_and_unlocated_events_are_counted(helpers):
    ev = helpers.events(
        [
            {"date_start": None, "lat": GAO[0], "lon": GAO[1], "fatalities_best": 5},
            {"date_start": D(2013, 2, 1), "lat": None, "lon": None, "fatalities_best": 6},
            {"date_start": D(2013, 2, 1), "lat": 48.85, "lon": 2.35, "fatalities_best": 7},  # Paris
            {"date_start": D(2013, 2, 1), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 8},
        ]
    )
    reg = helpers.registry()
    table = build_panel(ev, registry_sites(reg), reg, PanelSpec(start=D(2013, 1, 1), end=D(2013, 6, 30)))
    counts = json.loads(table.schema.metadata[b"entangle"])["counts"]
    assert (counts["dropped_undated"], counts["outside_units"], counts["events_assigned"]) == (1, 2, 1)
    assert table.column("fatalities").to_numpy().sum() == 8


def test_conservation_per_source_and_year(helpers):
    """Precise events: per source and year, the panel's fatalities equal the events' (by hand)."""
    rows = [
        {"source": "acled", "date_start": D(2012, 5, 1), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 3},
        {
            "source": "acled",
            "date_start": D(2013, 7, 1),
            "lat": MOPTI[0],
            "lon": MOPTI[1],
            "fatalities_best": 4,
        },
        {"source": "ucdp", "date_start": D(2012, 5, 2), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 10},
        {"source": "ucdp", "date_start": D(2013, 1, 9), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 20},
        {
            "source": "ucdp",
            "date_start": D(2013, 1, 9),
            "lat": GAO[0],
            "lon": GAO[1],
            "fatalities_best": 99,
            "geo_precision": 4,
        },  # imprecise: dropped
    ]
    ev = helpers.events(rows)
    reg = helpers.registry()
    expect = {"acled": {2012: 3, 2013: 4}, "ucdp": {2012: 10, 2013: 20}}
    for source, by_year in expect.items():
        spec = PanelSpec(start=D(2012, 1, 1), end=D(2013, 12, 31), sources=(source,))
        df = build_panel(ev, registry_sites(reg), reg, spec).to_pandas()
        got = df.groupby(df.period.map(lambda p: p.year)).fatalities.sum().to_dict()
        assert got == by_year
    both = build_panel(ev, registry_sites(reg), reg, PanelSpec(start=D(2012, 1, 1), end=D(2013, 12, 31)))
    assert both.column("fatalities").to_numpy().sum() == 37


def test_h3_panel_counts_and_spread(helpers, tmp_path):
    import geopandas as gpd
    import h3
    import shapely

    zone = shapely.box(-2.0, 15.0, -1.0, 16.0)
    path = tmp_path / "zone.geojson"
    gpd.GeoDataFrame({"zid": ["z"]}, geometry=[zone], crs="EPSG:4326").to_file(path)
    ev = helpers.events(
        [
            {"date_start": D(2013, 2, 1), "lat": GAO[0], "lon": GAO[1], "fatalities_best": 5},
            {
                "date_start": D(2013, 2, 1),
                "lat": 15.5,
                "lon": -1.5,
                "fatalities_best": 12,
                "geo_precision": 3,
            },
        ]
    )
    reg = helpers.registry()
    spec = PanelSpec(
        start=D(2013, 1, 1),
        end=D(2013, 3, 31),
        unit="h3:4",
        imprecision=ImprecisionRule(rule="spread"),
        spread_over=f"{path}:zid",
    )
    df = build_panel(ev, registry_sites(reg), reg, spec).to_pandas()
    feb = df[df.period == D(2013, 2, 1)].set_index("unit_id")
    assert feb.loc[h3.latlng_to_cell(GAO[0], GAO[1], 4), "fatalities"] == pytest.approx(5.0)
    assert feb.fatalities.sum() == pytest.approx(17.0)
    # the imprecise event is spread over the hexagons overlapping the zone, by overlap area
    shared = feb[feb.fatalities > 0].drop(index=h3.latlng_to_cell(GAO[0], GAO[1], 4))
    assert len(shared) > 3 and shared.fatalities.max() < 12
