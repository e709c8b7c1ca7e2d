"""RADPKO (Hunnicutt & Nomikos 2020, dapp-lab.org): UN peacekeepers by base, monthly or yearly.

Assumed layout. No RADPKO file was available here; the columns below are those the RADPKO team's
own interface code reads from its base-level release (``radpko_bases_cc.csv``) and writes for the
yearly summary, and those third-party replication scripts read from ``radpko_bases.csv``:

- identity: ``mission``, ``country``, ``base`` (the interface's download calls it ``id``),
  ``latitude``, ``longitude`` (missing for some bases), optionally ``gid`` (PRIO-GRID cell);
- time: ``date`` (``YYYY-MM-DD``, one row per base-month) in the monthly file; the yearly file
  adds ``year`` and keeps ``date`` as the first month of that year, its counts being means over
  the year's months (so fractional);
- personnel: ``pko_deployed`` (all peacekeepers), ``untrp`` (troops), ``unpol`` (police),
  ``unmob`` (military observers), ``f_*`` for women, per-contributor ``<country>_<type>`` and
  regional ``afr_*``/``asian_*``/``west_*`` counts, and ``cc`` (contributors joined by ``|``).

``troops`` is ``untrp`` when the file has it, else ``pko_deployed``; yearly means are rounded and
the text is kept in ``troops_raw``. A monthly row covers its calendar month, a yearly row its
calendar year. ``period="auto"`` reads a file as yearly when it has a ``year`` column and one row
per mission, base and year, else as monthly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Literal

from entangle.errors import InputError
from entangle.sources.base import LoadResult
from entangle.sources.deployments import (
    RegistryLike,
    SiteMatcher,
    SiteRows,
    as_dicts,
    coordinate_problem,
    is_missing,
    month_span,
    parse_number,
    parse_troops,
    read_text_table,
    reading_notes,
    year_span,
)

Period = Literal["auto", "month", "year"]
LAYOUT = "mission, base (or id), date and/or year, untrp or pko_deployed; latitude/longitude optional"
KEPT = ("pko_deployed", "untrp", "unpol", "unmob", "f_pko", "f_untrp", "gid", "cc")


def _first_present(header: list[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in header), None)


def _date(cell: str) -> dt.date | None:
    found = re.fullmatch(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T].*)?", cell.strip())
    if not found:
        return None
    try:
        return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3) or 1))
    except ValueError:
        return None


def read_radpko(
    path: str | Path, registry: RegistryLike | None = None, period: Period = "auto"
) -> LoadResult:
    """Read a RADPKO base-level file (monthly or yearly) into canonical ``sites`` rows."""
    path = Path(path)
    table = read_text_table(path)
    header = table.header
    base_col = _first_present(header, ("base", "id"))
    troops_col = _first_present(header, ("untrp", "pko_deployed"))
    has_date, has_year = "date" in header, "year" in header
    missing = [
        label
        for label, ok in (
            ("mission", "mission" in header),
            ("base (or id)", base_col is not None),
            ("date or year", has_date or has_year),
            ("untrp or pko_deployed", troops_col is not None),
        )
        if not ok
    ]
    if missing:
        raise InputError(f"{path}:1", f"missing column(s) {', '.join(missing)}", f"RADPKO layout: {LAYOUT}")
    if registry is None:
        from entangle.registry import load_registry

        registry = load_registry()
    rows = SiteRows("radpko", "RADPKO base-level", SiteMatcher(registry))
    records = list(as_dicts(table, rows))
    yearly = _is_yearly(records, base_col) if period == "auto" else period == "year"
    rows.source_version = f"RADPKO base-level {'yearly' if yearly else 'monthly'}"
    troop_text: Counter = Counter()
    has_coords = "latitude" in header and "longitude" in header
    for line, rec in records:
        mission, name = rec["mission"].strip(), rec[base_col].strip()
        if is_missing(mission):
            rows.reject(line, "mission", "mission missing", rec)
            continue
        if is_missing(name):
            rows.reject(line, base_col, "base missing", rec)
            continue
        span = _span(rec, yearly)
        if span is None:
            column = "year" if yearly and has_year else "date"
            rows.reject(line, column, f"{column} {rec.get(column, '')!r} is not a valid {column}", rec)
            continue
        lat = lon = None
        if has_coords:
            lat, lon = parse_number(rec["latitude"]), parse_number(rec["longitude"])
            problem = coordinate_problem(lat, lon)
            if problem and lat is not None and lon is not None:
                rows.reject(line, "latitude", problem, rec)
                continue
            if problem:
                lat = lon = None
        raw = rec[troops_col].strip()
        troops = parse_troops(raw)
        if troops is None and raw:
            troop_text[raw] += 1
        rows.add(
            line=line,
            mission=mission,
            name=name,
            lat=lat,
            lon=lon,
            start=span[0],
            end=span[1],
            period="year" if yearly else "month",
            troops=troops,
            troops_raw=raw or None,
            country=rec.get("country", "").strip() or None,
            attributes={c: rec[c].strip() for c in KEPT if c in rec and not is_missing(rec[c])},
            raw=rec,
        )
    sites, rejects = rows.tables()
    notes = [f"{'yearly' if yearly else 'monthly'} rows; troops from column {troops_col}"]
    notes += reading_notes(table.fallback_lines, troop_text, troops_col)
    if not has_coords:
        notes.append("the file has no latitude/longitude: coordinates come from matched registry sites")
    notes += rows.match_notes()
    return LoadResult(
        source="radpko",
        kind="sites",
        table=sites,
        rejects=rejects,
        rows_in=len(table.records),
        source_version=rows.source_version,
        notes=tuple(notes),
    )


def _is_yearly(records: list[tuple[int, dict[str, str]]], base_col: str) -> bool:
    if not records or "year" not in records[0][1]:
        return False
    keys = Counter((rec["mission"], rec[base_col], rec["year"]) for _, rec in records)
    return max(keys.values()) == 1


def _span(rec: dict[str, str], yearly: bool) -> tuple[dt.date, dt.date] | None:
    """The calendar month or year a row covers, from ``date`` or ``year``."""
    day = _date(rec["date"]) if "date" in rec and not is_missing(rec["date"]) else None
    if yearly:
        year = parse_number(rec.get("year"))
        if year is not None and year.is_integer() and 1900 <= year <= 2100:
            return year_span(int(year))
        return year_span(day.year) if day else None
    return month_span(day.year, day.month) if day else None
