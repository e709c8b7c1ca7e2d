"""The embedded DuckDB store holding the canonical tables (docs/architecture.md).

Every load is one transaction: the rows, their rejects, the file's provenance and the actor rules
are written together or not at all. A file already recorded in ``provenance`` (same sha256) is not
loaded again. Events whose ``event_id`` is already in the store (from another file) are kept out and
recorded in ``rejects`` with the reason, so ``event_id`` stays unique.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import pyarrow as pa

from entangle import __version__, interrupts
from entangle.errors import StoreError, environment_error, is_interrupt
from entangle.sources import EVENT_COLUMNS, SITE_COLUMNS
from entangle.sources.base import LoadResult

if TYPE_CHECKING:
    import duckdb

PROVENANCE_COLUMNS = {
    "source": "VARCHAR",
    "path": "VARCHAR",
    "sha256": "VARCHAR",
    "rows_in": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_rejected": "BIGINT",
    "loader_version": "VARCHAR",
    "loaded_at": "TIMESTAMP WITH TIME ZONE",
    "kind": "VARCHAR",
    "source_version": "VARCHAR",
    "notes": "VARCHAR",
}
REJECT_COLUMNS = {
    "sha256": "VARCHAR",
    "line": "BIGINT",
    "column": "VARCHAR",
    "reason": "VARCHAR",
    "raw": "VARCHAR",
}
ACTOR_MAP_COLUMNS = {
    "source": "VARCHAR",
    "pattern": "VARCHAR",
    "intervention_id": "VARCHAR",
    "category": "VARCHAR",
    "rule": "INTEGER",
    "match": "VARCHAR",
    "valid_from": "DATE",
    "valid_to": "DATE",
    "version": "VARCHAR",
}
TABLES: dict[str, dict[str, str]] = {
    "events": EVENT_COLUMNS,
    "sites": SITE_COLUMNS,
    "rejects": REJECT_COLUMNS,
    "provenance": PROVENANCE_COLUMNS,
    "actor_map": ACTOR_MAP_COLUMNS,
}
STORE_ENV = "ENTANGLE_STORE"
WRITE_MEMORY_LIMIT = "512MB"


def default_store_path() -> Path:
    """``$ENTANGLE_STORE`` if set, else ``entangle.duckdb`` in the user's data directory."""
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("entangle", appauthor=False)) / "entangle.duckdb"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _ddl(name: str, columns: dict[str, str]) -> str:
    cols = ", ".join(f"{_q(c)} {t}" for c, t in columns.items())
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


class Store:
    """An open store. Use ``open_store(path)`` as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path

    # --- reading -----------------------------------------------------------------------------
    def table(self, name: str) -> pa.Table:
        """A whole canonical table as Arrow."""
        if name not in TABLES:
            raise StoreError(str(self.path), f"no table {name!r}", f"tables: {', '.join(TABLES)}")
        return self.con.sql(f"SELECT * FROM {name}").to_arrow_table()

    def count(self, name: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]

    def info(self) -> dict:
        """Row counts per table and one entry per loaded file (the JSON of ``entangle store info``)."""
        sources = self.con.execute(
            """SELECT source, path, sha256, rows_in, rows_loaded, rows_rejected, loaded_at
               FROM provenance ORDER BY loaded_at, path"""
        ).fetchall()
        keys = ("source", "path", "sha256", "rows_in", "rows_loaded", "rows_rejected", "loaded_at")
        return {
            "tables": {name: self.count(name) for name in TABLES},
            "sources": [
                {
                    k: (v.isoformat() if isinstance(v, dt.datetime) else v)
                    for k, v in zip(keys, row, strict=True)
                }
                for row in sources
            ],
        }

    def has_file(self, sha256: str, source: str) -> bool:
        """True when this file's content is already loaded as ``source`` (``csv`` covers ``csv:<name>``):
        the same bytes loaded as another source are a different load."""
        family = source.split(":")[0]
        return (
            self.con.execute(
                "SELECT count(*) FROM provenance WHERE sha256 = ? AND split_part(source, ':', 1) = ?",
                [sha256, family],
            ).fetchone()[0]
            > 0
        )

    def unmapped_actors(self, source: str | None = None, min_events: int = 1) -> list[dict]:
        """Actor names no rule mapped, with the number of events they appear in and those events'
        fatalities, most frequent first."""
        rows = self.con.execute(
            """
            WITH named AS (
                SELECT source, actor1 AS actor, event_id, fatalities_best FROM events
                WHERE actor1 IS NOT NULL AND actor1_rule IS NULL
                UNION
                SELECT source, actor2, event_id, fatalities_best FROM events
                WHERE actor2 IS NOT NULL AND actor2_rule IS NULL
            )
            SELECT source, actor, count(DISTINCT event_id) AS events,
                   coalesce(sum(fatalities_best), 0) AS fatalities
            FROM named WHERE ? IS NULL OR source = ? OR source LIKE ? || ':%'
            GROUP BY source, actor HAVING count(DISTINCT event_id) >= ?
            ORDER BY events DESC, fatalities DESC, actor
            """,
            [source, source, source, min_events],
        ).fetchall()
        return [{"source": s, "actor": a, "events": e, "fatalities": int(f)} for s, a, e, f in rows]

    # --- writing -----------------------------------------------------------------------------
    def write(
        self, result: LoadResult, path: str | Path, sha256: str, actor_map: pa.Table | None = None
    ) -> LoadResult:
        """Write one file's rows, rejects and provenance in a single transaction.

        Returns the result as stored: rows whose event id is already in the store move to the
        rejects. A file whose sha256 is already recorded is left alone and returned unchanged.
        """
        if self.has_file(sha256, result.source):
            return result
        kind = result.kind
        con = self.con
        # DuckDB would otherwise buffer a large insert in memory up to 80% of RAM; written blocks can
        # be evicted to the file, so a small budget costs nothing and keeps a 2M-row load under 2 GB.
        previous_limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        con.execute(f"SET memory_limit = '{WRITE_MEMORY_LIMIT}'")
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("incoming", result.table)
            self._add_missing_columns(kind, result.table.schema)
            if kind == "events":
                dupes = con.sql(
                    """SELECT i.line, 'event_id' AS "column",
                              'event id ' || i.event_id || ' already in the store (from '
                                  || coalesce(p.path, e.load_sha256) || ')' AS reason,
                              CAST(NULL AS VARCHAR) AS raw
                       FROM incoming i JOIN events e USING (event_id)
                       LEFT JOIN (SELECT sha256, any_value(path) AS path FROM provenance GROUP BY sha256) p
                           ON p.sha256 = e.load_sha256
                       ORDER BY i.line"""
                ).to_arrow_table()
                if dupes.num_rows:
                    kept = con.sql("SELECT i.* FROM incoming i ANTI JOIN events e USING (event_id)")
                    kept = kept.to_arrow_table()
                    rejects = pa.concat_tables([result.rejects, dupes.cast(result.rejects.schema)])
                    result = replace(result, table=kept, rejects=rejects)
                    con.unregister("incoming")
                    con.register("incoming", kept)
            con.execute(f"INSERT INTO {kind} BY NAME SELECT *, ? AS load_sha256 FROM incoming", [sha256])
            con.unregister("incoming")
            con.register("incoming_rejects", result.rejects)
            con.execute("INSERT INTO rejects BY NAME SELECT ? AS sha256, * FROM incoming_rejects", [sha256])
            con.unregister("incoming_rejects")
            con.execute(
                "INSERT INTO provenance BY NAME SELECT ? AS source, ? AS path, ? AS sha256, ? AS rows_in, "
                "? AS rows_loaded, ? AS rows_rejected, ? AS loader_version, now() AS loaded_at, ? AS kind, "
                "? AS source_version, ? AS notes",
                [
                    result.source,
                    str(Path(path).resolve()),
                    sha256,
                    result.rows_in,
                    result.rows_loaded,
                    result.rows_rejected,
                    f"entangle {__version__}",
                    kind,
                    result.source_version,
                    "; ".join(result.notes) or None,
                ],
            )
            if actor_map is not None:
                con.register("incoming_map", actor_map)
                con.execute(
                    "DELETE FROM actor_map WHERE version = ?", [actor_map.column("version")[0].as_py()]
                )
                con.execute("INSERT INTO actor_map BY NAME SELECT * FROM incoming_map")
                con.unregister("incoming_map")
            interrupts.check()  # a Ctrl-C that DuckDB swallowed must not end in a commit
            with interrupts.deferred():
                con.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            if is_interrupt(exc) or environment_error(exc) is not None:
                raise  # the CLI reports these (exit 130 / 2) naming the real cause
            import duckdb

            if isinstance(exc, duckdb.Error):
                raise StoreError(
                    str(self.path), f"write failed, store unchanged: {exc}", "see the message"
                ) from exc
            raise
        finally:
            with contextlib.suppress(Exception):
                con.execute(f"SET memory_limit = '{previous_limit}'")
        return result

    def _rollback(self) -> None:
        """Undo the open transaction. When the failure already ended it (DuckDB aborts a transaction
        whose write hit a full disk), ROLLBACK itself fails with "no transaction is active": that
        must not hide the real cause, which the caller re-raises."""
        with contextlib.suppress(Exception):
            self.con.execute("ROLLBACK")

    def _columns(self, name: str) -> list[str]:
        return [r[0] for r in self.con.execute(f"DESCRIBE {name}").fetchall()]

    def _add_missing_columns(self, name: str, schema: pa.Schema) -> None:
        """A loader may carry extra columns (the contract allows additions): add them to the table."""
        import duckdb

        existing = set(self._columns(name))
        for field in schema:
            if field.name not in existing:
                probe = duckdb.connect()
                try:
                    probe.register("p", pa.table({field.name: pa.array([], field.type)}))
                    sql_type = probe.execute("DESCRIBE p").fetchall()[0][1]
                finally:
                    probe.close()
                self.con.execute(f"ALTER TABLE {name} ADD COLUMN {_q(field.name)} {sql_type}")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_store(path: str | Path | None = None, read_only: bool = False) -> Store:
    """Open (creating if needed) the store at ``path`` (default: ``default_store_path()``)."""
    import duckdb

    path = Path(path) if path is not None else default_store_path()
    if read_only and not path.exists():
        raise StoreError(str(path), "no store here", "load data first with `entangle ingest`")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(path), read_only=read_only)
    except (OSError, duckdb.Error) as exc:
        failure = environment_error(exc)
        if failure is not None:  # a read-only or full disk, a directory in the way
            raise type(failure)(str(path), failure.what, failure.hint) from exc
        raise StoreError(str(path), f"cannot open the store: {exc}", "is another process using it?") from exc
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = false")  # row order carries no meaning in the store
    if not read_only:
        for name, columns in TABLES.items():
            extra = {"load_sha256": "VARCHAR"} if name in ("events", "sites") else {}
            con.execute(_ddl(name, {**columns, **extra}))
    return Store(con, path)
