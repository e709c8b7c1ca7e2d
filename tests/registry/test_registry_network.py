"""Graphs and metrics on the tiny fixture theatre, checked against values computed by hand.

The fixture (tests/registry/fixtures/tiny), as lifetimes and ties:

    pk0  peacekeeping      2019-07-01..2020-01-15      t1 pk->ct      logistical  2020-01..2020-12  w 2
    pk   peacekeeping      2020-01-01..                t2 ct->pk      intel       2020-02..2020-05  w 1
    ct   counterterrorism  2020-01-01..2020-12-31      t3 pk->state   logistical  2020-01..         w 1
    state state_forces     2020-01-01..                t4 ct->state   joint ops   2020-01..2020-12  w 3
    trainer training       2020-03-01..2020-06-30      t5 pmc->state  joint ops   2021-01..         w 2
    pmc  private_military  2021-01-01..                t6 trainer->state training 2020-03..2020-06  w 1
    eu   training          2021-01-01..                t7 pk->eu      coordination 2021-01..        w 1
                                                       t8 pk-pmc      co-location 2021-06 only      w 0.5
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entangle.registry import load_registry
from entangle.registry.network import (
    graph_at,
    graph_between,
    graph_text,
    period_metrics,
    periods,
    timeline_graph,
)

TINY = Path(__file__).parent / "fixtures" / "tiny"
D = dt.date


@pytest.fixture(scope="module")
def tiny():
    return load_registry(TINY)


def by_period(rows: list[dict]) -> dict[dt.date, dict]:
    return {row["period"]: row for row in rows}


def test_periods_are_calendar_months_and_years():
    assert periods("month", D(2020, 1, 15), D(2020, 3, 1)) == [
        (D(2020, 1, 1), D(2020, 1, 31)),
        (D(2020, 2, 1), D(2020, 2, 29)),  # leap year
        (D(2020, 3, 1), D(2020, 3, 31)),
    ]
    assert periods("month", D(2020, 12, 1), D(2021, 1, 1))[-1] == (D(2021, 1, 1), D(2021, 1, 31))
    assert periods("year", D(2020, 6, 1), D(2021, 2, 1)) == [
        (D(2020, 1, 1), D(2020, 12, 31)),
        (D(2021, 1, 1), D(2021, 12, 31)),
    ]


def test_graph_at_a_day(tiny):
    graph = graph_at(tiny, D(2020, 3, 15))
    assert sorted(graph.nodes) == ["ct", "pk", "state", "trainer"]
    assert sorted(graph.edges(keys=True)) == [
        ("ct", "pk", "t2"),
        ("ct", "state", "t4"),
        ("pk", "ct", "t1"),
        ("pk", "state", "t3"),
        ("trainer", "state", "t6"),
    ]
    assert graph.nodes["ct"]["kind"] == "counterterrorism"
    assert graph.nodes["ct"]["end"] == "2020-12-31"
    assert "end" not in graph.nodes["pk"]  # still ongoing
    edge = graph.edges["pk", "ct", "t1"]
    assert (edge["tie_type"], edge["weight"], edge["directed"]) == ("logistical_support", 2.0, True)
    assert json.loads(edge["sources"]) == [{"ref": "S/2020/1", "date": "2020-03-01", "grade": "primary"}]


def test_monthly_metrics_by_hand(tiny):
    rows = by_period(period_metrics(tiny, "month"))
    assert len(rows) == 24  # the theatre's 2020-2021

    # January 2020: pk0 (to the 15th), pk, ct, state; ties t1, t3, t4.
    # Simple graph: pk-ct, pk-state, ct-state = 3 of 4*3/2 = 6 pairs -> density 0.5.
    # pk is the peacekeeping mission in force most days (31 vs pk0's 15).
    # pk: neighbours ct, state -> degree 2; weighted degree t1 2 + t3 1 = 3.
    # Betweenness of pk: the only pair not involving pk or isolated pk0 is (ct, state), joined directly -> 0.
    jan = rows[D(2020, 1, 1)]
    assert jan["period_end"] == D(2020, 1, 31)
    assert (jan["nodes"], jan["ties"], jan["density"]) == (4, 3, 0.5)
    assert (jan["pk_ct_ties"], jan["pk_ct_weight"]) == (1, 2.0)
    assert (jan["pk_state_ties"], jan["pk_state_weight"]) == (1, 1.0)
    assert (jan["pk_private_ties"], jan["pk_private_weight"]) == (0, 0.0)
    assert (jan["pk_mission"], jan["pk_degree"], jan["pk_weighted_degree"]) == ("pk", 2, 3.0)
    assert jan["pk_betweenness"] == 0.0

    # February 2020: pk0 gone; t2 (ct->pk) adds a second tie on the pk-ct pair: 4 ties, triangle, density 1.
    feb = rows[D(2020, 2, 1)]
    assert (feb["nodes"], feb["ties"], feb["density"]) == (3, 4, 1.0)
    assert (feb["pk_ct_ties"], feb["pk_ct_weight"]) == (2, 3.0)
    assert (feb["pk_degree"], feb["pk_weighted_degree"]) == (2, 4.0)

    # March 2020: trainer joins with t6 -> 4 nodes, 5 ties, simple edges pk-ct, pk-state, ct-state,
    # trainer-state = 4 of 6 -> density 2/3; trainer reaches pk and ct through state, so pk brokers nothing.
    mar = rows[D(2020, 3, 1)]
    assert (mar["nodes"], mar["ties"]) == (4, 5)
    assert mar["density"] == pytest.approx(4 / 6)
    assert mar["pk_betweenness"] == 0.0

    # June 2021: pk, state, pmc, eu; ties t3 (pk-state), t5 (pmc-state), t7 (pk-eu), t8 (pk-pmc).
    # Simple graph edges: 4 of 6 -> density 2/3. pk neighbours state, eu, pmc -> degree 3,
    # weighted 1 + 1 + 0.5 = 2.5. Betweenness of pk: pairs without pk are (eu,state), (eu,pmc), (state,pmc);
    # eu-state only via pk (1), eu-pmc only via pk (1), state-pmc direct (0) -> 2 / ((4-1)(4-2)/2 = 3) = 2/3.
    jun = rows[D(2021, 6, 1)]
    assert (jun["nodes"], jun["ties"]) == (4, 4)
    assert jun["density"] == pytest.approx(4 / 6)
    assert (jun["pk_private_ties"], jun["pk_private_weight"]) == (1, 0.5)
    assert (jun["pk_ct_ties"], jun["pk_state_ties"]) == (0, 1)
    assert (jun["pk_degree"], jun["pk_weighted_degree"]) == (3, 2.5)
    assert jun["pk_betweenness"] == pytest.approx(2 / 3)

    # July 2021: t8 over -> path eu - pk - state - pmc: density 3/6; pk lies on eu-state and eu-pmc -> 2/3.
    jul = rows[D(2021, 7, 1)]
    assert (jul["ties"], jul["density"], jul["pk_degree"]) == (3, 0.5, 2)
    assert jul["pk_betweenness"] == pytest.approx(2 / 3)
    assert jul["pk_private_ties"] == 0


def test_yearly_metrics_count_anything_active_on_any_day(tiny):
    rows = by_period(period_metrics(tiny, "year"))
    # 2020: pk0 (to 15 Jan), pk, ct, state, trainer = 5 nodes; ties t1 t2 t3 t4 t6 = 5.
    # Simple edges pk-ct, pk-state, ct-state, trainer-state = 4 of 10 -> 0.4.
    y2020 = rows[D(2020, 1, 1)]
    assert (y2020["nodes"], y2020["ties"], y2020["density"]) == (5, 5, 0.4)
    assert (y2020["pk_ct_ties"], y2020["pk_ct_weight"]) == (2, 3.0)
    assert (y2020["pk_mission"], y2020["pk_betweenness"]) == ("pk", 0.0)
    # 2021: ct ended 2020-12-31; pk, state, pmc, eu with t3 t5 t7 t8 (t8 counts: active in June).
    y2021 = rows[D(2021, 1, 1)]
    assert (y2021["nodes"], y2021["ties"]) == (4, 4)
    assert y2021["pk_betweenness"] == pytest.approx(2 / 3)
    assert (y2021["pk_ct_ties"], y2021["pk_private_ties"]) == (0, 1)


def test_range_outside_the_theatre_and_the_mission_choice(tiny):
    rows = by_period(period_metrics(tiny, "month", D(2019, 6, 1), D(2019, 8, 31)))
    assert list(rows) == [D(2019, 6, 1), D(2019, 7, 1), D(2019, 8, 1)]
    # June 2019: nothing in force; no peacekeeping mission -> centralities are missing, not zero.
    assert (rows[D(2019, 6, 1)]["nodes"], rows[D(2019, 6, 1)]["density"]) == (0, 0.0)
    assert rows[D(2019, 6, 1)]["pk_mission"] is None
    assert rows[D(2019, 6, 1)]["pk_betweenness"] is None
    # August 2019: pk0 alone: degree 0, betweenness 0.
    aug = rows[D(2019, 8, 1)]
    assert (aug["nodes"], aug["pk_mission"], aug["pk_degree"], aug["pk_betweenness"]) == (1, "pk0", 0, 0.0)


def _read(text: str, fmt: str) -> nx.MultiDiGraph:
    if fmt == "graphml":
        return nx.read_graphml(io.BytesIO(text.encode()), force_multigraph=True)
    if fmt == "gexf":
        return nx.read_gexf(io.BytesIO(text.encode()))
    return nx.node_link_graph(json.loads(text), edges="edges")


def _ties(graph: nx.Graph) -> dict[str, tuple[str, str, dict]]:
    """Edges by tie id (GEXF reads a graph without parallel edges back as a DiGraph, without keys)."""
    return {data["tie_id"]: (u, v, data) for u, v, data in graph.edges(data=True)}


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_exports_round_trip(tiny, fmt):
    graph = graph_at(tiny, D(2021, 6, 15))
    back = _read(graph_text(graph, fmt), fmt)
    assert set(back.nodes) == set(graph.nodes)
    for node, data in graph.nodes(data=True):
        assert {k: back.nodes[node][k] for k in data} == data
    written, read = _ties(graph), _ties(back)
    assert set(read) == set(written) == {"t3", "t5", "t7", "t8"}
    for tie, (u, v, data) in written.items():
        assert read[tie][:2] == (u, v)
        assert {k: read[tie][2][k] for k in data} == data
    assert read["t8"][2]["directed"] is False
    assert read["t8"][2]["weight"] == 0.5


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json"])
def test_timeline_export_lists_periods(tiny, fmt):
    back = _read(graph_text(timeline_graph(tiny, "year"), fmt), fmt)
    assert back.nodes["pk0"]["periods"] == "2020"  # theatre starts 2020; pk0 present to 15 Jan 2020
    assert back.nodes["pk"]["periods"] == "2020 2021"
    assert back.nodes["pmc"]["periods"] == "2021"
    ties = _ties(back)
    assert ties["t4"][2]["periods"] == "2020"
    assert ties["t3"][2]["periods"] == "2020 2021"
    assert ties["t8"][2]["periods"] == "2021"


@settings(max_examples=60, deadline=None)
@given(
    first=st.dates(min_value=D(2019, 6, 1), max_value=D(2022, 1, 31)),
    length=st.integers(min_value=0, max_value=400),
)
def test_period_membership_matches_a_day_by_day_check(first, length):
    # Second method: walk every day of the window and ask each fact whether it (and the
    # interventions it involves) is active that day.
    registry = load_registry(TINY)
    last = first + dt.timedelta(days=length)
    days = [first + dt.timedelta(days=k) for k in range(length + 1)]
    by_id = {i.id: i for i in registry.interventions}
    expected_ties = {
        t.id
        for t in registry.ties
        if any(
            t.active_on(d) and by_id[t.source_id].active_on(d) and by_id[t.target_id].active_on(d)
            for d in days
        )
    }
    expected_nodes = {i.id for i in registry.interventions if any(i.active_on(d) for d in days)}
    graph = graph_between(registry, first, last)
    assert set(graph.nodes) == expected_nodes
    assert {key for *_, key in graph.edges(keys=True)} == expected_ties
