"""What an analyst should double-check before citing a registry: weak sources, vague dates, inferred spans.

``audit(registry)`` lists one finding per fact and issue, in file order:

* ``best_source``: the fact's best source is only ``press`` or ``aggregator`` (or nothing is graded);
* ``precision``: a start or end known only to the month or year;
* ``inferred``: a span no source states (``inferred: true``).
"""

from __future__ import annotations

from entangle.registry.model import Registry
from entangle.registry.schema import GRADE_RANK, Mandate, best_grade

FINDINGS = ("best_source", "precision", "inferred")
# Below `research`: a named outlet or a copy. `None` (nothing graded) sorts lowest.
_WEAK = GRADE_RANK["press"]


def fact_id(item: object) -> str:
    """How a fact is named in findings: its id, or ``intervention document`` for a mandate."""
    if isinstance(item, Mandate):
        return f"{item.intervention_id} {item.document}"
    return item.id  # type: ignore[attr-defined]


def audit(registry: Registry) -> list[dict]:
    """One dict per finding: ``table``, ``id``, ``finding``, ``value`` and ``detail``."""
    rows: list[dict] = []
    tables = {
        "interventions": registry.interventions,
        "mandates": registry.mandates,
        "ties": registry.ties,
        "sites": registry.sites,
    }
    for table, items in tables.items():
        for item in items:
            rows.extend(_findings(table, item))
    return rows


def _findings(table: str, item) -> list[dict]:
    found = []

    def add(finding: str, value: str, detail: str) -> None:
        found.append(
            {"table": table, "id": fact_id(item), "finding": finding, "value": value, "detail": detail}
        )

    best = best_grade(item.sources)
    if best is None or GRADE_RANK[best] <= _WEAK:
        grades = ", ".join(s.grade or "ungraded" for s in item.sources)
        add("best_source", best or "ungraded", f"{len(item.sources)} source(s): {grades}")
    if not isinstance(item, Mandate):
        for end in ("start", "end"):
            precision = getattr(item, f"{end}_precision")
            day = getattr(item, end)
            if precision != "day" and day is not None:
                add("precision", precision, f"{end} {day.isoformat()} known to the {precision}")
        if item.inferred:
            end = item.end.isoformat() if item.end else "ongoing"
            add("inferred", "true", f"{item.start.isoformat()}..{end}; see its note")
    return found
