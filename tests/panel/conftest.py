"""Small hand-made registries and event tables for the panel tests (no third-party data)."""

from __future__ import annotations

import datetime as dt
import types

import pyarrow as pa
import pytest

from entangle.registry.schema import Intervention, Site, Theatre, Tie

SRC = [{"ref": "hand-made test fact"}]


def make_registry(interventions=(), ties=(), sites=(), iso3=("MLI",)):
    """A Registry-like object with the attributes the panel reads."""
    return types.SimpleNamespace(
        theatre=Theatre(
            id="test",
            name="Test",
            country_iso3=list(iso3),
            start=dt.date(2013, 1, 1),
            end=dt.date(2013, 12, 31),
        ),
        interventions=tuple(interventions),
        ties=tuple(ties),
        sites=tuple(sites),
    )


def intervention(id_, kind, start=dt.date(2000, 1, 1), end=None):
    return Intervention(id=id_, name=id_, kind=kind, organization="x", start=start, end=end, sources=SRC)


def tie(id_, a, b, weight, start=dt.date(2000, 1, 1), end=None):
    return Tie(
        id=id_,
        source_id=a,
        target_id=b,
        type="coordination",
        weight=weight,
        start=start,
        end=end,
        sources=SRC,
    )


def site(id_, iid, lat, lon, start=dt.date(2000, 1, 1), end=None, troops=None):
    return Site(
        id=id_,
        intervention_id=iid,
        name=id_,
        lat=lat,
        lon=lon,
        start=start,
        end=end,
        troops=troops,
        sources=SRC,
    )


def events_table(rows: list[dict]) -> pa.Table:
    """Canonical ``events`` rows; unspecified fields get neutral defaults."""
    defaults = {
        "source": "acled",
        "geo_precision": 1,
        "violence_type": "political_violence",
        "perpetrator_category": "unknown",
        "target_peacekeepers": False,
        "fatalities_best": 0,
        "civilian_fatalities": 0,
        "date_end": None,
    }
    full = [{**defaults, **r} for r in rows]
    for i, r in enumerate(full):
        r.setdefault("event_id", f"t:{i}")
        r["date_end"] = r["date_end"] or r["date_start"]
    schema = pa.schema(
        [
            ("event_id", pa.string()),
            ("source", pa.string()),
            ("date_start", pa.date32()),
            ("date_end", pa.date32()),
            ("lat", pa.float64()),
            ("lon", pa.float64()),
            ("geo_precision", pa.int16()),
            ("violence_type", pa.string()),
            ("perpetrator_category", pa.string()),
            ("target_peacekeepers", pa.bool_()),
            ("fatalities_best", pa.int32()),
            ("civilian_fatalities", pa.int32()),
        ]
    )
    return pa.Table.from_pylist(full, schema=schema)


@pytest.fixture
def helpers():
    return types.SimpleNamespace(
        registry=make_registry, intervention=intervention, tie=tie, site=site, events=events_table
    )
