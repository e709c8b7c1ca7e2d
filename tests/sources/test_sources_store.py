"""The DuckDB store: default location, idempotent and transactional writes, info, unmapped actors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from entangle.errors import StoreError
from entangle.sources.ingest import ingest
from entangle.sources.readers import sha256_file
from entangle.store import default_store_path, open_store

FIXTURES = Path(__file__).parent / "fixtures"


def test_default_store_path(monkeypatch, tmp_path):
    monkeypatch.setenv("ENTANGLE_STORE", str(tmp_path / "x.duckdb"))
    assert default_store_path() == tmp_path / "x.duckdb"
    monkeypatch.delenv("ENTANGLE_STORE")
    from platformdirs import user_data_dir

    assert default_store_path() == Path(user_data_dir("entangle", appauthor=False)) / "entangle.duckdb"


def test_info_counts_and_sources(tmp_path):
    with open_store(tmp_path / "s.duckdb") as db:
        ingest(db, "ucdp", FIXTURES / "ucdp_ged_v22_1.csv")
        ingest(db, "acled", FIXTURES / "acled_old_schema.csv")
        info = db.info()
    assert set(info) == {"tables", "sources"}
    assert info["tables"]["events"] == 6 + 9
    assert info["tables"]["provenance"] == 2
    assert info["tables"]["rejects"] == 0
    assert info["tables"]["sites"] == 0
    by_source = {s["source"]: s for s in info["sources"]}
    assert by_source["ucdp"]["sha256"] == sha256_file(FIXTURES / "ucdp_ged_v22_1.csv")
    assert (by_source["acled"]["rows_in"], by_source["acled"]["rows_loaded"]) == (9, 9)
    assert set(by_source["acled"]) == {
        "source",
        "path",
        "sha256",
        "rows_in",
        "rows_loaded",
        "rows_rejected",
        "loaded_at",
    }
    json.dumps(info)  # serialisable as is


def test_overlapping_file_keeps_event_ids_unique(tmp_path):
    """The API page repeats three GED events: they go to rejects, naming the file that has them."""
    with open_store(tmp_path / "s.duckdb") as db:
        ingest(db, "ucdp", FIXTURES / "ucdp_ged_v22_1.csv")
        result = ingest(db, "ucdp", FIXTURES / "ucdp_api_page.json")
        assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (3, 0, 3)
        assert db.count("events") == 6
        reasons = [r[0] for r in db.con.execute("SELECT reason FROM rejects ORDER BY line").fetchall()]
        provenance = db.con.execute(
            "SELECT rows_loaded, rows_rejected FROM provenance ORDER BY rows_in"
        ).fetchall()
    assert reasons[0].startswith("event id ucdp:900001 already in the store (from ")
    assert reasons[0].endswith("ucdp_ged_v22_1.csv)")
    assert provenance == [(0, 3), (6, 0)]


def test_table_and_unknown_table(tmp_path):
    with open_store(tmp_path / "s.duckdb") as db:
        ingest(db, "acled", FIXTURES / "acled_current_schema.csv")
        events = db.table("events")
        assert isinstance(events, pa.Table) and events.num_rows == 7
        actor_map = db.table("actor_map")
        assert actor_map.num_rows > 0
        assert set(actor_map.column("version").to_pylist()) == {
            db.table("actor_map").column("version")[0].as_py()
        }
        with pytest.raises(StoreError, match="no table 'nope'"):
            db.table("nope")


def test_actor_rule_refers_to_actor_map(tmp_path):
    with open_store(tmp_path / "s.duckdb") as db:
        ingest(db, "acled", FIXTURES / "acled_old_schema.csv")
        rows = db.con.execute(
            """SELECT e.actor1, m.pattern, m.intervention_id FROM events e
               JOIN actor_map m ON m.rule = e.actor1_rule WHERE e.source_id = 'MLI9006'"""
        ).fetchall()
    assert rows == [("Military Forces of France (2017-)", r"^Military Forces of France\b", "barkhane")]


def test_unmapped_actors(tmp_path):
    with open_store(tmp_path / "s.duckdb") as db:
        ingest(
            db,
            "csv",
            FIXTURES / "generic_events.csv",
            mapping=[
                "event_id=Incident ID",
                "date=Date",
                "lat=Lat",
                "lon=Long",
                "fatalities=Killed",
                "actor1=Perpetrator",
                "actor2=Victims",
            ],
        )
        unmapped = db.unmapped_actors()
        only_two = db.unmapped_actors(min_events=2)
    # G-1..G-4: every name appears once; 'Barkhane' (actor1) and 'MINUSMA peacekeepers' (actor2) map.
    assert {(u["actor"], u["events"], u["fatalities"]) for u in unmapped} == {
        ("Unknown gunmen", 1, 3),
        ("Protesters", 1, 0),
        ("Dogon militia", 1, 11),
        ("Villagers", 1, 11),
        ("Militants", 1, 7),
    }
    # most events first, then most fatalities, then by name
    assert [u["actor"] for u in unmapped] == [
        "Dogon militia",
        "Villagers",
        "Militants",
        "Unknown gunmen",
        "Protesters",
    ]
    assert only_two == []
    assert {u["source"] for u in unmapped} == {"csv:generic_events"}


def test_read_only_store_must_exist(tmp_path):
    with pytest.raises(StoreError, match="no store here"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
