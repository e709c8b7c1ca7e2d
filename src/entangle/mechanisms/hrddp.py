"""The HRDDP monitor: harm done by the forces a peacekeeping intervention supports, month by month.

The UN's Human Rights Due Diligence Policy on support to non-United Nations security forces
(A/67/775-S/2013/110, annex; transmitted by the Secretary-General on 25 February 2013) asks a UN
entity that supports such forces (training, financial, logistical and operational support, joint
operations) to assess the risk that the recipient commits grave violations of international
humanitarian, human rights or refugee law, to monitor it and to intervene. The policy gives no
numbers; guidance reads "grave violations" as violations on a significant scale or with some
frequency (docs/mechanisms.md). The monitor makes both readable from event data, against
thresholds the user sets and the output states:

- *scale*: one event in which the recipient killed at least ``scale_deaths`` civilians;
- *frequency*: at least ``frequency_events`` civilian-harm events by the recipient within the
  rolling ``window_months`` months ending in the month.

A *support tie* is a registry tie from a peacekeeping intervention to a non-UN security force
(kinds in ``RECIPIENT_KINDS``) of a type the policy covers (``SUPPORT_TYPES``). For every such tie
and every month of the study the monitor counts the civilian-harm events (``target_civilians``)
the recipient perpetrated (the event's mapped ``perpetrator`` is the recipient) and, separately,
those where the recipient is only an *associated* actor of the perpetrator's side (one of ACLED's
``assoc_actor_1`` names maps to it under the theatre's actor rules on the event's date). The
largest event is the perpetrated one with the most civilian fatalities; its nearest provider site
is the provider's nearest site active in that month.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from entangle.geo.distance import nearest_km
from entangle.registry import Registry
from entangle.registry.schema import Tie

SUPPORT_TYPES = (
    "logistical_support",
    "medevac",
    "training",
    "intelligence_sharing",
    "joint_operations",
    "financing",
)
RECIPIENT_KINDS = ("counterterrorism", "state_forces", "regional", "private_military")
POLICY = (
    "UN Human Rights Due Diligence Policy on United Nations support to non-United Nations security "
    "forces, A/67/775-S/2013/110, annex (identical letters of the Secretary-General, 25 February 2013)"
)
RECORD_FIELDS = (
    "tie_id",
    "provider",
    "recipient",
    "tie_type",
    "period",
    "tie_active",
    "events",
    "civilian_fatalities",
    "assoc_events",
    "assoc_civilian_fatalities",
    "largest_event",
    "nearest_provider_site",
    "nearest_provider_km",
    "flags",
)


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """When a month is flagged (entangle's defaults; the policy itself sets no numbers)."""

    scale_deaths: int = 10
    frequency_events: int = 3
    window_months: int = 3

    def describe(self) -> dict[str, str]:
        return {
            "scale": f"one event with >= {self.scale_deaths} civilian deaths by the recipient",
            "frequency": (
                f">= {self.frequency_events} civilian-harm events by the recipient within "
                f"{self.window_months} month(s) ending in the month"
            ),
        }


@dataclasses.dataclass(frozen=True)
class Monitor:
    """The monitor's output: the thresholds, one summary per tie, one record per tie and month."""

    thresholds: Thresholds
    start: dt.date
    end: dt.date
    ties: list[dict[str, Any]]
    records: list[dict[str, Any]]
    note: str = ""
    details: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # event_id -> place, actors

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": POLICY,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "thresholds": dataclasses.asdict(self.thresholds) | {"meaning": self.thresholds.describe()},
            "note": self.note,
            "ties": self.ties,
            "records": self.records,
            "incidents": incidents(self),
        }


def support_ties(registry: Registry) -> list[Tie]:
    """The registry's ties the HRDDP covers, in registry order (ties never in force are left out)."""
    kinds = {i.id: i.kind for i in registry.interventions}
    return [
        t
        for t in registry.ties
        if t.type in SUPPORT_TYPES
        and kinds.get(t.source_id) == "peacekeeping"
        and kinds.get(t.target_id) in RECIPIENT_KINDS
        and registry.tie_span(t) is not None
    ]


def _months(start: dt.date, end: dt.date) -> pd.PeriodIndex:
    return pd.period_range(pd.Period(start, "M"), pd.Period(end, "M"), freq="M")


def _active_months(span: tuple[dt.date, dt.date | None] | None, months: pd.PeriodIndex) -> np.ndarray:
    """True for the months the span overlaps (the panel's rule for ties and sites)."""
    if span is None:
        return np.zeros(len(months), dtype=bool)
    first = months.start_time.date
    last = months.end_time.date
    lo, hi = span
    return np.array([lo <= b and (hi is None or hi >= a) for a, b in zip(first, last, strict=True)])


def _associated(events: pd.DataFrame, recipient: str, registry: Registry) -> np.ndarray:
    """True where one of the perpetrator side's associated actors maps to ``recipient``."""
    out = np.zeros(len(events), dtype=bool)
    if "assoc_actor1" not in events or events["assoc_actor1"].isna().all():
        return out
    from entangle.sources.actors import load_actor_rules, rules_path

    rules = load_actor_rules(rules_path(registry), registry)
    for k, (source, names, day) in enumerate(
        zip(events["source"], events["assoc_actor1"], events["date_start"], strict=True)
    ):
        if not isinstance(names, str):
            continue
        applicable = rules.for_source(source)
        lo = pd.Timestamp(day).date()
        hi = lo + dt.timedelta(days=1)
        for name in (part.strip() for part in names.split(";")):
            rule = next((r for r in applicable if r.matches(name, None) and r.active(lo, hi)), None)
            if rule is not None and rule.intervention == recipient:
                out[k] = True
                break
    return out


def _largest(group: pd.DataFrame) -> dict[str, Any] | None:
    if group.empty:
        return None
    top = group.sort_values(["civilian_fatalities", "date_start", "event_id"], ascending=[False, True, True])
    row = top.iloc[0]
    place = row.get("location")
    if not isinstance(place, str) or not place:
        place = ", ".join(str(v) for v in (row.get("admin2"), row.get("admin1")) if isinstance(v, str))
    return {
        "event_id": row["event_id"],
        "date": pd.Timestamp(row["date_start"]).date().isoformat(),
        "location": place or None,
        "fatalities": int(row["civilian_fatalities"]),
        # not part of the record (its fields are fixed); kept for the incident table
        "_detail": {
            "lat": float(row["lat"]) if pd.notna(row["lat"]) else None,
            "lon": float(row["lon"]) if pd.notna(row["lon"]) else None,
            "admin1": row.get("admin1"),
            "event_type": row.get("event_type"),
            "actor1": row.get("actor1"),
            "actor2": row.get("actor2"),
            "source": row["source"],
            "source_version": row.get("source_version"),
        },
    }


def _nearest_site(
    sites: pd.DataFrame, month: pd.Period, lat: float, lon: float
) -> tuple[str | None, float | None]:
    first, last = month.start_time, month.end_time.normalize()
    active = sites[(sites["start"] <= last) & (sites["end"].isna() | (sites["end"] >= first))]
    if active.empty or lat is None or lon is None:
        return None, None
    km, index = nearest_km(
        np.array([lat]), np.array([lon]), active["lat"].to_numpy(), active["lon"].to_numpy()
    )
    return str(active["name"].iloc[int(index[0])]), round(float(km[0]), 1)


def _conditioning(registry: Registry, tie: Tie, span: tuple[dt.date, dt.date | None]) -> list[dict]:
    """The provider's mandates in force during the tie and what they say about support to the
    recipient: a ``support_to_partner`` term naming it (with its conditions), the ``hrddp``
    provision, a general ``human_rights`` provision."""
    lo, hi = span
    out = []
    for m in registry.mandates:
        if m.intervention_id != tie.source_id:
            continue
        if m.in_force_from <= (hi or dt.date.max) and (m.in_force_to is None or m.in_force_to >= lo):
            terms = [t for t in m.provision_terms if t.provision == "support_to_partner"]
            named = [t for t in terms if t.recipient == tie.target_id]
            out.append(
                {
                    "document": m.document,
                    "in_force_from": m.in_force_from.isoformat(),
                    "in_force_to": m.in_force_to.isoformat() if m.in_force_to else None,
                    "support_to_recipient": bool(named),
                    "conditions": sorted({c for t in named for c in t.conditions}),
                    # a plain `hrddp` provision covers all support; a term covers its recipient only
                    "hrddp": any("hrddp" in t.conditions for t in named)
                    or ("hrddp" in m.provisions and not any("hrddp" in t.conditions for t in terms)),
                    "human_rights": "human_rights" in m.provisions,
                }
            )
    return out


def _conditioned_months(mandates: list[dict], months: pd.PeriodIndex, active: np.ndarray) -> int:
    """Months of the active tie covered by a mandate in force with the HRDDP as a provision."""
    covered = np.zeros(len(months), dtype=bool)
    for m in mandates:
        if m["hrddp"]:
            span = (
                dt.date.fromisoformat(m["in_force_from"]),
                dt.date.fromisoformat(m["in_force_to"]) if m["in_force_to"] else None,
            )
            covered |= _active_months(span, months)
    return int((covered & active).sum())


def _phase(active: np.ndarray) -> np.ndarray:
    """'before', 'during' or 'after' the tie for each month."""
    if not active.any():
        return np.full(len(active), "outside", dtype=object)
    first, last = np.flatnonzero(active)[[0, -1]]
    idx = np.arange(len(active))
    return np.where(idx < first, "before", np.where(idx > last, "after", "during")).astype(object)


def _summary(
    tie: Tie, span, records: list[dict], registry: Registry, months: pd.PeriodIndex
) -> dict[str, Any]:
    active = np.array([r["tie_active"] for r in records], dtype=bool)
    phases = _phase(active)
    parts = {}
    for phase in ("before", "during", "after"):
        chosen = [r for r, p in zip(records, phases, strict=True) if p == phase]
        n = len(chosen)
        events = sum(r["events"] for r in chosen)
        deaths = sum(r["civilian_fatalities"] for r in chosen)
        parts[phase] = {
            "months": n,
            "events": events,
            "civilian_fatalities": deaths,
            "events_per_month": round(events / n, 3) if n else None,
            "civilian_fatalities_per_month": round(deaths / n, 3) if n else None,
            "assoc_events": sum(r["assoc_events"] for r in chosen),
            "assoc_civilian_fatalities": sum(r["assoc_civilian_fatalities"] for r in chosen),
            "flagged_months": sum(1 for r in chosen if r["flags"]),
        }
    mandates = _conditioning(registry, tie, span) if span else []
    return {
        "tie_id": tie.id,
        "provider": tie.source_id,
        "recipient": tie.target_id,
        "tie_type": tie.type,
        "start": span[0].isoformat() if span else None,
        "end": span[1].isoformat() if span and span[1] else None,
        "sources": [s.ref for s in tie.sources],
        "mandates": mandates,
        # "hrddp": a mandate in force names the HRDDP; "human_rights": only general human-rights terms
        "conditioned": (
            "hrddp"
            if any(m["hrddp"] for m in mandates)
            else "human_rights"
            if any(m["human_rights"] for m in mandates)
            else "none"
        ),
        "hrddp_months": _conditioned_months(mandates, months, active),
        **parts,
    }


def monitor(
    events: pd.DataFrame,
    sites: pd.DataFrame,
    registry: Registry,
    start: dt.date,
    end: dt.date,
    thresholds: Thresholds = Thresholds(),
) -> Monitor:
    """The HRDDP monitor over the months of [start, end] (see the module docstring)."""
    ties = support_ties(registry)
    if not ties:
        note = (
            f"The registry of theatre {registry.theatre.id!r} records no support tie from a peacekeeping "
            f"intervention to a non-UN security force of the kinds the HRDDP covers "
            f"({', '.join(SUPPORT_TYPES)}), so there is nothing to monitor."
        )
        return Monitor(thresholds, start, end, [], [], note)
    if len(events) == 0:  # zeros would read as "no harm": say that nothing could be counted
        ids = ", ".join(t.id for t in ties)
        note = f"no event data: harm by supported forces cannot be counted (support ties: {ids})"
        return Monitor(thresholds, start, end, [], [], note)
    months = _months(start, end)
    frame = events.copy()
    frame["date_start"] = pd.to_datetime(frame["date_start"])
    frame = frame[(frame["date_start"] >= pd.Timestamp(start)) & (frame["date_start"] <= pd.Timestamp(end))]
    harm = frame[frame["target_civilians"].fillna(False).astype(bool)].copy()
    harm["civilian_fatalities"] = harm["civilian_fatalities"].fillna(0).astype(int)
    harm["month"] = harm["date_start"].dt.to_period("M")
    by_recipient: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    summaries, records = [], []
    details: dict[str, dict[str, Any]] = {}
    for tie in ties:
        recipient = tie.target_id
        if recipient not in by_recipient:
            own = harm[harm["perpetrator"] == recipient]
            others = harm[harm["perpetrator"] != recipient]
            by_recipient[recipient] = (own, others[_associated(others, recipient, registry)])
        own, assoc = by_recipient[recipient]
        span = registry.tie_span(tie)
        active = _active_months(span, months)
        provider_sites = sites[sites["intervention_id"] == tie.source_id]
        own_by = dict(tuple(own.groupby("month")))
        assoc_by = dict(tuple(assoc.groupby("month")))
        counts = np.array([len(own_by.get(m, ())) for m in months])
        window = np.convolve(counts, np.ones(thresholds.window_months, dtype=int))[: len(months)]
        tie_records = []
        for k, month in enumerate(months):
            mine = own_by.get(month, own.iloc[:0])
            theirs = assoc_by.get(month, assoc.iloc[:0])
            largest = _largest(mine)
            site, km = (None, None)
            if largest is not None:
                detail = largest.pop("_detail")
                details[largest["event_id"]] = detail
                site, km = _nearest_site(provider_sites, month, detail["lat"], detail["lon"])
            flags = []
            if largest is not None and largest["fatalities"] >= thresholds.scale_deaths:
                flags.append("scale")
            if window[k] >= thresholds.frequency_events:
                flags.append("frequency")
            tie_records.append(
                {
                    "tie_id": tie.id,
                    "provider": tie.source_id,
                    "recipient": recipient,
                    "tie_type": tie.type,
                    "period": str(month),
                    "tie_active": bool(active[k]),
                    "events": len(mine),
                    "civilian_fatalities": int(mine["civilian_fatalities"].sum()),
                    "assoc_events": len(theirs),
                    "assoc_civilian_fatalities": int(theirs["civilian_fatalities"].sum()),
                    "largest_event": largest,
                    "nearest_provider_site": site,
                    "nearest_provider_km": km,
                    "flags": flags,
                }
            )
        summaries.append(_summary(tie, span, tie_records, registry, months))
        records += tie_records
    return Monitor(thresholds, start, end, summaries, records, details=details)


def incidents(result: Monitor, limit: int = 10) -> list[dict[str, Any]]:
    """The largest events by supported forces while a support tie was active, one row per event."""
    seen: dict[str, dict[str, Any]] = {}
    for record in result.records:
        event = record["largest_event"]
        if not record["tie_active"] or event is None:
            continue
        detail = result.details.get(event["event_id"], {})
        row = seen.setdefault(
            event["event_id"],
            {**event, **detail, "recipient": record["recipient"], "provider": record["provider"], "ties": []},
        )
        row["ties"].append(record["tie_type"])
        row["nearest_provider_site"] = record["nearest_provider_site"]
        row["nearest_provider_km"] = record["nearest_provider_km"]
    rows = sorted(seen.values(), key=lambda r: (-r["fatalities"], r["date"], r["event_id"]))
    return rows[:limit]


def csv_rows(result: Monitor) -> list[dict[str, Any]]:
    """Flat records for CSV: the largest event's fields as columns, flags joined by ';'."""
    out = []
    for record in result.records:
        event = record["largest_event"] or {}
        flat = {k: v for k, v in record.items() if k not in ("largest_event", "flags")}
        for key in ("event_id", "date", "location", "fatalities"):
            flat[f"largest_event_{key}"] = event.get(key)
        flat["flags"] = ";".join(record["flags"])
        out.append(flat)
    return out
