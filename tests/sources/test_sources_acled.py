"""ACLED loader on hand-written files in the real layouts (old CSV, current CSV, API JSON).

Expected values are read off the fixture rows by hand (see each comment).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from entangle.registry import load_registry
from entangle.sources.acled import read_acled
from entangle.sources.actors import load_actor_rules, map_actors, peacekeeping_ids

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def _mapped(path: Path, registry) -> dict[str, dict]:
    result = read_acled(path)
    rules = load_actor_rules(registry=registry)
    table = map_actors(result.table, "acled", rules, peacekeeping_ids(registry))
    return {r["source_id"]: r for r in table.to_pylist()}


def test_old_schema_values(registry):
    result = read_acled(FIXTURES / "acled_old_schema.csv")
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (9, 9, 0)
    assert "old ACLED schema" in result.notes
    # max timestamp 1604000000 = 2020-10-29 UTC
    assert result.source_version == "ACLED export 2020-10-29"
    rows = _mapped(FIXTURES / "acled_old_schema.csv", registry)
    first = rows["MLI9001"]
    assert first["event_id"] == "acled:MLI9001"
    assert first["date_start"] == first["date_end"] == dt.date(2013, 2, 2)  # '02 February 2013'
    assert (first["lat"], first["lon"], first["geo_precision"], first["date_precision"]) == (
        16.2666,
        -0.04,
        1,
        1,
    )
    assert first["country_iso3"] == "MLI"  # iso 466
    assert first["line"] == 2
    assert first["assoc_actor1"] == "Military Forces of Mali (2012-2013)"


def test_old_schema_civilian_targeting_rule(registry):
    rows = _mapped(FIXTURES / "acled_old_schema.csv", registry)
    target = {k for k, r in rows.items() if r["target_civilians"]}
    # VAC (9003); Explosions/Remote violence with inter2 = 7 (9004); Riots with inter2 = 7 (9005).
    # Not: Strategic developments with inter2 = 7 (9007), battles, protests.
    assert target == {"MLI9003", "MLI9004", "MLI9005"}
    assert {k: rows[k]["civilian_fatalities"] for k in target} == {"MLI9003": 4, "MLI9004": 2, "MLI9005": 1}
    assert rows["MLI9001"]["civilian_fatalities"] == 0


def test_old_schema_actor_mapping(registry):
    rows = _mapped(FIXTURES / "acled_old_schema.csv", registry)
    perpetrators = {k: (r["perpetrator"], r["perpetrator_category"]) for k, r in rows.items()}
    assert perpetrators == {
        "MLI9001": ("serval", "international"),  # French forces, 2013-02-02: Serval
        "MLI9002": ("jihadist", "jihadist"),  # AQIM
        "MLI9003": ("unknown", "unknown"),  # Unidentified Armed Group
        "MLI9004": ("jihadist", "jihadist"),  # JNIM
        "MLI9005": ("other", "other"),  # Rioters
        "MLI9006": ("barkhane", "international"),  # French forces, 2019-08-09: Barkhane
        "MLI9007": ("militia", "militia"),  # Fulani Ethnic Militia
        "MLI9008": ("fama", "state_and_allied"),  # Military Forces of Mali (2020-)
        "MLI9009": ("other", "other"),  # Protesters
    }
    # AQIM's IED against MINUSMA is an attack on peacekeepers; nothing else is.
    assert {k for k, r in rows.items() if r["target_peacekeepers"]} == {"MLI9002"}
    assert rows["MLI9009"]["actor2"] is None and rows["MLI9009"]["actor2_rule"] is None
    violence = {r["violence_type"] for r in rows.values()}
    assert violence == {"political_violence", "demonstrations", "strategic_developments"}


def test_current_schema(registry):
    result = read_acled(FIXTURES / "acled_current_schema.csv")
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (7, 7, 0)
    assert "current ACLED schema" in result.notes
    rows = _mapped(FIXTURES / "acled_current_schema.csv", registry)
    # civilian_targeting marks 30001 (VAC) and 30003 (an IED); 30002 hits MINUSMA.
    assert {k for k, r in rows.items() if r["target_civilians"]} == {"MLI30001", "MLI30003"}
    assert rows["MLI30003"]["civilian_fatalities"] == 6
    assert {k for k, r in rows.items() if r["target_peacekeepers"]} == {"MLI30002"}
    assert rows["MLI30004"]["perpetrator"] == "wagner"
    assert rows["MLI30004"]["perpetrator_category"] == "state_and_allied"
    # French forces before Barkhane's end (2022-08-15) are Barkhane; after it, only 'international'.
    assert rows["MLI30006"]["perpetrator"] == "barkhane"
    assert rows["MLI30007"]["perpetrator"] == "international"
    assert rows["MLI30007"]["country_iso3"] == "BFA"
    assert rows["MLI30005"]["violence_type"] == "demonstrations"
    assert rows["MLI30001"]["violence_type"] == "political_violence"


def test_api_json_matches_csv(registry):
    csv_rows = _mapped(FIXTURES / "acled_current_schema.csv", registry)
    api = read_acled(FIXTURES / "acled_api_page.json")
    assert (api.rows_in, api.rows_loaded) == (2, 2)
    api_rows = _mapped(FIXTURES / "acled_api_page.json", registry)
    for key, row in api_rows.items():
        expected = {k: v for k, v in csv_rows[key].items() if k not in ("line", "source_version")}
        assert {k: v for k, v in row.items() if k not in ("line", "source_version")} == expected
    assert api_rows["MLI30001"]["line"] == 1  # record number in the page


def test_zipped_export(tmp_path):
    archive = tmp_path / "acled_export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIXTURES / "acled_old_schema.csv", "2020-11-02-Mali.csv")
    result = read_acled(archive)
    assert result.rows_loaded == 9
    assert sorted(result.table.column("source_id").to_pylist()) == sorted(f"MLI900{i}" for i in range(1, 10))


def test_uppercase_header_and_semicolons(tmp_path):
    text = (FIXTURES / "acled_current_schema.csv").read_text()
    # Re-delimit by a CSV round trip (notes contain commas) and upper-case the header.
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([h.upper() for h in rows[0]])
    writer.writerows(rows[1:])
    path = tmp_path / "semicolon.csv"
    path.write_text(out.getvalue())
    result = read_acled(path)
    assert result.rows_loaded == 7
    assert "delimiter ';'" in result.notes
    assert sorted(result.table.column("source_id").to_pylist()) == [f"MLI3000{i}" for i in range(1, 8)]
