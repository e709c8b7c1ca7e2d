"""Distance profiles: conservation against the panel on the shared study; known distances by hand."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from entangle.errors import InputError
from entangle.geo.assign import CATEGORIES, ImprecisionRule
from entangle.mechanisms.bands import band_index, check_edges, parse_edges
from entangle.mechanisms.profile import NO_SITE, distance_profile, site_changes
from entangle.panel.build import PanelSpec, build_panel, registry_sites
from entangle.registry import load_registry

KM_PER_DEG = 2 * np.pi * 6371.0088 / 360  # along the equator


def test_conservation_on_the_shared_study(shared_data, acled_store, acled_csv):
    from entangle.mechanisms.inputs import read_store

    registry = load_registry()
    inputs = read_store(acled_store, registry)
    spec = PanelSpec(
        start=dt.date(2012, 1, 1),
        end=dt.date(2020, 10, 31),
        unit=f"admin:{shared_data / 'gadm_mali' / 'gadm_MLI_adm2.geojson'}:GID_2",
        radii_km=(25.0, 50.0),
        imprecision=ImprecisionRule("drop", 2, 2, 31),
    )
    profile = distance_profile(inputs.events_table, inputs.sites, registry, spec, "peacekeeping")
    panel = build_panel(inputs.events_table, registry_sites(registry), registry, spec).to_pandas()
    panel["year"] = pd.to_datetime(panel["period"]).dt.year
    by_year = profile.groupby("year")
    got = by_year["civilian_fatalities"].sum()
    want = panel.groupby("year")["civilian_fatalities"].sum()
    assert got.to_dict() == pytest.approx(want.to_dict())
    for category in CATEGORIES:
        mine = (
            profile[profile["perpetrator_category"] == category].groupby("year")["civilian_fatalities"].sum()
        )
        assert mine.to_dict() == pytest.approx(
            panel.groupby("year")[f"civilian_fatalities_{category}"].sum().to_dict()
        )
    # events: civilian-targeting events (the panel's default definition: ACLED "Violence against
    # civilians") that the panel keeps (geo_precision <= 2), counted from the CSV
    vac = acled_csv["event_type"] == "Violence against civilians"
    kept = acled_csv[vac & (acled_csv["geo_precision"] <= 2)]
    kept = kept[(kept["event_date"] >= "2012-01-01") & (kept["event_date"] <= "2020-10-31")]
    count = kept.groupby(pd.to_datetime(kept["event_date"]).dt.year).size()
    # points in no GADM cercle are outside the panel's units (found here with shapely)
    import shapely
    from shapely.geometry import shape

    doc = json.loads((shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson").read_text())
    cercles = shapely.union_all([shape(f["geometry"]) for f in doc["features"]])
    inside = shapely.covers(cercles, shapely.points(kept["longitude"], kept["latitude"]))
    count = kept[inside].groupby(pd.to_datetime(kept[inside]["event_date"]).dt.year).size()
    assert (~inside).sum() == 1  # Korossogou (Mopti), 2019
    assert by_year["events"].sum().to_dict() == pytest.approx(count.to_dict())
    assert set(profile["band"]) == {"0-10 km", "10-25 km", "25-50 km", "50-100 km", "> 100 km", NO_SITE}
    # before MINUSMA (2012) there is no active peacekeeping site: everything is in "no active site"
    y2012 = profile[profile["year"] == 2012]
    assert y2012[y2012["band"] != NO_SITE]["civilian_fatalities"].sum() == 0


def _events(rows: list[tuple[str, float, int, bool, str]]) -> pa.Table:
    """Hand-made events on the equator: (date, longitude, civilian deaths, targets civilians, category)."""
    n = len(rows)
    return pa.table(
        {
            "event_id": [f"t:{k}" for k in range(n)],
            "source": ["csv:test"] * n,
            "date_start": pa.array([dt.date.fromisoformat(r[0]) for r in rows], pa.date32()),
            "date_end": pa.array([dt.date.fromisoformat(r[0]) for r in rows], pa.date32()),
            "lat": [0.0] * n,
            "lon": [r[1] for r in rows],
            "geo_precision": pa.array([1] * n, pa.int16()),
            "violence_type": ["one_sided"] * n,
            "perpetrator_category": [r[4] for r in rows],
            "target_peacekeepers": [False] * n,
            "target_civilians": [r[3] for r in rows],
            "fatalities_best": pa.array([r[2] for r in rows], pa.int32()),
            "civilian_fatalities": pa.array([r[2] for r in rows], pa.int32()),
        }
    )


@pytest.fixture
def square(tmp_path):
    """One admin polygon around the equator, 2°W to 4°E, 1°S to 1°N."""
    ring = [[-2, -1], [4, -1], [4, 1], [-2, 1], [-2, -1]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "sq"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path = tmp_path / "square.geojson"
    path.write_text(json.dumps(doc))
    return path


def _sites(rows):
    return pd.DataFrame(
        rows, columns=["site_id", "name", "intervention_id", "kind", "lat", "lon", "start", "end", "source"]
    ).assign(start=lambda f: pd.to_datetime(f["start"]), end=lambda f: pd.to_datetime(f["end"]))


def test_known_distances_by_hand(square):
    registry = load_registry()
    site = [("s", "Camp", "minusma", "peacekeeping", 0.0, 0.0, "2015-03-01", None, "test")]
    km = [5, 10, 15, 30, 75, 150]
    rows = [("2015-05-10", d / KM_PER_DEG, k + 1, True, "jihadist") for k, d in enumerate(km)]
    rows += [("2015-01-20", 0.0, 7, True, "militia")]  # before the camp opens
    rows += [("2015-05-11", 0.01, 0, False, "jihadist")]  # not civilian harm: no event, no death
    spec = PanelSpec(dt.date(2015, 1, 1), dt.date(2015, 12, 31), unit=f"admin:{square}:id", period="month")
    profile = distance_profile(_events(rows), _sites(site), registry, spec, "minusma")
    bands = profile.groupby("band")[["events", "civilian_fatalities"]].sum()
    # 5 and 10 km -> 0-10 (an edge belongs to the nearer band); 15 -> 10-25; 30; 75; 150
    assert bands.loc["0-10 km"].tolist() == [2, 1 + 2]
    assert bands.loc["10-25 km"].tolist() == [1, 3]
    assert bands.loc["25-50 km"].tolist() == [1, 4]
    assert bands.loc["50-100 km"].tolist() == [1, 5]
    assert bands.loc["> 100 km"].tolist() == [1, 6]
    assert bands.loc[NO_SITE].tolist() == [1, 7]
    militia = profile[profile["perpetrator_category"] == "militia"]
    assert militia["civilian_fatalities"].sum() == 7
    # other bands
    wider = distance_profile(_events(rows), _sites(site), registry, spec, "minusma", [0, 20, 100])
    assert wider.groupby("band")["civilian_fatalities"].sum().loc[
        ["0-20 km", "20-100 km", "> 100 km"]
    ].tolist() == [6, 9, 6]


def test_displacement_around_an_opening(square):
    """Harm moves from 0-10 km to 25-50 km when the camp opens: the before/after profile shows it."""
    registry = load_registry()
    site = [("s", "Camp", "minusma", "peacekeeping", 0.0, 0.0, "2015-07-01", None, "test")]
    near, far = 5 / KM_PER_DEG, 40 / KM_PER_DEG
    rows = [(f"2015-{m:02d}-15", near, 2, True, "jihadist") for m in range(1, 7)]
    rows += [(f"2015-{m:02d}-15", far, 2, True, "jihadist") for m in range(7, 13)]
    spec = PanelSpec(dt.date(2015, 1, 1), dt.date(2015, 12, 31), unit=f"admin:{square}:id", period="month")
    changes = site_changes(_events(rows), _sites(site), registry, spec, "minusma", window_months=6)
    table = changes.set_index(["side", "band"])["civilian_fatalities_per_month"]
    assert table[("before", "0-10 km")] == 2 and table[("after", "0-10 km")] == 0
    assert table[("before", "25-50 km")] == 0 and table[("after", "25-50 km")] == 2


def test_bad_bands_and_unknown_targets():
    assert check_edges([0, 10, 25]) == [0.0, 10.0, 25.0]
    for bad in ([0, 10, 10], [0, 25, 10], [5, 10], []):
        with pytest.raises(ValueError):
            check_edges(bad)
    with pytest.raises(InputError):
        parse_edges("0,ten")
    assert band_index(np.array([0, 10, 10.01, 100, 101, np.nan]), [0, 10, 25, 50, 100]).tolist() == [
        0,
        0,
        1,
        3,
        4,
        -1,
    ]
    from entangle.mechanisms.profile import select_sites

    with pytest.raises(InputError, match="neither an intervention"):
        select_sites(_sites([]), "blue_helmets", load_registry())


def test_excluded_site_types_leave_the_profile(square):
    from entangle.mechanisms.inputs import site_frame

    registry = load_registry()
    every = site_frame(registry)
    no_hq = site_frame(registry, None, ("hq",))
    hq = {s.id for s in registry.sites if s.site_type == "hq"}
    assert hq and "minusma_bamako" in hq
    assert set(every["site_id"]) - set(no_hq["site_id"]) == hq & set(every["site_id"])
    # a camp and an HQ: without the HQ, the event 5 km from it is measured from the camp (150 km)
    sites = _sites(
        [
            ("hq", "HQ", "minusma", "peacekeeping", 0.0, 0.0, "2015-01-01", None, "test"),
            ("camp", "Camp", "minusma", "peacekeeping", 0.0, 155 / KM_PER_DEG, "2015-01-01", None, "test"),
        ]
    ).assign(site_type=["hq", "camp"])
    rows = [("2015-05-10", 5 / KM_PER_DEG, 3, True, "jihadist")]
    spec = PanelSpec(dt.date(2015, 1, 1), dt.date(2015, 12, 31), unit=f"admin:{square}:id", period="month")
    kept = distance_profile(_events(rows), sites, registry, spec, "minusma")
    dropped = distance_profile(_events(rows), sites[sites["site_type"] != "hq"], registry, spec, "minusma")
    assert kept.groupby("band")["civilian_fatalities"].sum()["0-10 km"] == 3
    assert dropped.groupby("band")["civilian_fatalities"].sum()["> 100 km"] == 3
