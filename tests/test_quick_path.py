"""The quickest path from files to a panel (`entangle panel --events ... --deployments ...`, one process).

Compared with the store path (ingest, ingest, panel) and with geopandas/pandas on the raw files.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

from entangle.errors import InputError
from entangle.quick import _Checksum
from entangle.registry import load_registry
from entangle.sources.geopko import read_geopko

WINDOW = ("--from", "2012-01-01", "--to", "2020-10-31")


@pytest.fixture(scope="module")
def files(shared_data):
    return {
        "acled": shared_data / "acled_mali_extract" / "Processed_Acled_Mali.csv",
        "geopko": shared_data / "geopko" / "geopko_v1_2020_ccode.csv",
        "adm2": shared_data / "gadm_mali" / "gadm_MLI_adm2.geojson",
    }


def _quick(cli, files, out, *extra):
    return cli(
        "panel",
        "--events",
        f"acled:{files['acled']}",
        "--deployments",
        f"geopko:{files['geopko']}",
        "--unit",
        f"admin:{files['adm2']}:GID_2",
        *WINDOW,
        "--extent",
        "MLI",
        "--out",
        out,
        *extra,
    )


def test_quick_path_equals_ingest_then_panel(cli, files, tmp_path):
    store = tmp_path / "store.duckdb"
    assert cli("ingest", "acled", files["acled"], "--store", store)[0] == 0
    assert cli("ingest", "geopko", files["geopko"], "--store", store)[0] == 0
    slow = tmp_path / "slow.parquet"
    code, _, err = cli(
        "panel", "--store", store, "--unit", f"admin:{files['adm2']}:GID_2", *WINDOW, "--extent", "MLI",
        "--out", slow,
    )  # fmt: skip
    assert code == 0, err
    fast = tmp_path / "fast.parquet"
    code, out, err = _quick(cli, files, fast)
    assert code == 0, err
    assert json.loads(out)["rows"] == 5300
    pd.testing.assert_frame_equal(pq.read_table(fast).to_pandas(), pq.read_table(slow).to_pandas())
    meta = json.loads(pq.read_table(fast).schema.metadata[b"entangle"])
    assert [s["sha256"][:12] for s in meta["sources"]] == ["a74d63bddc2c", "288d2d96469d"]


def test_events_and_fatalities_match_a_geopandas_join(cli, files, tmp_path):
    # With every event at its point (--imprecision point), the panel's counts are a spatial join of
    # the raw ACLED rows to the cercles and a monthly groupby, as an analyst would write it.
    out = tmp_path / "panel.parquet"
    assert _quick(cli, files, out, "--imprecision", "point")[0] == 0
    panel = pq.read_table(out).to_pandas()
    raw = pd.read_csv(files["acled"], low_memory=False)
    raw["period"] = pd.to_datetime(raw["event_date"]).dt.to_period("M").dt.to_timestamp()
    raw = raw[(raw["period"] >= "2012-01-01") & (raw["period"] <= "2020-10-01")]
    points = gpd.GeoDataFrame(raw, geometry=gpd.points_from_xy(raw.longitude, raw.latitude), crs=4326)
    cercles = gpd.read_file(files["adm2"])[["GID_2", "geometry"]]
    joined = gpd.sjoin(points, cercles, predicate="intersects").drop_duplicates("event_id_cnty")
    expected = joined.groupby(["GID_2", "period"]).agg(
        events=("event_id_cnty", "size"), fat=("fatalities", "sum")
    )
    got = panel.assign(period=pd.to_datetime(panel["period"])).set_index(["unit_id", "period"])
    got = got[["events", "fatalities"]]
    expected = expected.reindex(got.index, fill_value=0)
    assert (got["events"].to_numpy() == expected["events"].to_numpy()).all()
    assert (got["fatalities"].to_numpy() == expected["fat"].to_numpy()).all()
    assert got["events"].sum() == 4170


def test_geopko_read_for_the_theatre_keeps_every_row_of_the_registry_missions(files):
    registry = load_registry()
    full = read_geopko(files["geopko"], registry)
    theatre = read_geopko(files["geopko"], registry, theatre=["MLI"])
    raw = pd.read_csv(files["geopko"], encoding_errors="replace", low_memory=False)
    in_mali = raw["alpha_3"].eq("MLI") | raw["Mission"].eq("MINUSMA")
    assert theatre.rows_in == theatre.rows_loaded == int(in_mali.sum()) == 318
    assert any("11872 rows" in n and "skipped" in n for n in theatre.notes)
    matched = full.table.filter(full.table["intervention_id"].is_valid())
    cols = [c for c in matched.column_names if c not in ("site_id",)]
    assert matched.select(cols).to_pylist() == theatre.table.select(cols).to_pylist()


def test_store_option_loads_the_files_too(cli, files, tmp_path):
    store = tmp_path / "store.duckdb"
    assert _quick(cli, files, tmp_path / "p.parquet", "--store", store)[0] == 0
    assert cli("store", "info", "--store", store, "--format", "json")[0] == 0
    out = cli("store", "info", "--store", store, "--format", "json")[1]
    info = json.loads(out)
    assert info["tables"]["events"] == 4318 and info["tables"]["sites"] == 318
    # loading the same files again through the quick path writes nothing twice
    assert _quick(cli, files, tmp_path / "q.parquet", "--store", store)[0] == 0
    assert (
        json.loads(cli("store", "info", "--store", store, "--format", "json")[1])["tables"] == info["tables"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--deployments", "geopko:x.csv"), "only with --events"),
        (("--events", "events.csv"), "is not SOURCE:FILE"),
        (("--events", "geopko:x.csv"), "is not SOURCE:FILE"),
    ],
)
def test_bad_inputs_are_one_line_errors(cli, tmp_path, args, message):
    code, _, err = cli("panel", *args, "--out", tmp_path / "p.parquet")
    assert code == 2
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_file_changed_while_read_is_refused(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(b"a,b\n1,2\n")
    checksum = _Checksum(path)
    path.write_bytes(b"a,b\n1,2\n3,4\n")
    with pytest.raises(InputError, match="changed while it was read"):
        checksum.result()
