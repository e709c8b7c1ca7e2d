"""Site types: from the registry and Geo-PKO's HQ column, and ``exclude_site_types`` in the panel."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from entangle.errors import PanelError
from entangle.geo.units import priogrid_gid
from entangle.panel import PanelSpec, build_panel
from entangle.panel.io import stack_sites
from entangle.registry import load_registry
from entangle.registry.schema import Site

D = dt.date
BAMAKO, GAO = (12.65, -8.0), (16.27, -0.04)


def _gid(lat, lon):
    return int(priogrid_gid(np.array([lat]), np.array([lon]))[0])


def test_registry_sites_default_to_camp_and_mali_headquarters_are_hq():
    site = Site(
        id="x",
        intervention_id="y",
        name="x",
        lat=0,
        lon=0,
        start=D(2013, 1, 1),
        sources=[{"ref": "hand-made"}],
    )
    assert site.site_type == "camp"
    types = {s.id: s.site_type for s in load_registry().sites}
    assert types["minusma_bamako"] == "hq" and types["g5s_jf_sevare_hq"] == "hq"
    assert types["minusma_gao"] == "camp"
    assert types["minusma_ogossagou"] == "temporary_base"
    assert types["eutm_mali_koulikoro"] == "training"
    # every registry site whose name says "headquarters" is coded hq, and only those
    said = {s.id for s in load_registry().sites if "headquarters" in s.name}
    assert said == {k for k, v in types.items() if v == "hq"}


def _sites(types):
    n = len(types)
    return pa.table(
        {
            "intervention_id": ["un"] * n,
            "lat": [BAMAKO[0], GAO[0]][:n],
            "lon": [BAMAKO[1], GAO[1]][:n],
            "start": pa.array([D(2013, 1, 1)] * n, pa.date32()),
            "end": pa.array([None] * n, pa.date32()),
            "troops": [100, 200][:n],
            "site_type": types,
        }
    )


def test_exclude_site_types_leaves_headquarters_out(helpers):
    reg = helpers.registry(interventions=[helpers.intervention("un", "peacekeeping")])
    sites = _sites(["hq", "camp"])
    spec = PanelSpec(start=D(2013, 1, 1), end=D(2013, 2, 28), exclude_site_types=("hq",))
    table = build_panel(helpers.events([]), sites, reg, spec)
    meta = json.loads(table.schema.metadata[b"entangle"])
    assert meta["counts"]["sites_excluded_type"] == 1 and meta["counts"]["sites_used"] == 1
    assert meta["exclude_site_types"] == ["hq"]
    df = table.to_pandas()
    at = df.groupby("unit_id").present_peacekeeping_50km.max()
    assert at[_gid(*BAMAKO)] == 0 and at[_gid(*GAO)] == 1
    everything = build_panel(
        helpers.events([]), sites, reg, PanelSpec(start=D(2013, 1, 1), end=D(2013, 2, 28))
    )
    assert everything.to_pandas().groupby("unit_id").present_peacekeeping_50km.max()[_gid(*BAMAKO)] == 1


def test_unknown_site_type_is_refused():
    with pytest.raises(PanelError, match="unknown site type 'headquarters'"):
        PanelSpec(start=D(2013, 1, 1), end=D(2013, 2, 28), exclude_site_types=("headquarters",)).validate()


def test_stack_sites_keeps_site_type_and_fills_null_when_absent():
    typed = _sites(["hq", "camp"])
    plain = typed.drop(["site_type"])
    stacked = stack_sites(typed, plain)
    assert stacked.column("site_type").to_pylist() == ["hq", "camp", None, None]
    assert stacked.column("period").null_count == 4


@pytest.mark.shared
def test_geopko_mission_headquarters_are_hq(shared_data):
    from entangle.sources.geopko import read_geopko

    path = shared_data / "geopko" / "geopko_v1_2020_ccode.csv"
    frame = pd.read_csv(path, encoding_errors="replace", low_memory=False)
    minusma = frame[frame.Mission == "MINUSMA"]
    expected = minusma[minusma.HQ == 3].location.value_counts().to_dict()
    table = read_geopko(path).table.to_pandas()
    got = table[(table.mission == "MINUSMA") & (table.site_type == "hq")].name.value_counts().to_dict()
    assert got == expected == {"Bamako": 23}
    # sector headquarters (codes 1, 2: Gao, Timbuktu, Kidal ...) stay camps
    assert set(table[table.mission == "MINUSMA"].site_type) == {"hq", "camp"}
    assert len(table[table.site_type == "hq"]) == int((frame.HQ == 3).sum())

    front = shared_data / "geopko" / "FrontMap_v.2.3.csv"
    yearly = pd.read_csv(front, encoding_errors="replace", low_memory=False)
    by_year = yearly.groupby(["mission", "year", "location", "latitude", "longitude"]).hq.max()
    loaded = read_geopko(front).table.to_pandas()
    assert (loaded.site_type == "hq").sum() == int((by_year == 3).sum())
