"""Files to panel in one process: the quickest path (``entangle panel --events ... --deployments ...``).

Each file is read by its source's loader and checked as ``entangle ingest`` would (reject share,
actor mapping), and the panel is built from those tables in memory, without a round trip through
the store. Deployment files are read for the theatre only (the registry's missions and the extent's
countries): Geo-PKO v1 covers all of Africa, and a Mali panel uses 318 of its 12,190 rows.

With ``store``, the files are also loaded into that DuckDB store, in a second thread while the
panel is built (DuckDB writes without holding the GIL). A file already in the store is still
read from the file, so the panel depends only on the files given. A deployment file is stored as it
was read, for the theatre only (its provenance notes say how many rows were skipped); a later
``entangle ingest`` of the same file into that store then finds it loaded. Use ``ingest`` for a
store meant to serve several theatres.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from entangle.errors import InputError
from entangle.panel.build import PanelSpec, build_panel, registry_sites, write_panel
from entangle.panel.io import stack_sites
from entangle.panel.metadata import panel_metadata
from entangle.sources.base import LoadResult
from entangle.sources.ingest import check_reject_share, read_source
from entangle.sources.readers import check_file, sha256_file

EVENT_SOURCES = ("acled", "ucdp")
DEPLOYMENT_SOURCES = ("geopko", "radpko")


@dataclass(frozen=True)
class FileInput:
    """One input file and the source that reads it (``acled:events.csv`` on the command line)."""

    source: str
    path: Path

    @classmethod
    def parse(cls, text: str, allowed: Sequence[str], flag: str) -> FileInput:
        source, sep, path = text.partition(":")
        if not sep or source not in allowed or not path:
            raise InputError(flag, f"{text!r} is not SOURCE:FILE", f"SOURCE is one of {', '.join(allowed)}")
        return cls(source, Path(path))


@dataclass(frozen=True)
class Loaded:
    """What was read from the files: canonical events and sites, and per file its result and sha256."""

    events: pa.Table
    sites: pa.Table
    results: tuple[tuple[FileInput, LoadResult], ...]
    sha256: tuple[str, ...]

    def sources(self) -> list[dict[str, Any]]:
        """The files read, as the panel's metadata states its sources."""
        return [
            {"source": f.source, "path": str(f.path.resolve()), "sha256": sha, "rows_loaded": r.rows_loaded}
            for (f, r), sha in zip(self.results, self.sha256, strict=True)
        ]


def _fingerprint(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


class _Checksum(threading.Thread):
    """The file's sha256, computed beside its parsing (hashlib releases the GIL on large chunks).

    The checksum names the bytes that were parsed only if the file did not change in between:
    ``result`` compares its size and modification time with those taken before parsing began.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.before = path, _fingerprint(path)
        self.sha256: str | None = None
        self.failure: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.sha256 = sha256_file(self.path)
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self.failure = exc

    def result(self) -> str:
        self.join()
        if self.failure is not None:
            raise self.failure
        if _fingerprint(self.path) != self.before:
            raise InputError(
                str(self.path), "the file changed while it was read", "read it once it is complete"
            )
        assert self.sha256 is not None
        return self.sha256


def _as_inputs(items: Sequence[FileInput | tuple[str, str | Path]]) -> list[FileInput]:
    return [i if isinstance(i, FileInput) else FileInput(i[0], Path(i[1])) for i in items]


def read_one(
    item: FileInput,
    registry,
    theatre: Sequence[str] | None = None,
    max_reject_share: float = 0.1,
    rules=None,
) -> LoadResult:
    """One file through its source's loader, checked as ``entangle ingest`` checks it; events with
    actors mapped (by ``rules``, default the registry's). Geo-PKO with ``theatre``: those rows only."""
    from entangle.sources.actors import load_actor_rules, map_actors, peacekeeping_ids

    path = check_file(item.path)
    if item.source == "geopko" and theatre is not None:
        from entangle.sources.geopko import read_geopko

        result = read_geopko(path, registry, theatre=theatre)
    else:
        result = read_source(item.source, path, registry)
    check_reject_share(result, path, max_reject_share)
    if result.kind == "events":
        rules = rules or load_actor_rules(registry=registry)
        table = map_actors(result.table, result.source, rules, peacekeeping_ids(registry))
        result = replace(result, table=table)
    return result


def read_files(
    events: Sequence[FileInput | tuple[str, str | Path]],
    deployments: Sequence[FileInput | tuple[str, str | Path]] = (),
    registry=None,
    theatre: Sequence[str] | None = None,
    max_reject_share: float = 0.1,
) -> Loaded:
    """Read event and deployment files with their loaders; map actors; nothing is written.

    ``theatre``: ISO3 codes deployment files are restricted to (default: the registry theatre's).
    """
    from entangle.sources.actors import load_actor_rules

    registry = _registry(registry)
    theatre = list(theatre or registry.theatre.country_iso3)
    results: list[tuple[FileInput, LoadResult]] = []
    event_items, site_items = _as_inputs(events), _as_inputs(deployments)
    for item in event_items:
        if item.source not in EVENT_SOURCES:
            raise InputError("--events", f"{item.source!r} is not an event source", "acled or ucdp")
    for item in site_items:
        if item.source not in DEPLOYMENT_SOURCES:
            raise InputError(
                "--deployments", f"{item.source!r} is not a deployment source", "geopko or radpko"
            )
    if not event_items:
        raise InputError("--events", "no event file", "give --events acled:FILE (or ucdp:FILE)")
    rules = load_actor_rules(registry=registry)
    checksums = []
    for item in [*event_items, *site_items]:
        checksums.append(_Checksum(check_file(item.path)))
        results.append((item, read_one(item, registry, theatre, max_reject_share, rules)))
    event_tables = [r.table for _, r in results if r.kind == "events"]
    sites = stack_sites(registry_sites(registry), *(r.table for _, r in results if r.kind == "sites"))
    events_table = pa.concat_tables(event_tables, promote_options="permissive")
    return Loaded(events_table, sites, tuple(results), tuple(c.result() for c in checksums))


def _registry(registry):
    from entangle.registry import Registry, load_registry

    return registry if isinstance(registry, Registry) else load_registry(registry)


class _StoreWriter(threading.Thread):
    """Loads the files' results into a store while the panel is built; ``finish`` re-raises failures."""

    def __init__(self, store: str | Path | None, loaded: Loaded, registry) -> None:
        super().__init__(daemon=True)
        self.store, self.loaded, self.registry = store, loaded, registry
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            from entangle.sources.actors import load_actor_rules
            from entangle.store import open_store

            actor_map = load_actor_rules(registry=self.registry).table()
            with open_store(self.store) as db:
                for (item, result), sha in zip(self.loaded.results, self.loaded.sha256, strict=True):
                    if not db.has_file(sha, item.source):
                        db.write(result, item.path, sha, actor_map if result.kind == "events" else None)
        except BaseException as exc:  # re-raised in the caller's thread by finish()
            self.failure = exc

    def finish(self) -> None:
        self.join()
        if self.failure is not None:
            raise self.failure


def panel_from_files(
    events: Sequence[FileInput | tuple[str, str | Path]],
    spec: PanelSpec,
    deployments: Sequence[FileInput | tuple[str, str | Path]] = (),
    out: str | Path | None = None,
    registry=None,
    store: str | Path | None = None,
    write_store: bool = False,
    engine: str = "duckdb",
    progress=None,
) -> tuple[pa.Table | None, dict[str, Any]]:
    """Build the panel straight from files: ``(table, metadata)``, or ``(None, metadata)`` with ``out``.

    ``events`` and ``deployments``: ``(source, path)`` pairs. With ``write_store`` the files are also
    loaded into ``store`` (default ``$ENTANGLE_STORE``) in the background; deployment files as read,
    for the theatre only (a note in the store's provenance says so).
    """
    spec.validate()
    registry = _registry(registry)
    loaded = read_files(events, deployments, registry, spec.extent or None)
    writer = _StoreWriter(store, loaded, registry) if write_store else None
    if writer is not None:
        writer.start()
    meta = {"study_hash": None, "study": None, "theatre": registry.theatre.id, "sources": loaded.sources()}
    try:
        if out is None:
            table = build_panel(loaded.events, loaded.sites, registry, spec, engine, meta)
            meta = panel_metadata(table)
        else:
            table = None
            meta = write_panel(loaded.events, loaded.sites, registry, spec, out, engine, meta, progress)
    except BaseException:
        if writer is not None:
            writer.join()  # the panel's error is the one to show; the store write is transactional
        raise
    if writer is not None:
        writer.finish()
    return table, meta
