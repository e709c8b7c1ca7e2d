"""Ties over time as graphs, per-period network metrics, and graph export (GraphML, GEXF, JSON).

Graphs are ``networkx.MultiDiGraph``: one node per intervention in force, one edge per tie in force
(keyed by the tie id, directed from ``source_id`` to ``target_id``; ``directed=False`` ties keep
their written orientation and say so in the attribute). A period (calendar month or year) counts an
intervention or a tie when it is in force on at least one day of the period (see ``Registry``).

Metrics (definitions in docs/registry.md) use the *simple undirected projection* of a period's
graph: two interventions are adjacent when at least one tie of any type or direction joins them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

import networkx as nx

from entangle.registry.model import Registry, overlap, span
from entangle.registry.schema import Intervention, Tie
from entangle.registry.tables import sources_json

Freq = Literal["month", "year"]
GraphFormat = Literal["graphml", "gexf", "json"]
PEACEKEEPING = "peacekeeping"
# metric-name suffix -> the other side's intervention kind, for ties with a peacekeeping actor
PK_PARTNERS = {"ct": "counterterrorism", "state": "state_forces", "private": "private_military"}


def periods(freq: Freq, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar months or years that overlap ``[first, last]``, as (first day, last day)."""
    out = []
    start = dt.date(first.year, first.month if freq == "month" else 1, 1)
    while start <= last:
        if freq == "month":
            following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        else:
            following = dt.date(start.year + 1, 1, 1)
        out.append((start, following - dt.timedelta(days=1)))
        start = following
    return out


def period_label(freq: Freq, first: dt.date) -> str:
    """``2013-07`` for a month, ``2013`` for a year."""
    return first.strftime("%Y-%m") if freq == "month" else str(first.year)


def _node_attrs(item: Intervention) -> dict:
    attrs = {
        "label": item.name,
        "kind": item.kind,
        "organization": item.organization,
        "start": item.start.isoformat(),
        "end": item.end.isoformat() if item.end else None,
        "sources": sources_json(item.sources),
    }
    return {key: value for key, value in attrs.items() if value is not None}


def _edge_attrs(tie: Tie) -> dict:
    attrs = {
        "tie_id": tie.id,  # also the edge key; repeated so formats without keys (GEXF) keep it
        "tie_type": tie.type,
        "weight": tie.weight,
        "directed": tie.directed,
        "start": tie.start.isoformat(),
        "end": tie.end.isoformat() if tie.end else None,
        "sources": sources_json(tie.sources),
    }
    return {key: value for key, value in attrs.items() if value is not None}


def graph_between(
    registry: Registry, first: dt.date, last: dt.date, *, attributes: bool = True
) -> nx.MultiDiGraph:
    """The interventions and ties in force on at least one day of ``[first, last]``.

    ``attributes=False`` keeps only node ``kind`` and edge ``weight``: what the metrics need, without
    serialising every source list once per period.
    """
    active = registry.between(first, last)
    graph = nx.MultiDiGraph(theatre=registry.theatre.id, first=first.isoformat(), last=last.isoformat())
    for item in active.interventions:
        graph.add_node(item.id, **(_node_attrs(item) if attributes else {"kind": item.kind}))
    for tie in active.ties:
        attrs = _edge_attrs(tie) if attributes else {"weight": tie.weight}
        graph.add_edge(tie.source_id, tie.target_id, key=tie.id, **attrs)
    return graph


def graph_at(registry: Registry, day: dt.date) -> nx.MultiDiGraph:
    """The interventions and ties in force on ``day``."""
    return graph_between(registry, day, day)


def graphs_by(
    registry: Registry, freq: Freq = "year", start: dt.date | None = None, end: dt.date | None = None
) -> list[tuple[dt.date, dt.date, nx.MultiDiGraph]]:
    """One graph per period from ``start`` to ``end`` (default: the theatre's dates)."""
    first, last = start or registry.theatre.start, end or registry.theatre.end
    return [(lo, hi, graph_between(registry, lo, hi)) for lo, hi in periods(freq, first, last)]


def timeline_graph(
    registry: Registry, freq: Freq = "year", start: dt.date | None = None, end: dt.date | None = None
) -> nx.MultiDiGraph:
    """All periods in one graph; each node and edge lists its periods in ``periods`` (space-separated)."""
    by_period = graphs_by(registry, freq, start, end)
    first, last = by_period[0][0], by_period[-1][1]
    union = graph_between(registry, first, last)
    union.graph["freq"] = freq
    for lo, _, graph in by_period:
        label = period_label(freq, lo)
        for node in graph:
            union.nodes[node]["periods"] = f"{union.nodes[node].get('periods', '')} {label}".strip()
        for u, v, key in graph.edges(keys=True):
            data = union.edges[u, v, key]
            data["periods"] = f"{data.get('periods', '')} {label}".strip()
    return union


def simple_projection(graph: nx.MultiDiGraph) -> nx.Graph:
    """Undirected, unweighted, one edge per pair of interventions joined by at least one tie."""
    simple = nx.Graph()
    simple.add_nodes_from(graph)
    simple.add_edges_from(graph.edges())
    return simple


def focal_mission(registry: Registry, first: dt.date, last: dt.date) -> str | None:
    """The peacekeeping intervention in force the most days of ``[first, last]`` (then earliest, then id)."""

    def days(item: Intervention) -> int:
        common = overlap(span(item), (first, last))
        return 0 if common is None else ((common[1] or last) - common[0]).days + 1

    candidates = [i for i in registry.interventions if i.kind == PEACEKEEPING and days(i) > 0]
    if not candidates:
        return None
    return min(candidates, key=lambda i: (-days(i), i.start, i.id)).id


def graph_metrics(registry: Registry, first: dt.date, last: dt.date) -> dict:
    """The network metrics of ``[first, last]`` (see docs/registry.md for each definition)."""
    graph = graph_between(registry, first, last, attributes=False)
    simple = simple_projection(graph)
    kinds = dict(graph.nodes(data="kind"))
    row: dict = {
        "period": first,
        "period_end": last,
        "nodes": graph.number_of_nodes(),
        "ties": graph.number_of_edges(),
        "density": float(nx.density(simple)),
    }
    for suffix, other in PK_PARTNERS.items():
        weights = [
            w for u, v, w in graph.edges(data="weight") if {kinds[u], kinds[v]} == {PEACEKEEPING, other}
        ]
        row[f"pk_{suffix}_ties"] = len(weights)
        row[f"pk_{suffix}_weight"] = float(sum(weights))
    mission = focal_mission(registry, first, last)
    row["pk_mission"] = mission
    row["pk_degree"] = simple.degree(mission) if mission else None
    row["pk_weighted_degree"] = float(graph.degree(mission, weight="weight")) if mission else None
    row["pk_betweenness"] = nx.betweenness_centrality(simple, normalized=True)[mission] if mission else None
    return row


def period_metrics(
    registry: Registry, freq: Freq = "month", start: dt.date | None = None, end: dt.date | None = None
) -> list[dict]:
    """One row of metrics per period from ``start`` to ``end`` (default: the theatre's dates)."""
    first, last = start or registry.theatre.start, end or registry.theatre.end
    return [graph_metrics(registry, lo, hi) for lo, hi in periods(freq, first, last)]


def graph_text(graph: nx.MultiDiGraph, fmt: GraphFormat) -> str:
    """The graph serialised as GraphML, GEXF 1.2 or node-link JSON (attributes as strings/numbers)."""
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(graph)) + "\n"
    if fmt == "gexf":
        labelled = graph.copy()
        for *_, data in labelled.edges(data=True):
            data["id"] = data["tie_id"]  # GEXF edge ids: the tie ids, not 0, 1, 2...
        return "\n".join(nx.generate_gexf(labelled)) + "\n"
    return json.dumps(nx.node_link_data(graph, edges="edges"), indent=2, ensure_ascii=False) + "\n"
