"""Mali panels on the real ACLED extract and GADM cercles (read in place from ../shared/data).

The events file is read with pandas and mapped to the canonical columns here, so the checks compare
the panel with the file itself: per year, the panel's fatality totals equal the file's for the events
the rule keeps, and each event lands where an independent assignment (grid arithmetic in pandas,
geopandas ``sjoin``) puts it.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from entangle.geo.assign import ImprecisionRule
from entangle.panel import PanelSpec, build_panel, registry_sites
from entangle.registry import load_registry

pytestmark = pytest.mark.shared
START, END = dt.date(2012, 1, 1), dt.date(2020, 10, 31)


@functools.cache
def _read_acled(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    frame["date"] = pd.to_datetime(frame["event_date"]).dt.date
    return frame


@pytest.fixture
def acled_frame(shared_data) -> pd.DataFrame:
    return _read_acled(shared_data / "acled_mali_extract" / "Processed_Acled_Mali.csv").copy()


def _events(frame: pd.DataFrame) -> pa.Table:
    civilians = frame.event_type.eq("Violence against civilians")
    return pa.table(
        {
            "event_id": ("acled:" + frame.data_id.astype(str)).tolist(),
            "source": ["acled"] * len(frame),
            "date_start": pa.array(frame.date.tolist(), pa.date32()),
            "date_end": pa.array(frame.date.tolist(), pa.date32()),
            "lat": frame.latitude.astype(float).tolist(),
            "lon": frame.longitude.astype(float).tolist(),
            "geo_precision": pa.array(frame.geo_precision.tolist(), pa.int16()),
            "violence_type": frame.event_type.tolist(),
            "perpetrator_category": ["unknown"] * len(frame),
            "target_peacekeepers": frame.actor2.fillna("").str.startswith("MINUSMA").tolist(),
            "fatalities_best": pa.array(frame.fatalities.tolist(), pa.int32()),
            "civilian_fatalities": pa.array(frame.fatalities.where(civilians, 0).tolist(), pa.int32()),
        }
    )


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _window(frame):
    return frame[(frame.date >= START) & (frame.date <= END)]


def test_priogrid_month_panel_matches_events_file(shared_data, acled_frame, registry):
    for rule, kept in (("drop", lambda f: f.geo_precision <= 2), ("point", lambda f: f.geo_precision > 0)):
        spec = PanelSpec(start=START, end=END, imprecision=ImprecisionRule(rule=rule))
        panel = build_panel(_events(acled_frame), registry_sites(registry), registry, spec).to_pandas()
        assert len(panel) == panel.unit_id.nunique() * 106  # Jan 2012 .. Oct 2020, zeros included
        frame = _window(acled_frame)
        frame = frame[kept(frame)]
        # independent assignment: PRIO-GRID arithmetic in pandas
        gid = (
            ((frame.latitude + 90) // 0.5).astype(int) * 720
            + ((frame.longitude + 180) // 0.5).astype(int)
            + 1
        )
        inside = gid.isin(set(panel.unit_id))
        assert inside.mean() > 0.99  # the coarse Natural Earth outline loses only border points
        by_year = panel.groupby(panel.period.map(lambda p: p.year))[["fatalities", "events"]].sum()
        expect = frame[inside].groupby(frame.date.map(lambda d: d.year))["fatalities"].agg(["sum", "size"])
        assert by_year.fatalities.tolist() == expect["sum"].tolist()
        assert by_year.events.tolist() == expect["size"].tolist()
        # per cell-month too
        merged = (
            frame[inside]
            .assign(unit_id=gid[inside], period=frame.date.map(lambda d: d.replace(day=1)))
            .groupby(["unit_id", "period"])
            .fatalities.sum()
        )
        got = panel.set_index(["unit_id", "period"]).fatalities
        assert (got.loc[merged.index] == merged).all()
        assert got.sum() == merged.sum()


def test_admin2_month_panel_matches_events_file(shared_data, acled_frame, registry):
    import geopandas as gpd

    path = shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson"
    spec = PanelSpec(start=START, end=END, unit=f"admin:{path}:GID_2")
    panel = build_panel(_events(acled_frame), registry_sites(registry), registry, spec).to_pandas()
    assert panel.unit_id.nunique() == 50 and len(panel) == 50 * 106
    frame = _window(acled_frame)
    frame = frame[frame.geo_precision <= 2]
    cercles = gpd.read_file(path)
    points = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame.longitude, frame.latitude), crs="EPSG:4326"
    )
    joined = gpd.sjoin(points, cercles[["GID_2", "NAME_2", "geometry"]], predicate="within", how="inner")
    joined = joined[~joined.index.duplicated()]
    expect = joined.groupby([joined.GID_2, joined.date.map(lambda d: d.year)]).fatalities.sum()
    got = panel.groupby([panel.unit_id, panel.period.map(lambda p: p.year)]).fatalities.sum()
    assert (got.loc[expect.index] == expect).all() and got.sum() == expect.sum()
    # the Ogossagou massacre (2019-03-23, 164 killed) is in Bankass cercle, March 2019
    bankass = cercles.loc[cercles.NAME_2 == "Bankass", "GID_2"].item()
    row = panel[(panel.unit_id == bankass) & (panel.period == dt.date(2019, 3, 1))].iloc[0]
    assert row.fatalities >= 164 and row.civilian_fatalities >= 164
    assert row.events_violence_against_civilians >= 1
    # MINUSMA has a base in Mopti/Sevare: the Mopti cercle is exposed to peacekeeping within 50 km by 2019
    mopti = cercles.loc[cercles.NAME_2 == "Mopti", "GID_2"].item()
    mrow = panel[(panel.unit_id == mopti) & (panel.period == dt.date(2019, 6, 1))].iloc[0]
    assert mrow.dist_km_peacekeeping < 50 and np.isfinite(mrow.splag_fatalities)
