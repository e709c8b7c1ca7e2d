"""What counts as civilian harm: the study's definition, applied to events before they are assigned.

``[study.outcomes] civilian``:

- ``targeting`` (default): events that target civilians in the narrow sense, the events' own
  ``civilian_targeting`` (ACLED "Violence against civilians", or the current schema's
  civilian-targeting flag; UCDP one-sided violence, type 3); an event's civilian fatalities count
  only when it is such an event;
- ``any_civilian_victim``: every event the source codes with civilian victims, ``target_civilians``
  (ACLED also counts "Explosions/Remote violence" and "Riots" with civilians as actor 2 in the older
  schema) or with civilian deaths (UCDP ``deaths_civilians`` of any type of violence).

``civilian_fatalities`` and ``civilian_fatalities_<category>`` follow the definition; so do the
counts of civilian-harm events, ``civilian_events`` and ``civilian_events_<category>`` (by the
perpetrator's category). An events table without ``civilian_targeting`` (a store loaded before
the column existed, a hand-made table) falls back to the ACLED event type, the UCDP violence type,
then ``target_civilians``, then to every event with civilian fatalities.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from entangle.errors import PanelError

CIVILIAN_RULES = ("targeting", "any_civilian_victim")
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"


def _flag(events: pa.Table, name: str) -> np.ndarray | None:
    if name not in events.column_names:
        return None
    return np.asarray(pc.fill_null(events.column(name), False).to_numpy(zero_copy_only=False), dtype=bool)


def _equals(events: pa.Table, name: str, value: str) -> np.ndarray | None:
    """``column == value`` (NULL: False), computed in Arrow: fast on millions of strings."""
    if name not in events.column_names:
        return None
    column = events.column(name).cast(pa.string())
    return np.asarray(pc.fill_null(pc.equal(column, value), False).to_numpy(zero_copy_only=False), dtype=bool)


def _targeting(events: pa.Table, civilian_deaths: np.ndarray) -> np.ndarray:
    stored = events.column("civilian_targeting") if "civilian_targeting" in events.column_names else None
    known = np.zeros(events.num_rows, bool) if stored is None else pc.is_valid(stored).to_numpy(False)
    if stored is not None and known.all():
        return _flag(events, "civilian_targeting")
    flag = np.zeros(events.num_rows, bool) if stored is None else _flag(events, "civilian_targeting")
    target = _flag(events, "target_civilians")
    fallback = civilian_deaths > 0 if target is None else target
    acled, ucdp = _equals(events, "source", "acled"), _equals(events, "source", "ucdp")
    vac = _equals(events, "event_type", VIOLENCE_AGAINST_CIVILIANS)
    if acled is not None and vac is not None:
        fallback = np.where(acled, vac, fallback)
    one_sided = _equals(events, "violence_type", "one_sided")
    if ucdp is not None and one_sided is not None:
        fallback = np.where(ucdp, one_sided, fallback)
    return np.where(known, flag, fallback)


def apply_civilian_definition(events: pa.Table, rule: str) -> pa.Table:
    """Events with ``civilian_fatalities`` under ``rule`` and a 0/1 ``civilian_event`` column."""
    if rule not in CIVILIAN_RULES:
        raise PanelError(
            "outcomes.civilian", f"unknown definition {rule!r}", f"use {', '.join(CIVILIAN_RULES)}"
        )
    if "civilian_fatalities" not in events.column_names:
        return events  # the assignment step names the missing column
    deaths = pc.fill_null(events.column("civilian_fatalities").cast(pa.float64()), 0.0).to_numpy()
    if rule == "targeting":
        harm = _targeting(events, deaths)
    else:
        target = _flag(events, "target_civilians")
        harm = (deaths > 0) if target is None else (target | (deaths > 0))
    kept = pa.array(np.where(harm, deaths, 0.0)).cast(events.schema.field("civilian_fatalities").type)
    events = events.set_column(
        events.schema.get_field_index("civilian_fatalities"), "civilian_fatalities", kept
    )
    return events.append_column("civilian_event", pa.array(harm.astype(np.float64)))
