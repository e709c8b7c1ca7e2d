"""Actor mapping rules: normalisation, date windows, the shipped Mali rules, and bad rule files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from entangle.errors import InputError
from entangle.registry import load_registry
from entangle.sources.actors import load_actor_rules, map_actors, normalise_actor, peacekeeping_ids


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_normalise_actor():
    assert normalise_actor("Military Forces of Mali (2021-)") == "Military Forces of Mali"
    assert (
        normalise_actor("Police Forces of Mali (2013-2020) Gendarmerie")
        == "Police Forces of Mali Gendarmerie"
    )
    assert normalise_actor("MINUSMA: United Nations Mission (2013- )") == "MINUSMA: United Nations Mission"


def test_shipped_rules_reference_registry_interventions(registry):
    rules = load_actor_rules(registry=registry)
    ids = {i.id for i in registry.interventions}
    assert {r.intervention for r in rules.rules if r.intervention} <= ids
    assert rules.version
    # the while_active rules take their windows from the registry
    serval = next(r for r in rules.rules if r.intervention == "serval" and r.source == "acled" and r.valid_to)
    assert (serval.valid_from, serval.valid_to) == (
        registry.intervention("serval").start,
        registry.intervention("serval").end,
    )


def _events(rows: list[tuple[str, str | None, str]]) -> pa.Table:
    return pa.table(
        {
            "actor1": [a for a, _, _ in rows],
            "actor1_id": pa.array([None] * len(rows), pa.string()),
            "actor2": [b for _, b, _ in rows],
            "actor2_id": pa.array([None] * len(rows), pa.string()),
            "assoc_actor2": pa.array([None] * len(rows), pa.string()),
            "date_start": [dt.date.fromisoformat(d) for _, _, d in rows],
        }
    )


def test_french_forces_follow_the_operation_in_force(registry):
    rules = load_actor_rules(registry=registry)
    france = "Military Forces of France (2012-2017)"
    table = _events(
        [
            (france, None, "2012-06-01"),  # before Serval
            (france, None, "2013-01-11"),  # Serval's first day
            (france, None, "2014-07-31"),  # Serval's last day
            (france, None, "2014-08-01"),  # Barkhane's first day
            (france, None, "2022-08-15"),  # Barkhane's last day
            (france, None, "2022-08-16"),
        ]
    )
    out = map_actors(table, "acled", rules, peacekeeping_ids(registry))
    assert out.column("perpetrator").to_pylist() == [
        "international",
        "serval",
        "serval",
        "barkhane",
        "barkhane",
        "international",
    ]
    assert set(out.column("perpetrator_category").to_pylist()) == {"international"}


def test_target_peacekeepers_via_actor2_or_associates(registry):
    rules = load_actor_rules(registry=registry)
    minusma = "MINUSMA: United Nations Multidimensional Integrated Stabilization Mission in Mali (2013-)"
    table = _events(
        [
            ("JNIM", minusma, "2019-01-01"),
            (minusma, "JNIM", "2019-01-01"),
            ("JNIM", "Civilians (Mali)", "2019-01-01"),
        ]
    )
    table = table.set_column(4, "assoc_actor2", pa.array([None, None, f"Civilians (Mali); {minusma}"]))
    out = map_actors(table, "acled", rules, peacekeeping_ids(registry))
    assert out.column("target_peacekeepers").to_pylist() == [True, False, True]
    assert out.column("perpetrator").to_pylist() == ["jihadist", "minusma", "jihadist"]
    assert peacekeeping_ids(registry) == {"minusma"}


def _rules_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "actors.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "version: 1\nrules:\n  acled:\n    - pattern: 'x'\n      category: bandits\n",
            "actors.yaml:4: category 'bandits'",
        ),
        (
            "version: 1\nrules:\n  acled:\n    - pattern: '('\n      category: other\n",
            "actors.yaml:4: invalid regular expression",
        ),
        (
            "version: 1\nrules:\n  acled:\n    - exact: x\n      intervention: minusmaa\n"
            "      category: international\n",
            "actors.yaml:4: unknown intervention 'minusmaa'",
        ),
        (
            "version: 1\nrules:\n  acled:\n    - category: other\n",
            "actors.yaml:4: a rule needs exactly one of",
        ),
        (
            "version: 1\nrules:\n  acled:\n    - exact: x\n      category: other\n      colour: red\n",
            "unknown key(s) colour",
        ),
        ("rules: {}\n", "actors.yaml:1: expected 'version:'"),
        ("version: 1\nrules:\n  acled: [\n", "actors.yaml:4: invalid YAML"),
    ],
)
def test_bad_rule_files(tmp_path, registry, body, message):
    with pytest.raises(InputError) as info:
        load_actor_rules(_rules_file(tmp_path, body), registry=registry)
    assert message in str(info.value)


def test_first_matching_rule_wins(tmp_path, registry):
    path = _rules_file(
        tmp_path,
        "version: t\nrules:\n  acled:\n"
        "    - exact: 'Group A'\n      category: militia\n"
        "    - pattern: '^Group'\n      category: rebel\n"
        "  any:\n    - pattern: '.'\n      category: other\n",
    )
    rules = load_actor_rules(path, registry=registry)
    table = _events([("Group A (2010-)", "Group B", "2019-01-01"), ("Zeta", None, "2019-01-01")])
    out = map_actors(table, "acled", rules, set())
    assert out.column("perpetrator_category").to_pylist() == ["militia", "other"]
    assert out.column("actor1_rule").to_pylist() == [1, 3]
    assert out.column("actor2_rule").to_pylist() == [2, None]
