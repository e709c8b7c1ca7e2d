"""The HRDDP monitor on a hand-made theatre (tests/registry/fixtures/tiny), every figure by hand."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from entangle.mechanisms.hrddp import RECORD_FIELDS, Thresholds, monitor, support_ties
from entangle.mechanisms.inputs import site_frame
from entangle.registry import load_registry

TINY = Path(__file__).parents[1] / "registry" / "fixtures" / "tiny"
ACTORS = """version: "test-1"
rules:
  any:
    - {pattern: '^National Army', intervention: state, category: state_and_allied}
    - {pattern: '^Coalition', intervention: ct, category: international}
    - {pattern: '^Militia', category: militia}
"""
CONDITIONED = (
    "  provisions: [protection_of_civilians, support_to_partner]\n",
    "  provisions:\n    - protection_of_civilians\n"
    "    - {provision: support_to_partner, recipient: state, conditions: [hrddp]}\n",
)


@pytest.fixture
def theatre(tmp_path) -> Path:
    root = tmp_path / "tiny"
    shutil.copytree(TINY, root)
    (root / "actors.yaml").write_text(ACTORS, encoding="utf-8")
    mandates = (root / "mandates.yaml").read_text(encoding="utf-8")
    assert mandates.count(CONDITIONED[0]) == 1
    (root / "mandates.yaml").write_text(mandates.replace(*CONDITIONED), encoding="utf-8")
    return root


def _study_text(theatre: Path) -> str:
    head = f'[study]\nname = "tiny"\ntheatre = "tiny"\nregistry = "{theatre}"\n'
    return head + "from = 2020-01-01\nto = 2020-12-31\n"


def _events() -> pd.DataFrame:
    rows = [
        # id, date, perpetrator, assoc_actor1, civilians targeted, civilian deaths, lon
        ("e1", "2020-03-05", "state", None, True, 12, -7.0),
        ("e2", "2020-03-20", "state", None, True, 1, -8.0),
        ("e3", "2020-04-02", "state", None, True, 0, -8.0),
        ("e4", "2020-04-10", "militia", "National Army; Villagers", True, 4, -8.0),
        ("e5", "2020-04-11", "state", None, False, 0, -8.0),  # a battle: not civilian harm
        ("e6", "2020-05-01", "ct", None, True, 2, -3.0),
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "event_id",
            "date_start",
            "perpetrator",
            "assoc_actor1",
            "target_civilians",
            "civilian_fatalities",
            "lon",
        ],
    )
    return frame.assign(
        source="csv:test",
        lat=12.5,
        location="Village",
        admin1="A",
        admin2="B",
        event_type="x",
        actor1="a",
        actor2="Civilians",
        source_version="test",
        date_start=lambda f: pd.to_datetime(f["date_start"]).dt.date,
    )


def test_monitor_by_hand(theatre):
    registry = load_registry(theatre)
    assert [t.id for t in support_ties(registry)] == ["t1", "t3"]  # t7 is coordination, t8 co-location
    result = monitor(
        _events(),
        site_frame(registry),
        registry,
        dt.date(2020, 1, 1),
        dt.date(2020, 12, 31),
        Thresholds(10, 3, 2),
    )
    records = {(r["tie_id"], r["period"]): r for r in result.records}
    assert all(tuple(r) == RECORD_FIELDS for r in result.records)
    march, april = records[("t3", "2020-03")], records[("t3", "2020-04")]
    assert (march["events"], march["civilian_fatalities"], march["flags"]) == (2, 13, ["scale"])
    assert march["largest_event"] == {
        "event_id": "e1",
        "date": "2020-03-05",
        "location": "Village",
        "fatalities": 12,
    }
    # the Capital camp (12.5, -8.0) is 1 degree of longitude away at latitude 12.5
    assert march["nearest_provider_site"] == "Capital"
    assert march["nearest_provider_km"] == pytest.approx(108.6, abs=0.1)
    # April: 1 own event (e3), 3 within the two months ending in April -> frequency
    assert (april["events"], april["civilian_fatalities"], april["flags"]) == (1, 0, ["frequency"])
    assert (april["assoc_events"], april["assoc_civilian_fatalities"]) == (1, 4)
    assert records[("t3", "2020-05")]["flags"] == []  # 1 event in Apr-May
    # t1 supports ct: e6 only
    assert (
        records[("t1", "2020-05")]["events"] == 1 and records[("t1", "2020-05")]["civilian_fatalities"] == 2
    )
    summary = {t["tie_id"]: t for t in result.ties}
    assert summary["t3"]["during"]["events"] == 3 and summary["t3"]["during"]["months"] == 12
    assert summary["t3"]["conditioned"] == "hrddp"
    assert summary["t3"]["hrddp_months"] == 6  # S/RES/0003 from 2020-07-01
    assert summary["t1"]["conditioned"] == "none"  # neither document names the HRDDP or human rights
    assert result.to_dict()["thresholds"]["scale_deaths"] == 10


def test_no_support_ties_is_an_empty_explained_monitor(theatre, tmp_path, cli):
    ties = (theatre / "ties.yaml").read_text(encoding="utf-8")
    kept = [block for block in ties.split("- id: ") if not block.startswith(("t1\n", "t3\n"))]
    (theatre / "ties.yaml").write_text("- id: ".join(kept), encoding="utf-8")
    registry = load_registry(theatre)
    assert support_ties(registry) == []
    result = monitor(_events(), site_frame(registry), registry, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert result.records == [] and "no support tie" in result.note
    # the command says so and exits 0
    from entangle.store import open_store

    with open_store(tmp_path / "empty.duckdb"):
        pass
    study = tmp_path / "study.toml"
    study.write_text(_study_text(theatre))
    code, out, err = cli("hrddp", study, "--store", tmp_path / "empty.duckdb", "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["records"] == [] and "no support tie" in payload["note"]


def test_bad_input_is_one_line_exit_2(theatre, tmp_path, cli):
    study = tmp_path / "study.toml"
    base = _study_text(theatre)
    study.write_text(base + "[study.mechanisms]\nbands_km = [0, 25, 10]\n")
    code, _, err = cli("profile", study)
    assert code == 2 and err.count("\n") == 1 and "band edges must increase" in err
    study.write_text(
        base + '[[study.models]]\ndesign = "site-opening"\noutcome = "civilian_fatalities"\nradius_km = 25\n'
    )
    code, _, err = cli("hrddp", study)
    assert code == 2 and "exactly one of 'intervention' or 'kind'" in err


def test_unknown_intervention_in_a_site_model(theatre, tmp_path, cli):
    study = tmp_path / "study.toml"
    model = '[[study.models]]\ndesign = "site-closure"\noutcome = "civilian_fatalities"\n'
    study.write_text(_study_text(theatre) + model + 'intervention = "blue_helmets"\nradius_km = 25\n')
    for command in ("hrddp", "profile", "run"):
        code, _, err = cli(command, study, *(["--out", tmp_path / "out"] if command == "run" else []))
        assert code == 2 and err.count("\n") == 1, (command, err)
        assert "study.models[0]" in err and "'blue_helmets' is neither" in err
    assert not (tmp_path / "out").exists()


def test_no_events_is_said_not_counted_as_zero(theatre):
    registry = load_registry(theatre)
    result = monitor(
        _events().iloc[:0], site_frame(registry), registry, dt.date(2020, 1, 1), dt.date(2020, 12, 31)
    )
    assert result.records == [] and result.note.startswith("no event data") and "t1, t3" in result.note
