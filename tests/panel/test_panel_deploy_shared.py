"""Deployment rules, co-presence across the complex and civilian-harm definitions on the real files.

Each expected figure is computed here a second way from the raw files (pandas on the Geo-PKO and
ACLED CSVs, numpy great-circle distances, geopandas joins on the GADM cercles), not with entangle's
own functions. entangle's readers only prepare the panel's inputs.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest

from entangle.panel import PanelSpec, build_panel, registry_sites
from entangle.panel.deployments import DeploymentRule
from entangle.panel.io import stack_sites
from entangle.registry import load_registry

pytestmark = pytest.mark.shared
R = 6371.0088
FIRST, LAST = dt.date(2014, 1, 1), dt.date(2018, 12, 31)
MONTHS = pd.period_range("2014-01", "2018-12", freq="M")
RULES = ("carry_forward", "map_month", "interpolate")


def _km(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(a))


@functools.cache
def _registry():
    return load_registry()


@functools.cache
def _geopko_sites(path):
    from entangle.sources.geopko import read_geopko

    return read_geopko(path, _registry()).table


@functools.cache
def _minusma_maps(path) -> pd.DataFrame:
    raw = pd.read_csv(path, encoding_errors="replace", low_memory=False)
    m = raw[raw.Mission == "MINUSMA"].copy()
    assert m.latitude.notna().all() and m.longitude.notna().all()
    m["month"] = m.year.astype(int) * 12 + m.month.astype(int) - 1
    m["troops"] = pd.to_numeric(m["No.troops"], errors="coerce")
    return m[["month", "location", "latitude", "longitude", "troops"]]


def _in_force(maps: pd.DataFrame, rule: str, month: int, gap: int = 12) -> pd.DataFrame:
    """The MINUSMA locations and troops that hold in ``month`` under ``rule``, written out plainly."""
    dates = sorted(maps.month.unique())
    if rule == "map_month":
        return maps[maps.month == month]
    earlier = [d for d in dates if d <= month and month - d < gap]
    if not earlier:
        return maps.iloc[:0]
    a = earlier[-1]
    rows = maps[maps.month == a].copy()
    later = [d for d in dates if d > a]
    if rule == "interpolate" and later and later[0] - a <= gap:
        b = later[0]
        nxt = maps[maps.month == b].set_index(["location", "latitude", "longitude"]).troops
        for k, row in rows.iterrows():
            key = (row.location, row.latitude, row.longitude)
            if key in nxt.index and np.isfinite(row.troops) and np.isfinite(nxt[key]):
                rows.loc[k, "troops"] = row.troops + (nxt[key] - row.troops) * (month - a) / (b - a)
    return rows


def _expected(maps, rule, unit_of_rows) -> pd.Series:
    """Expected troops per (unit, month): sum over the rows in range, NaN if one is unknown."""
    out = {}
    for period in MONTHS:
        month = period.year * 12 + period.month - 1
        rows = _in_force(maps, rule, month)
        for unit, members in unit_of_rows(rows).items():
            figures = rows.troops.to_numpy()[members]
            value = np.nan if np.isnan(figures).any() else float(figures.sum())
            out[(unit, period.to_timestamp().date())] = value
    return pd.Series(out, dtype=float)


@functools.cache
def _acled_events(path):
    """The extract as the store would hold it: read, then actors mapped (entangle prepares inputs)."""
    from entangle.sources.acled import read_acled
    from entangle.sources.actors import load_actor_rules, map_actors, peacekeeping_ids

    reg = _registry()
    return map_actors(read_acled(path).table, "acled", load_actor_rules(registry=reg), peacekeeping_ids(reg))


def _no_events():
    import pyarrow as pa

    return pa.table(
        {
            "event_id": pa.array([], pa.string()),
            "source": pa.array([], pa.string()),
            "date_start": pa.array([], pa.date32()),
            "date_end": pa.array([], pa.date32()),
            "lat": pa.array([], pa.float64()),
            "lon": pa.array([], pa.float64()),
            "geo_precision": pa.array([], pa.int16()),
            "violence_type": pa.array([], pa.string()),
            "perpetrator_category": pa.array([], pa.string()),
            "target_peacekeepers": pa.array([], pa.bool_()),
            "fatalities_best": pa.array([], pa.int32()),
            "civilian_fatalities": pa.array([], pa.int32()),
        }
    )


def _compare(panel: pd.DataFrame, column: str, expected: pd.Series) -> None:
    got = panel.set_index(["unit_id", "period"])[column]
    got = got[(got.index.get_level_values(1) >= FIRST) & (got.index.get_level_values(1) <= LAST)]
    full = pd.Series(0.0, index=got.index)
    full.loc[expected.index] = expected
    both_nan = got.isna() & full.isna()
    close = np.isclose(got.fillna(-1), full.fillna(-2), atol=1e-6)
    bad = ~(both_nan | close)
    assert not bad.any(), got[bad].head().to_dict() | {"expected": full[bad].head().to_dict()}


@pytest.mark.parametrize("rule", RULES)
def test_minusma_troops_per_cell_under_each_rule(shared_data, rule):
    """PRIO-GRID cells within 50 km of MINUSMA locations, 2014-2018 (Geo-PKO v1 only, no registry)."""
    path = shared_data / "geopko" / "geopko_v1_2020_ccode.csv"
    maps = _minusma_maps(path)
    spec = PanelSpec(start=FIRST, end=LAST, radii_km=(50.0,), deployments=DeploymentRule(rule))
    sites = stack_sites(_geopko_sites(path))
    panel = build_panel(_no_events(), sites, _registry(), spec).to_pandas()
    gids = np.array(sorted(panel.unit_id.unique()))
    row, col = np.divmod(gids - 1, 720)
    clat, clon = -90 + 0.5 * row + 0.25, -180 + 0.5 * col + 0.25

    def cells(rows):
        if rows.empty:
            return {}
        d = _km(clat[:, None], clon[:, None], rows.latitude.to_numpy()[None], rows.longitude.to_numpy()[None])
        return {int(g): np.flatnonzero(d[i] <= 50) for i, g in enumerate(gids) if (d[i] <= 50).any()}

    expected = _expected(maps, rule, cells)
    _compare(panel, "troops_peacekeeping_50km", expected)
    # the complaint: under map_month the Gao cell's troops vanish between maps
    gao = int(((16.27 + 90) // 0.5) * 720 + ((-0.04 + 180) // 0.5) + 1)
    series = panel[panel.unit_id == gao].set_index("period").troops_peacekeeping_50km
    may_to_sep = [series[dt.date(2014, m, 1)] for m in (5, 6, 7, 8)]
    if rule == "map_month":
        assert may_to_sep[0] > 0 and all(v == 0 for v in may_to_sep[1:])
    else:
        assert all(v > 0 for v in may_to_sep)


@pytest.mark.parametrize("rule", RULES)
def test_minusma_troops_per_cercle_under_each_rule_and_events_conserved(shared_data, rule):
    """Troops of the MINUSMA locations inside each cercle (radius 1 m: inside the polygon), 2014-2018,
    with the ACLED events: totals are conserved whatever the rule."""
    import geopandas as gpd

    from entangle.geo.assign import ImprecisionRule

    path = shared_data / "geopko" / "geopko_v1_2020_ccode.csv"
    cercles_path = shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson"
    acled_path = shared_data / "acled_mali_extract" / "Processed_Acled_Mali.csv"
    cercles = gpd.read_file(cercles_path)[["GID_2", "geometry"]]
    maps = _minusma_maps(path)
    spec = PanelSpec(
        start=FIRST,
        end=LAST,
        unit=f"admin:{cercles_path}:GID_2",
        radii_km=(0.001,),
        deployments=DeploymentRule(rule),
        imprecision=ImprecisionRule(rule="point"),
    )
    events = _acled_events(acled_path)
    panel = build_panel(events, stack_sites(_geopko_sites(path)), _registry(), spec).to_pandas()

    def in_cercle(rows):
        if rows.empty:
            return {}
        points = gpd.GeoDataFrame(
            {"k": np.arange(len(rows))},
            geometry=gpd.points_from_xy(rows.longitude, rows.latitude),
            crs="EPSG:4326",
        )
        joined = gpd.sjoin(points, cercles, predicate="within")
        return {gid: group.k.to_numpy() for gid, group in joined.groupby("GID_2")}

    _compare(panel, "troops_peacekeeping_0p001km", _expected(maps, rule, in_cercle))
    # conservation: the panel's events and fatalities equal the file's events located in a cercle
    raw = pd.read_csv(acled_path)
    raw = raw[(raw.event_date >= FIRST.isoformat()) & (raw.event_date <= LAST.isoformat())]
    points = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw.longitude, raw.latitude), crs="EPSG:4326")
    located = gpd.sjoin(points, cercles, predicate="within")
    located = located[~located.index.duplicated()]
    assert panel.events.sum() == len(located)
    assert panel.fatalities.sum() == located.fatalities.sum()


def _active_registry_sites(kind: str, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Registry sites of ``kind`` active in [first, last], clipped to their intervention's lifetime."""
    reg = _registry()
    life = {i.id: (i.start, i.end, i.kind) for i in reg.interventions}
    rows = []
    for s in reg.sites:
        start_i, end_i, k = life[s.intervention_id]
        start = max(s.start, start_i)
        ends = [e for e in (s.end, end_i) if e is not None]
        end = min(ends) if ends else None
        if k == kind and start <= last and (end is None or end >= first):
            rows.append((s.lat, s.lon))
    return pd.DataFrame(rows, columns=["lat", "lon"])


def test_peacekeeping_private_military_copresence_2022(shared_data):
    """Unit-months of PK x private-military co-presence within 50 km in 2022 (registry sites)."""
    spec = PanelSpec(
        start=dt.date(2022, 1, 1),
        end=dt.date(2022, 12, 31),
        extent=("MLI",),
        pairs=(("peacekeeping", "private_military"),),
    )
    reg = _registry()
    panel = build_panel(_no_events(), registry_sites(reg), reg, spec).to_pandas()
    gids = np.array(sorted(panel.unit_id.unique()))
    row, col = np.divmod(gids - 1, 720)
    clat, clon = -90 + 0.5 * row + 0.25, -180 + 0.5 * col + 0.25
    expected = 0
    for month in pd.period_range("2022-01", "2022-12", freq="M"):
        first, last = month.start_time.date(), month.end_time.date()
        near = {}
        for kind in ("peacekeeping", "private_military"):
            s = _active_registry_sites(kind, first, last)
            d = _km(clat[:, None], clon[:, None], s.lat.to_numpy()[None], s.lon.to_numpy()[None])
            near[kind] = (d <= 50).any(axis=1)
        expected += int((near["peacekeeping"] & near["private_military"]).sum())
    got = int(panel.copresence_peacekeeping__private_military_50km.sum())
    assert got == expected
    assert expected > int(panel.copresence_50km.sum())  # PK x CT sees much less of 2022
    print(f"PK x private military, 2022: {got} unit-months; PK x CT: {int(panel.copresence_50km.sum())}")


@pytest.mark.parametrize(
    "rule, vac_only",
    [("targeting", True), ("any_civilian_victim", False)],
)
def test_civilian_fatalities_under_both_definitions(shared_data, rule, vac_only):
    """Every event located (rule point), the whole extract 1997-2020, in the GADM cercles."""
    import geopandas as gpd

    from entangle.geo.assign import ImprecisionRule

    cercles_path = shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson"
    acled_path = shared_data / "acled_mali_extract" / "Processed_Acled_Mali.csv"
    spec = PanelSpec(
        start=dt.date(1997, 1, 1),
        end=dt.date(2020, 12, 31),
        period="year",
        unit=f"admin:{cercles_path}:GID_2",
        imprecision=ImprecisionRule(rule="point"),
        civilian=rule,
    )
    reg = _registry()
    panel = build_panel(_acled_events(acled_path), registry_sites(reg), reg, spec).to_pandas()
    raw = pd.read_csv(acled_path)
    vac = raw.event_type.eq("Violence against civilians")
    harm = (
        vac
        if vac_only
        else vac | (raw.inter2.eq(7) & raw.event_type.isin(["Explosions/Remote violence", "Riots"]))
    )
    points = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw.longitude, raw.latitude), crs="EPSG:4326")
    located = gpd.sjoin(points, gpd.read_file(cercles_path)[["GID_2", "geometry"]], predicate="within")
    located = located[~located.index.duplicated()]
    expected = int(located.fatalities[harm.loc[located.index]].sum())
    assert int(panel.civilian_fatalities.sum()) == expected
    assert int(panel.civilian_events.sum()) == int(harm.loc[located.index].sum())
    categories = [c for c in panel.columns if c.startswith("civilian_events_")]
    assert np.isclose(panel[categories].sum(axis=1), panel.civilian_events).all()
    print(f"civilian fatalities ({rule}), every event located: {expected}")
