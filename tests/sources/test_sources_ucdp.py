"""UCDP GED loader on hand-written files in the real layouts: GED 22.1 CSV, an older 19.1-style
CSV (no dset ids, zipped) and an API JSON page. Expected values are read off the fixture rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from entangle.registry import load_registry
from entangle.sources.actors import load_actor_rules, map_actors, peacekeeping_ids
from entangle.sources.ucdp import read_ucdp

FIXTURES = Path(__file__).parent / "fixtures"
GED = FIXTURES / "ucdp_ged_v22_1.csv"
# Columns GED added after 19.1 (the 19.1 file identifies sides only by *_new_id).
LATER_COLUMNS = {
    "relid",
    "code_status",
    "conflict_dset_id",
    "dyad_dset_id",
    "side_a_dset_id",
    "side_b_dset_id",
}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _rows(result, registry) -> dict[str, dict]:
    table = map_actors(result.table, "ucdp", load_actor_rules(registry=registry), peacekeeping_ids(registry))
    return {r["source_id"]: r for r in table.to_pylist()}


def test_ged_csv_values(registry):
    result = read_ucdp(GED)
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (6, 6, 0)
    assert result.source_version == "GED 22.1"
    rows = _rows(result, registry)
    one = rows["900001"]
    assert one["event_id"] == "ucdp:900001"
    assert (one["fatalities_best"], one["fatalities_low"], one["fatalities_high"]) == (7, 7, 9)
    assert (one["event_type"], one["violence_type"]) == ("State-based conflict", "state_based")
    assert (one["actor1_id"], one["actor2_id"]) == ("72", "6716")  # side_*_new_id
    assert one["admin1"] == "Mopti region"
    assert one["country_iso3"] == "MLI"
    # date range and precision codes kept as coded
    five = rows["900005"]
    assert (five["date_start"], five["date_end"]) == (dt.date(2020, 11, 10), dt.date(2020, 11, 12))
    assert (five["date_precision"], five["geo_precision"]) == (2, 4)
    assert rows["900006"]["country_iso3"] == "BFA"


def test_ged_civilian_rule_and_actors(registry):
    rows = _rows(read_ucdp(GED), registry)
    # Only type 3 (one-sided) targets civilians; civilian_fatalities = deaths_civilians everywhere.
    assert {k for k, r in rows.items() if r["target_civilians"]} == {"900002", "900006"}
    assert {k: r["civilian_fatalities"] for k, r in rows.items()} == {
        "900001": 0,
        "900002": 12,
        "900003": 0,
        "900004": 0,
        "900005": 0,
        "900006": 5,
    }
    assert {k: r["perpetrator"] for k, r in rows.items()} == {
        "900001": "fama",  # side id 72, Government of Mali
        "900002": "jihadist",  # JNIM
        "900003": "militia",  # Dan na Ambassagou
        "900004": "serval",  # Government of France, 2013-04-05
        "900005": "barkhane",  # Government of France, 2020-11-10
        "900006": "jihadist",  # IS
    }


def _as_19_1(tmp_path: Path) -> Path:
    reader = csv.DictReader(io.StringIO(GED.read_text()))
    fields = [f for f in reader.fieldnames if f not in LATER_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(reader)
    archive = tmp_path / "ged191-csv.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ged191.csv", out.getvalue())
    return archive


def test_older_version_zipped(tmp_path, registry):
    result = read_ucdp(_as_19_1(tmp_path))
    assert result.source_version == "GED 19.1"  # from the download's name, ged191-csv.zip
    new = _rows(result, registry)
    old = _rows(read_ucdp(GED), registry)
    keep = ("date_start", "lat", "lon", "fatalities_best", "actor1_id", "perpetrator", "civilian_fatalities")
    assert {k: tuple(r[c] for c in keep) for k, r in new.items()} == {
        k: tuple(r[c] for c in keep) for k, r in old.items()
    }


def test_api_page(registry):
    result = read_ucdp(FIXTURES / "ucdp_api_page.json")
    assert (result.rows_in, result.rows_loaded) == (3, 3)
    assert result.source_version == "GED 22.1"  # from NextPageUrl .../gedevents/22.1
    api = _rows(result, registry)
    csv_rows = _rows(read_ucdp(GED), registry)
    for key, row in api.items():
        for column in (
            "date_start",
            "date_end",
            "lat",
            "lon",
            "fatalities_best",
            "perpetrator",
            "target_civilians",
        ):
            assert row[column] == csv_rows[key][column], column
