"""The registry as Arrow tables with the canonical columns of DESIGN.md (read by store, panel, report).

``sources`` is a JSON string (a list of ``{ref, date, url, note, grade}``) so every engine (DuckDB,
Parquet, polars, Spark) reads it without nested types. ``sites`` also carries ``site_id`` and
``source = 'registry'`` so it stacks directly onto the store's ``sites`` table (deployment files).
"""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa

from entangle.registry.model import Registry
from entangle.registry.schema import Mandate, Source

_DATED = [
    ("start", pa.date32()),
    ("end", pa.date32()),
    ("start_precision", pa.string()),
    ("end_precision", pa.string()),
    ("inferred", pa.bool_()),
]
SCHEMAS: dict[str, pa.Schema] = {
    "interventions": pa.schema(
        [
            ("id", pa.string()),
            ("name", pa.string()),
            ("kind", pa.string()),
            ("organization", pa.string()),
            ("theatre", pa.string()),
            *_DATED,
            ("note", pa.string()),
            ("sources", pa.string()),
        ]
    ),
    "mandates": pa.schema(
        [
            ("intervention_id", pa.string()),
            ("document", pa.string()),
            ("adopted", pa.date32()),
            ("in_force_from", pa.date32()),
            ("in_force_to", pa.date32()),
            ("provisions", pa.list_(pa.string())),
            ("provision_terms", pa.string()),
            ("authorized_troops", pa.int64()),
            ("summary", pa.string()),
            ("sources", pa.string()),
        ]
    ),
    "ties": pa.schema(
        [
            ("id", pa.string()),
            ("source_id", pa.string()),
            ("target_id", pa.string()),
            ("type", pa.string()),
            *_DATED,
            ("weight", pa.float64()),
            ("directed", pa.bool_()),
            ("note", pa.string()),
            ("sources", pa.string()),
        ]
    ),
    "sites": pa.schema(
        [
            ("id", pa.string()),
            ("site_id", pa.string()),
            ("source", pa.string()),
            ("intervention_id", pa.string()),
            ("name", pa.string()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            *_DATED,
            ("troops", pa.int64()),
            ("aliases", pa.list_(pa.string())),
            ("note", pa.string()),
            ("sources", pa.string()),
        ]
    ),
}


def sources_json(sources: list[Source]) -> str:
    """Sources as a compact JSON list, dates in ISO form, absent fields omitted."""
    return json.dumps([s.model_dump(mode="json", exclude_none=True) for s in sources], ensure_ascii=False)


def terms_json(mandate: Mandate) -> str:
    """A mandate's provision terms as a compact JSON list (``[]`` when all are plain names)."""
    return json.dumps([t.model_dump(exclude_none=True) for t in mandate.provision_terms], ensure_ascii=False)


def to_tables(registry: Registry) -> dict[str, pa.Table]:
    """``interventions``, ``mandates``, ``ties`` and ``sites`` as Arrow tables (rows in file order)."""
    theatre = registry.theatre.id
    rows = {
        "interventions": [
            {
                **i.model_dump(exclude={"sources"}),
                "theatre": i.theatre or theatre,
                "sources": sources_json(i.sources),
            }
            for i in registry.interventions
        ],
        "mandates": [
            {
                **m.model_dump(exclude={"sources", "provision_terms"}),
                "provision_terms": terms_json(m),
                "sources": sources_json(m.sources),
            }
            for m in registry.mandates
        ],
        "ties": [
            {**t.model_dump(exclude={"sources"}), "sources": sources_json(t.sources)} for t in registry.ties
        ],
        "sites": [
            {
                **s.model_dump(exclude={"sources"}),
                "site_id": s.id,
                "source": "registry",
                "sources": sources_json(s.sources),
            }
            for s in registry.sites
        ],
    }
    return {
        name: pa.Table.from_pylist([_only(row, SCHEMAS[name]) for row in rows[name]], schema=SCHEMAS[name])
        for name in SCHEMAS
    }


def _only(row: dict, schema: pa.Schema) -> dict:
    """The schema's columns of ``row``: a missing one raises ``KeyError`` instead of turning into null."""
    return {name: row[name] for name in schema.names}


def snapshot(registry: Registry, day: dt.date) -> dict:
    """What was in force on ``day``, as JSON-ready data (the shape of ``entangle registry show``)."""
    active = registry.at(day)

    def sources(items: list[Source]) -> list[dict]:
        return [s.model_dump(mode="json") for s in items]

    def iso(value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "date": day.isoformat(),
        "interventions": [
            {
                "id": i.id,
                "name": i.name,
                "kind": i.kind,
                "organization": i.organization,
                "start": iso(i.start),
                "end": iso(i.end),
                "sources": sources(i.sources),
            }
            for i in active.interventions
        ],
        "mandates": [
            {
                "intervention": m.intervention_id,
                "document": m.document,
                "adopted": iso(m.adopted),
                "in_force_from": iso(m.in_force_from),
                "in_force_to": iso(m.in_force_to),
                "provisions": list(m.provisions),
                "provision_terms": [t.model_dump() for t in m.provision_terms],
                "authorized_troops": m.authorized_troops,
                "sources": sources(m.sources),
            }
            for m in active.mandates
        ],
        "ties": [
            {
                "id": t.id,
                "source": t.source_id,
                "target": t.target_id,
                "type": t.type,
                "start": iso(t.start),
                "end": iso(t.end),
                "weight": t.weight,
                "sources": sources(t.sources),
            }
            for t in active.ties
        ],
        "sites": [
            {
                "id": s.id,
                "intervention": s.intervention_id,
                "name": s.name,
                "lat": s.lat,
                "lon": s.lon,
                "start": iso(s.start),
                "end": iso(s.end),
                "troops": s.troops,
            }
            for s in active.sites
        ],
    }
