"""The data commands end to end: ingest, store info (table and JSON), actors unmapped."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"


def test_ingest_store_info_and_unmapped(tmp_path, cli, monkeypatch):
    store = tmp_path / "cli.duckdb"
    monkeypatch.setenv("ENTANGLE_STORE", str(store))  # the default location when --store is absent
    code, out, err = cli("ingest", "acled", FIXTURES / "acled_current_schema.csv")
    assert code == 0, err
    assert "7 rows in, 7 loaded, 0 rejected" in out
    code, out, _ = cli(
        "ingest",
        "csv",
        FIXTURES / "generic_events.csv",
        "--map",
        "date=Date",
        "--map",
        "lat=Lat",
        "--map",
        "lon=Long",
        "--map",
        "actor1=Perpetrator",
        "--map",
        "fatalities=Killed",
    )
    assert code == 0 and "4 rows in, 4 loaded" in out
    code, out, _ = cli("store", "info", "--format", "json")
    assert code == 0
    info = json.loads(out)
    assert info["tables"]["events"] == 11
    assert [(s["source"], s["rows_loaded"]) for s in info["sources"]] == [
        ("acled", 7),
        ("csv:generic_events", 4),
    ]
    code, out, _ = cli("store", "info")
    assert code == 0 and "events" in out and "acled" in out
    code, out, _ = cli("actors", "unmapped", "--format", "json")
    assert code == 0
    unmapped = json.loads(out)
    # ACLED fixture names all map; the generic file's free-text perpetrators do not (Barkhane does).
    assert {(u["source"], u["actor"]) for u in unmapped} == {
        ("csv:generic_events", "Unknown gunmen"),
        ("csv:generic_events", "Protesters"),
        ("csv:generic_events", "Dogon militia"),
    }
    code, out, _ = cli("actors", "unmapped", "--source", "acled", "--format", "json")
    assert json.loads(out) == []


def test_store_info_without_a_store(tmp_path, cli):
    code, _, err = cli("store", "info", "--store", tmp_path / "none.duckdb")
    assert code == 2
    assert "no store here" in err
