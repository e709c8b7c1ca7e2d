"""The real ACLED Mali extract (../shared/data, read in place, never copied).

Counts are checked against an independent reading of the file with the csv module.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest

from entangle.registry import load_registry
from entangle.sources.ingest import ingest
from entangle.store import open_store

pytestmark = pytest.mark.shared
EXTRACT = Path("acled_mali_extract") / "Processed_Acled_Mali.csv"
PERIOD = re.compile(r"\s*\(\d{4}-(\d{4})?\)")


@pytest.fixture
def extract(shared_data) -> Path:
    return shared_data / EXTRACT


@pytest.fixture
def store(tmp_path, extract):
    with open_store(tmp_path / "real.duckdb") as db:
        result = ingest(db, "acled", extract)
        yield db, result


def _file_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_row_accounted_for(store, extract):
    db, result = store
    rows = _file_rows(extract)
    assert result.rows_in == len(rows) == 4318
    assert result.rows_in == result.rows_loaded + result.rows_rejected
    info = db.info()
    assert info["tables"]["events"] == result.rows_loaded
    assert info["tables"]["rejects"] == result.rows_rejected
    reasons = db.con.execute("SELECT count(*) FROM rejects WHERE reason IS NULL OR reason = ''").fetchone()[0]
    assert reasons == 0
    ids_in_file = {r["event_id_cnty"] for r in rows}
    ids_in_store = {r[0] for r in db.con.execute("SELECT source_id FROM events").fetchall()}
    ids_rejected = {
        r[0]
        for r in db.con.execute("SELECT json_extract_string(raw, '$.event_id_cnty') FROM rejects").fetchall()
    }
    assert ids_in_store | ids_rejected == ids_in_file


def test_yearly_counts_match_the_file(store, extract):
    db, _ = store
    by_year = Counter(r["event_date"][:4] for r in _file_rows(extract))
    stored = dict(
        db.con.execute(
            "SELECT CAST(year(date_start) AS VARCHAR), count(*) FROM events GROUP BY ALL"
        ).fetchall()
    )
    assert stored == dict(by_year)
    # and the file's own `year` column agrees with its dates
    assert by_year == Counter(r["year"] for r in _file_rows(extract))


def test_fatalities_and_civilian_rule_match_the_file(store, extract):
    db, _ = store
    rows = _file_rows(extract)
    total = sum(int(r["fatalities"]) for r in rows)
    civilian = sum(
        int(r["fatalities"])
        for r in rows
        if r["event_type"] == "Violence against civilians"
        or (r["inter2"] == "7" and r["event_type"] in ("Explosions/Remote violence", "Riots"))
    )
    got = db.con.execute("SELECT sum(fatalities_best), sum(civilian_fatalities) FROM events").fetchone()
    assert got == (total, civilian)


def _normalised(name: str) -> str:
    return " ".join(PERIOD.sub(" ", name).split())


def test_intervention_actors_map_to_the_registry(store, extract):
    db, _ = store
    registry = load_registry()
    serval, barkhane = registry.intervention("serval"), registry.intervention("barkhane")
    rows = _file_rows(extract)
    mapped = {
        r[0]: (r[1], r[2])
        for r in db.con.execute("SELECT source_id, perpetrator, target_peacekeepers FROM events").fetchall()
    }
    minusma = [r for r in rows if r["actor1"].startswith("MINUSMA")]
    france = [r for r in rows if _normalised(r["actor1"]) == "Military Forces of France"]
    mali = [r for r in rows if _normalised(r["actor1"]) == "Military Forces of Mali"]
    assert minusma and france and mali
    assert {mapped[r["event_id_cnty"]][0] for r in minusma} == {"minusma"}
    assert {mapped[r["event_id_cnty"]][0] for r in mali} == {"fama"}
    for r in france:
        day = r["event_date"]
        expected = (
            "serval"
            if serval.active_on(dt.date.fromisoformat(day))
            else "barkhane"
            if barkhane.active_on(dt.date.fromisoformat(day))
            else "international"
        )
        assert mapped[r["event_id_cnty"]][0] == expected, (day, r["actor1"])
    # Attacks on MINUSMA (actor2) by others are attacks on peacekeepers.
    attacked = [
        r for r in rows if r["actor2"].startswith("MINUSMA") and not r["actor1"].startswith("MINUSMA")
    ]
    assert attacked and all(mapped[r["event_id_cnty"]][1] for r in attacked)


def test_no_actor_with_ten_events_is_unmapped(store, extract):
    db, _ = store
    unmapped = db.unmapped_actors(source="acled")
    assert [u for u in unmapped if u["events"] >= 10] == []
    # the store's counts agree with an independent count over actor1/actor2
    counts = Counter()
    for r in _file_rows(extract):
        for name in {r["actor1"], r["actor2"]} - {""}:
            counts[name] += 1
    for u in unmapped:
        assert u["events"] == counts[u["actor"]]
