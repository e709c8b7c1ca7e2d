"""``entangle registry`` commands on the fixture theatres: exact JSON, exit codes, one line per problem."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import networkx as nx

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
BROKEN = FIXTURES / "broken"


def src(
    ref: str, date: str | None = None, url: str | None = None, note: str | None = None, grade: str = "primary"
) -> dict:
    return {"ref": ref, "date": date, "url": url, "note": note, "grade": grade}


def test_validate_ok_prints_one_summary_line(cli):
    code, out, err = cli("registry", "validate", TINY)
    assert code == 0
    assert out == f"ok: {TINY}: theatre tiny: 7 interventions, 2 mandates, 8 ties, 3 sites; 0 warning(s)\n"
    assert err == ""


def test_validate_accepts_the_registry_option(cli):
    code, out, _ = cli("registry", "validate", "--registry", TINY)
    assert code == 0
    assert out.startswith(f"ok: {TINY}: theatre tiny")


def test_validate_prints_every_problem_on_its_own_line(cli):
    code, out, err = cli("registry", "validate", BROKEN)
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 8
    assert all(line.startswith("error: ") for line in lines)
    assert (
        lines[0] == f"error: {BROKEN / 'theatre.yaml'}:5: broken: end 2019-12-31 is before start 2020-01-01"
    )
    assert lines[-1] == f"error: {BROKEN / 'sites.yaml'}:4: s1: lat: Input should be less than or equal to 90"
    assert "Traceback" not in err


def test_other_commands_on_a_broken_registry_give_one_line(cli):
    code, _, err = cli("registry", "show", "--at", "2020-01-01", "--registry", BROKEN)
    assert code == 2
    assert err == (
        f"error: {BROKEN / 'theatre.yaml'}:5: broken: end 2019-12-31 is before start 2020-01-01 "
        "(and 7 more problem(s))\n"
    )


def test_show_json_exact(cli):
    code, out, err = cli("registry", "show", "--at", "2020-03-15", "--format", "json", "--registry", TINY)
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["date", "interventions", "mandates", "ties", "sites"]
    assert data["date"] == "2020-03-15"
    # pk0 ended 2020-01-15; pmc and eu start in 2021.
    assert data["interventions"] == [
        {
            "id": "pk",
            "name": "Peacekeeping mission",
            "kind": "peacekeeping",
            "organization": "UN",
            "start": "2020-01-01",
            "end": None,
            "sources": [src("S/RES/0002 (2019)", "2019-12-01")],
        },
        {
            "id": "ct",
            "name": "Counterterrorism operation",
            "kind": "counterterrorism",
            "organization": "Country A",
            "start": "2020-01-01",
            "end": "2020-12-31",
            "sources": [src("Communiqué A-1", "2020-01-01", "https://example.org/a1")],
        },
        {
            "id": "state",
            "name": "National forces",
            "kind": "state_forces",
            "organization": "Country X",
            "start": "2020-01-01",
            "end": None,
            "sources": [src("Constitution of X")],
        },
        {
            "id": "trainer",
            "name": "Training mission",
            "kind": "training",
            "organization": "Union B",
            "start": "2020-03-01",
            "end": "2020-06-30",
            "sources": [src("Council Decision B-1", "2020-02-01")],
        },
    ]
    assert data["mandates"] == [
        {
            "intervention": "pk",
            "document": "S/RES/0002 (2019)",
            "adopted": "2019-12-01",
            "in_force_from": "2020-01-01",
            "in_force_to": "2020-06-30",
            "provisions": ["protection_of_civilians", "use_of_force"],
            "provision_terms": [],
            "authorized_troops": 1000,
            "sources": [src("S/RES/0002 (2019)", "2019-12-01")],
        }
    ]
    assert [
        (t["id"], t["source"], t["target"], t["type"], t["start"], t["end"], t["weight"])
        for t in data["ties"]
    ] == [
        ("t1", "pk", "ct", "logistical_support", "2020-01-01", "2020-12-31", 2.0),
        ("t2", "ct", "pk", "intelligence_sharing", "2020-02-01", "2020-05-31", 1.0),
        ("t3", "pk", "state", "logistical_support", "2020-01-01", None, 1.0),
        ("t4", "ct", "state", "joint_operations", "2020-01-01", "2020-12-31", 3.0),
        ("t6", "trainer", "state", "training", "2020-03-01", "2020-06-30", 1.0),
    ]
    assert data["ties"][0] == {
        "id": "t1",
        "source": "pk",
        "target": "ct",
        "type": "logistical_support",
        "start": "2020-01-01",
        "end": "2020-12-31",
        "weight": 2.0,
        "sources": [src("S/2020/1", "2020-03-01")],
    }
    assert data["sites"] == [
        {
            "id": "pk_capital",
            "intervention": "pk",
            "name": "Capital",
            "lat": 12.5,
            "lon": -8.0,
            "start": "2020-01-01",
            "end": None,
            "troops": 500,
        },
        {
            "id": "pk_north",
            "intervention": "pk",
            "name": "North camp",
            "lat": 18.25,
            "lon": 1.5,
            "start": "2020-01-01",
            "end": "2020-06-30",
            "troops": None,
        },
        {
            "id": "ct_base",
            "intervention": "ct",
            "name": "Air base",
            "lat": 16.75,
            "lon": -3.0,
            "start": "2020-01-01",
            "end": "2020-12-31",
            "troops": None,
        },
    ]


def test_show_table_names_each_section(cli):
    code, out, _ = cli("registry", "show", "--at", "2021-06-15", "--registry", TINY)
    assert code == 0
    for title in ("interventions in force on 2021-06-15 (4)", "ties in force on 2021-06-15 (4)"):
        assert title in out


def test_show_rejects_a_bad_date(cli):
    code, out, err = cli("registry", "show", "--at", "2020-02-30", "--registry", TINY)
    assert (code, out) == (2, "")
    assert err == "error: --at: '2020-02-30' is not a date (day is out of range for month) (use YYYY-MM-DD)\n"


def test_missing_registry_directory(cli, tmp_path):
    code, _, err = cli("registry", "show", "--at", "2020-01-01", "--registry", tmp_path / "none")
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'none'}: no such registry directory")


def test_metrics_csv_values(cli):
    code, out, _ = cli("registry", "metrics", "--by", "year", "--format", "csv", "--registry", TINY)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["period"] for r in rows] == ["2020-01-01", "2021-01-01"]
    # by hand in test_registry_network.py: 2020 has 5 nodes, 5 ties, density 4/10
    assert (rows[0]["nodes"], rows[0]["ties"], rows[0]["density"], rows[0]["pk_ct_weight"]) == (
        "5",
        "5",
        "0.4",
        "3.0",
    )
    assert rows[1]["pk_mission"] == "pk"
    assert float(rows[1]["pk_betweenness"]) == 2 / 3


def test_metrics_json_with_a_range(cli):
    code, out, _ = cli(
        "registry", "metrics", "--format", "json", "--from", "2021-05", "--to", "2021-06", "--registry", TINY
    )
    assert code == 0
    rows = json.loads(out)
    assert [(r["period"], r["period_end"]) for r in rows] == [
        ("2021-05-01", "2021-05-31"),
        ("2021-06-01", "2021-06-30"),
    ]
    assert [r["pk_private_ties"] for r in rows] == [0, 1]  # t8 is June only


def test_metrics_range_must_be_ordered(cli):
    code, out, err = cli("registry", "metrics", "--from", "2021", "--to", "2020-06", "--registry", TINY)
    assert (code, out) == (2, "")
    assert err == "error: --from: 2021 is after --to 2020-06 (give --from before --to)\n"


def test_metrics_table(cli):
    code, out, _ = cli("registry", "metrics", "--by", "year", "--registry", TINY)
    assert code == 0
    assert "2020-01-01" in out and "2021-01-01" in out


def test_network_needs_exactly_one_of_at_and_by(cli):
    code, _, err = cli("registry", "network", "--registry", TINY)
    assert code == 2
    assert err == "error: registry network: give exactly one of --at DATE or --by year|month\n"
    code, _, _ = cli("registry", "network", "--at", "2020-01-01", "--by", "year", "--registry", TINY)
    assert code == 2


def test_network_json_to_stdout(cli):
    code, out, _ = cli("registry", "network", "--at", "2020-01-10", "--format", "json", "--registry", TINY)
    assert code == 0
    graph = nx.node_link_graph(json.loads(out), edges="edges")
    assert sorted(graph.nodes) == ["ct", "pk", "pk0", "state"]
    assert graph.number_of_edges() == 3


def test_network_out_file(cli, tmp_path):
    target = tmp_path / "out" / "mali.graphml"
    code, out, _ = cli(
        "registry", "network", "--by", "month", "--format", "graphml", "--out", target, "--registry", TINY
    )
    assert (code, out) == (0, "")
    graph = nx.read_graphml(target, force_multigraph=True)
    assert graph.nodes["trainer"]["periods"] == "2020-03 2020-04 2020-05 2020-06"
    assert [p.name for p in target.parent.iterdir()] == ["mali.graphml"]  # no temporary file left behind


def test_validate_prints_warnings_and_still_passes(cli, tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    ties = root / "ties.yaml"
    # t6 (trainer -> state) now starts a month before the trainer arrives
    ties.write_text(
        ties.read_text().replace(
            "  start: 2020-03-01\n  end: 2020-06-30", "  start: 2020-02-01\n  end: 2020-06-30"
        )
    )
    code, out, err = cli("registry", "validate", root)
    assert code == 0
    assert out.endswith("8 ties, 3 sites; 1 warning(s)\n")
    lines = ties.read_text().splitlines()
    line = lines.index("  start: 2020-02-01", lines.index("- id: t6")) + 1
    assert err == (
        f"warning: {ties}:{line}: t6: active 2020-02-01..2020-06-30, beyond trainer's lifetime "
        "2020-03-01..2020-06-30 (counted only while both exist; check the dates)\n"
    )
