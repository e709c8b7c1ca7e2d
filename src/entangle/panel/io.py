"""The panel from the store and the registry: the one call behind ``entangle panel``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from entangle.errors import PanelError
from entangle.panel.build import PanelSpec, registry_sites, write_panel

SITE_COLUMNS = {
    "intervention_id": pa.string(),
    "lat": pa.float64(),
    "lon": pa.float64(),
    "start": pa.date32(),
    "end": pa.date32(),
    "troops": pa.float64(),
}


# Optional: NULL when a table lacks them (a store written before they existed, a hand-made table).
# ``period`` ('month'/'year') marks a deployment-map row, which the deployment time rule holds.
OPTIONAL_SITE_COLUMNS = {
    "site_type": pa.string(),
    "source": pa.string(),
    "source_version": pa.string(),
    "period": pa.string(),
    "name": pa.string(),
    "site_id": pa.string(),
    "registry_site_id": pa.string(),
}


def stack_sites(*tables: pa.Table) -> pa.Table:
    """Stack ``sites`` tables (registry and store) on the columns the panel needs."""
    parts = []
    for table in tables:
        missing = [c for c in SITE_COLUMNS if c not in table.column_names]
        if missing:
            raise PanelError("sites", f"missing column(s) {', '.join(missing)}")
        columns = {c: table.column(c).cast(t) for c, t in SITE_COLUMNS.items()}
        for c, t in OPTIONAL_SITE_COLUMNS.items():
            columns[c] = table.column(c).cast(t) if c in table.column_names else pa.nulls(len(table), t)
        parts.append(pa.table(columns))
    return pa.concat_tables(parts)


def _sources(store) -> list[dict[str, Any]]:
    """The files loaded into the store, with their sha256 (from its provenance table)."""
    try:
        prov = store.table("provenance")
    except Exception:  # a store without a provenance table has no file sources to state
        return []
    cols = [c for c in ("source", "path", "sha256", "rows_loaded") if c in prov.column_names]
    return prov.select(cols).to_pylist()


def panel_from_store(
    store_path: str | Path | None,
    registry_path: str | Path | None,
    spec: PanelSpec,
    out: str | Path,
    engine: str = "duckdb",
    study=None,
    progress=None,
) -> dict[str, Any]:
    """Read events and sites from the store, sites and ties from the registry, write the panel."""
    from entangle.registry import load_registry
    from entangle.store import open_store

    spec.validate()
    registry = load_registry(registry_path)
    with open_store(store_path, read_only=True) as store:
        events = store.table("events")
        sites = stack_sites(registry_sites(registry), store.table("sites"))
        sources = _sources(store)
    meta = {
        "study_hash": study.content_hash() if study is not None else None,
        "study": study.name if study is not None else None,
        "theatre": registry.theatre.id,
        "sources": sources,
    }
    meta = json.loads(json.dumps(meta, default=str))  # dates and paths in provenance become strings
    return write_panel(events, sites, registry, spec, out, engine, meta, progress)
