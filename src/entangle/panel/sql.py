"""The panel's relational logic, written once as SQL that DuckDB and Spark SQL both run.

Input views: ``assigned`` (one row per event share: ``unit_idx``, ``period_idx``, weight ``w`` and
the event's outcome fields, from ``entangle.geo.assign``) and ``neighbours`` (``unit_idx``,
``nb_idx``, ``n_nb``: each unit's queen neighbours and their number). Outputs are sparse (only
unit-periods with something in them); the panel builder densifies them.
Only portable SQL is used: CASE, SUM, MIN, CAST, JOIN, GROUP BY.
"""

from __future__ import annotations

import re

from entangle.geo.assign import CATEGORIES


def slug(value: str) -> str:
    """A column-safe snake_case form of a category value ('Violence against civilians' -> ...)."""
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_") or "unknown"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def outcome_exprs(violence_types: list[str]) -> dict[str, str]:
    """Outcome column -> SQL aggregate over ``assigned``. Types with the same slug are merged."""
    by_slug: dict[str, list[str]] = {}
    for value in violence_types:
        by_slug.setdefault(slug(value), []).append(value)
    exprs = {"events": "SUM(w)", "fatalities": "SUM(w * fatalities)"}
    for name, values in sorted(by_slug.items()):
        cond = f"violence_type IN ({', '.join(_literal(v) for v in values)})"
        exprs[f"events_{name}"] = f"SUM(CASE WHEN {cond} THEN w ELSE 0.0 END)"
        exprs[f"fatalities_{name}"] = f"SUM(CASE WHEN {cond} THEN w * fatalities ELSE 0.0 END)"
    exprs["civilian_fatalities"] = "SUM(w * civilian_fatalities)"
    for cat in CATEGORIES:
        exprs[f"civilian_fatalities_{cat}"] = (
            f"SUM(CASE WHEN perpetrator_category = {_literal(cat)} THEN w * civilian_fatalities ELSE 0.0 END)"
        )
    exprs["attacks_on_peacekeepers"] = "SUM(CASE WHEN target_peacekeepers THEN w ELSE 0.0 END)"
    return exprs


def outcomes_sql(exprs: dict[str, str]) -> str:
    """Sparse outcomes per (unit_idx, period_idx)."""
    cols = ",\n  ".join(f"CAST({expr} AS DOUBLE) AS {name}" for name, expr in exprs.items())
    return f"SELECT unit_idx, period_idx,\n  {cols}\nFROM assigned\nGROUP BY unit_idx, period_idx"


def lags_sql(outcomes: list[str]) -> str:
    """Sparse spatial lags: the mean of each outcome over a unit's queen neighbours.

    Neighbours with no row in ``outcomes`` contribute zeros, so the sum over present rows divided by
    the unit's full neighbour count is the mean over all its neighbours.
    """
    cols = ",\n  ".join(f"SUM(o.{name}) / MIN(nb.n_nb) AS lag_{name}" for name in outcomes)
    return (
        f"SELECT nb.unit_idx AS unit_idx, o.period_idx AS period_idx,\n  {cols}\n"
        "FROM outcomes o JOIN neighbours nb ON o.unit_idx = nb.nb_idx\n"
        "GROUP BY nb.unit_idx, o.period_idx"
    )
