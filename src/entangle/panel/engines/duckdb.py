"""Run the panel SQL on an in-memory DuckDB connection."""

from __future__ import annotations

import pyarrow as pa


def run(tables: dict[str, pa.Table], queries: dict[str, str]) -> dict[str, pa.Table]:
    """Register ``tables`` as views, run ``queries`` in order (each becomes a view named by its key)."""
    import duckdb

    con = duckdb.connect()
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
