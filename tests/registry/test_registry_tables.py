"""``to_tables``: canonical columns (DESIGN.md) with the fixture's values."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa

from entangle.registry import load_registry, to_tables

TINY = Path(__file__).parent / "fixtures" / "tiny"
CANONICAL = {
    "interventions": ["id", "name", "kind", "organization", "theatre", "start", "end", "sources"],
    "ties": ["id", "source_id", "target_id", "type", "start", "end", "weight", "sources"],
    "mandates": [
        "intervention_id",
        "document",
        "adopted",
        "in_force_from",
        "in_force_to",
        "provisions",
        "sources",
    ],
    "sites": ["id", "intervention_id", "name", "lat", "lon", "start", "end", "troops"],
}


def test_tables_have_the_canonical_columns_and_all_rows():
    tables = to_tables(load_registry(TINY))
    assert set(tables) == set(CANONICAL)
    for name, columns in CANONICAL.items():
        assert set(columns) <= set(tables[name].column_names), name
    assert {name: t.num_rows for name, t in tables.items()} == {
        "interventions": 7,
        "mandates": 2,
        "ties": 8,
        "sites": 3,
    }


def test_table_values_and_types():
    tables = to_tables(load_registry(TINY))
    interventions = tables["interventions"].to_pylist()
    ct = next(row for row in interventions if row["id"] == "ct")
    assert ct["theatre"] == "tiny"  # inherited from theatre.yaml
    assert (ct["start"], ct["end"]) == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert json.loads(ct["sources"]) == [
        {"ref": "Communiqué A-1", "date": "2020-01-01", "url": "https://example.org/a1", "grade": "primary"}
    ]
    assert tables["interventions"].schema.field("start").type == pa.date32()

    ties = tables["ties"].to_pylist()
    assert [t["weight"] for t in ties] == [2.0, 1.0, 1.0, 3.0, 2.0, 1.0, 1.0, 0.5]
    assert ties[2]["end"] is None

    mandate = tables["mandates"].to_pylist()[0]
    assert mandate["provisions"] == ["protection_of_civilians", "use_of_force"]
    assert mandate["authorized_troops"] == 1000

    sites = tables["sites"].to_pylist()
    assert [(s["site_id"], s["source"], s["troops"]) for s in sites] == [
        ("pk_capital", "registry", 500),
        ("pk_north", "registry", None),
        ("ct_base", "registry", None),
    ]
    assert sites[1]["aliases"] == ["Nord"]
    assert (sites[2]["lat"], sites[2]["lon"]) == (16.75, -3.0)
