"""Run the panel SQL on an in-memory DuckDB connection."""

from __future__ import annotations

import threading

import pyarrow as pa

_DATABASE: list = []  # one in-memory database; each run takes its own cursor on it
_LOCK = threading.Lock()


def _connect():
    with _LOCK:
        if not _DATABASE:
            import duckdb

            _DATABASE.append(duckdb.connect())
        # A cursor's registered tables and TEMP tables are its own and go when it closes; it costs a
        # tenth of a new database.
        return _DATABASE[0].cursor()


def run(tables: dict[str, pa.Table], queries: dict[str, str]) -> dict[str, pa.Table]:
    """Register ``tables`` as views, run ``queries`` in order (each becomes a view named by its key)."""
    con = _connect()
    try:
        for name, table in tables.items():
            con.register(name, table)
        out = {}
        for name, sql in queries.items():
            con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
            out[name] = con.sql(f"SELECT * FROM {name}").to_arrow_table()
        return out
    finally:
        con.close()
