"""The tables the mechanisms read: the store's events and sites, and the registry's sites.

A study's files are loaded into a temporary store (the same readers and actor rules as
``entangle ingest``), or an existing store is read. Sites from the registry and from deployment
files are stacked; each keeps its name and is clipped to its intervention's lifetime (as the panel
does), and sites whose intervention the registry does not know are left out.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from entangle.registry import Registry

if TYPE_CHECKING:
    from entangle.study import Study

SITE_FIELDS = (
    "site_id",
    "name",
    "intervention_id",
    "kind",
    "lat",
    "lon",
    "start",
    "end",
    "source",
    "site_type",
)


@dataclasses.dataclass(frozen=True)
class Inputs:
    events_table: pa.Table  # the store's events table
    sites: pd.DataFrame  # SITE_FIELDS; start/end as datetime64, NaT end = still active
    registry: Registry

    @property
    def events(self) -> pd.DataFrame:
        return self.events_table.to_pandas()


def study_registry(study: Study) -> Registry:
    """The registry a study names (its ``registry`` directory, else its bundled theatre)."""
    from entangle.registry import bundled_path, load_registry

    return load_registry(study.registry if study.registry is not None else bundled_path(study.theatre))


def site_frame(
    registry: Registry, loaded: pd.DataFrame | None = None, exclude_site_types: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Registry sites and loaded deployment sites, clipped to their intervention's lifetime; sites
    of a type in ``exclude_site_types`` are left out (the panel's exposure rule)."""
    rows = [
        {
            "site_id": s.id,
            "name": s.name,
            "intervention_id": s.intervention_id,
            "lat": s.lat,
            "lon": s.lon,
            "start": s.start,
            "end": s.end,
            "source": "registry",
            "site_type": getattr(s, "site_type", None),
        }
        for s in registry.sites
    ]
    frame = pd.DataFrame(rows, columns=[c for c in SITE_FIELDS if c != "kind"])
    if loaded is not None and len(loaded):
        loaded = loaded if "site_type" in loaded else loaded.assign(site_type=None)
        frame = pd.concat([frame, loaded[list(frame.columns)]], ignore_index=True)
    if exclude_site_types:
        frame = frame[~frame["site_type"].isin(list(exclude_site_types))]
    known = {i.id: i for i in registry.interventions}
    frame = frame[frame["intervention_id"].isin(known) & frame["lat"].notna() & frame["lon"].notna()].copy()
    life_start = pd.to_datetime(frame["intervention_id"].map(lambda i: known[i].start))
    life_end = pd.to_datetime(frame["intervention_id"].map(lambda i: known[i].end))
    start = pd.to_datetime(frame["start"])
    end = pd.to_datetime(frame["end"])
    frame["start"] = start.where(start >= life_start, life_start)
    frame["end"] = end.where(life_end.isna() | (end.notna() & (end <= life_end)), life_end)
    frame = frame[frame["end"].isna() | (frame["end"] >= frame["start"])]
    frame["kind"] = frame["intervention_id"].map(lambda i: known[i].kind)
    return frame[list(SITE_FIELDS)].reset_index(drop=True)


def read_store(path: str | Path, registry: Registry, exclude_site_types: tuple[str, ...] = ()) -> Inputs:
    """Events and sites from an existing store, sites stacked with the registry's."""
    from entangle.store import open_store

    with open_store(path, read_only=True) as store:
        events = store.table("events")
        loaded = store.table("sites").to_pandas()
    return Inputs(events, site_frame(registry, loaded, exclude_site_types), registry)


def load_inputs(study: Study, store: str | Path | None = None) -> Inputs:
    """The study's events and sites: from ``store`` when given, else its files loaded afresh."""
    registry = study_registry(study)
    excluded = tuple(getattr(study.exposure, "exclude_site_types", ()))
    if store is not None:
        return read_store(store, registry, excluded)
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    with tempfile.TemporaryDirectory(prefix="entangle-mech-") as tmp:
        path = Path(tmp) / "store.duckdb"
        with open_store(path) as opened:
            for entry in [*study.sources.events, *study.sources.deployments]:
                ingest(opened, entry.source, entry.path, registry, mapping=dict(entry.columns) or None)
        return read_store(path, registry, excluded)
