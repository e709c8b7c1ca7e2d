"""Engines that run the panel's SQL: each takes Arrow tables and ordered queries, returns Arrow tables."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from entangle.errors import PanelError

Runner = Callable[[dict[str, pa.Table], dict[str, str]], dict[str, pa.Table]]


def get_engine(name: str) -> Runner:
    """The ``run`` function of an engine: ``duckdb`` (default, embedded) or ``spark`` (optional extra)."""
    if name == "duckdb":
        from entangle.panel.engines.duckdb import run
    elif name == "spark":
        from entangle.panel.engines.spark import run
    else:
        raise PanelError("engine", f"unknown engine {name!r}", "use duckdb or spark")
    return run
