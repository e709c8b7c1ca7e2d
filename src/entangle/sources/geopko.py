"""Geo-PKO (Cil, Fjelde, Hultman & Nilsson 2020, Uppsala University): UN deployments by location.

Layouts read, recognised from the header:

- ``v1`` map-level (``geopko_ccode.csv`` of the Geo-PKO dashboard, v1.x, Africa 1994-2018): one row
  per deployment location on one UN deployment map (``Source`` e.g. "Map No. 4506 Rev.3"), with the
  map's ``year`` and ``month``. A row covers that calendar month. Troops: ``No.troops``.
- ``v2-map`` map-level (``Geo_PKO_v.2.x_location_map.csv``): the same unit with lower-case columns
  (``mission, year, month, location, latitude, longitude, no.troops, no.tcc, hq ...``), as read by the
  Geo-PKO team's own scripts. No real v2 map-level file was available to test against.
- ``v2-front``, ``v2-types``, ``v2-tcc`` mission-year-location summaries of the dashboard
  (``FrontMap``, ``TTMap``, ``TCCMap`` v2.3): a row covers the calendar year. FrontMap lists each
  distinct per-map troop count of a location-year on its own row, all carrying the year's mean over
  maps in ``ave.no.troops``; those rows are folded into one site row (troops = that mean, every count
  kept in ``troops_raw``) and the extra rows are rejected as "folded into line N", so each input row
  is accounted for. TTMap and TCCMap carry no troop totals: their sites have ``troops`` NULL and the
  unit-type counts or contributor overview in ``attributes``.

Lines are decoded one by one (UTF-8, else cp1252), because the v1 file mixes both. Troop cells that
are not numbers ("NA", "unknown", ranges) leave ``troops`` NULL, keep the text in ``troops_raw`` and
are counted in the notes. Troop numbers in Geo-PKO are estimated from unit symbols on the maps.

``site_type``: ``hq`` where the HQ column is 3 (the mission headquarters, as the Geo-PKO team's own
scripts read it: Bamako for MINUSMA), else ``camp``. Codes 1 and 2 mark lower-level headquarters
(MINUSMA's sector headquarters at Gao, Timbuktu and Kidal, the camps holding most of its troops): those
stay camps, the code kept in ``attributes``, so that leaving out headquarters leaves out the capital
and not the field.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from entangle.sources.base import FOLDED, LoadResult
from entangle.sources.deployments import (
    RegistryLike,
    SiteMatcher,
    SiteRows,
    TextTable,
    as_dicts,
    coordinate_problem,
    is_missing,
    month_span,
    parse_number,
    parse_troops,
    read_text_table,
    reading_notes,
    require_columns,
    year_span,
)


@dataclass(frozen=True)
class Layout:
    name: str
    label: str
    required: tuple[str, ...]
    mission: str
    troops: str | None
    monthly: bool
    extras: tuple[str, ...] = ()  # kept in ``attributes`` when present and not missing
    country: str | None = None
    iso3: tuple[str, ...] = ()


_COORDS = ("location", "latitude", "longitude")
LAYOUTS = (
    Layout(
        "v1",
        "map-level",
        ("Source", "Mission", "year", "month", *_COORDS, "No.troops"),
        "Mission",
        "No.troops",
        True,
        ("Source", "HQ", "No.TCC", "UNPOL..dummy.", "UNMO..dummy.", "RPF_No", "RES_No", "FP_No"),
        "country",
        ("alpha_3",),
    ),
    Layout(
        "v2-map",
        "map-level",
        ("mission", "year", "month", *_COORDS, "no.troops"),
        "mission",
        "no.troops",
        True,
        ("source", "hq", "no.tcc", "unpol.dummy", "unmo.dummy"),
        "country",
        ("iso3c", "alpha_3"),
    ),
    Layout(
        "v2-front",
        "FrontMap mission-year-location",
        ("mission", "year", *_COORDS, "NoTroops", "ave.no.troops"),
        "mission",
        "NoTroops",
        False,
        ("Infantry", "Reserve", "hq", "UNPOL", "Med", "Av", "UNMO"),
        "country",
    ),
    Layout(
        "v2-types",
        "TTMap mission-year-location troop types",
        ("mission", "year", *_COORDS, "Infantry", "eng", "med", "sig", "av", "riv", "maint", "trans"),
        "mission",
        None,
        False,
        ("Infantry", "eng", "med", "sig", "av", "riv", "maint", "trans"),
    ),
    Layout(
        "v2-tcc",
        "TCCMap mission-year-location contributors",
        ("mission", "year", *_COORDS, "No.TCC", "year.overview"),
        "mission",
        None,
        False,
        ("No.TCC", "year.overview"),
    ),
)
LAYOUT_NAMES = ", ".join(f"{lay.name} ({lay.label})" for lay in LAYOUTS)


def detect_layout(path: Path, header: list[str]) -> Layout:
    """The layout whose required columns the header has; else name the closest and what it lacks."""
    columns = set(header)
    for layout in LAYOUTS:
        if columns.issuperset(layout.required):
            return layout
    closest = max(LAYOUTS, key=lambda lay: len(columns.intersection(lay.required)))
    require_columns(path, header, closest.required, LAYOUT_NAMES)
    raise AssertionError("unreachable: require_columns raises for a layout the header lacks")


def _version(path: Path, layout: Layout) -> str:
    found = re.search(r"v\.?_?(\d+(?:\.\d+)?)", path.name, flags=re.IGNORECASE)
    number = found.group(1) if found else ("1.x" if layout.name == "v1" else "2.x")
    return f"Geo-PKO {number} {layout.label}"


def read_geopko(path: str | Path, registry: RegistryLike | None = None) -> LoadResult:
    """Read a Geo-PKO file into canonical ``sites`` rows matched to ``registry``.

    ``registry`` defaults to the bundled theatre (``entangle.registry.load_registry()``).
    """
    path = Path(path)
    table = read_text_table(path)
    layout = detect_layout(path, table.header)
    if registry is None:
        from entangle.registry import load_registry

        registry = load_registry()
    rows = SiteRows("geopko", _version(path, layout), SiteMatcher(registry))
    troop_text: Counter = Counter()
    if layout.monthly:
        _read_map_level(table, layout, rows, troop_text)
    else:
        _read_yearly(table, layout, rows, troop_text)
    sites, rejects = rows.tables()
    notes = [f"layout {layout.name}: {layout.label}"]
    notes += reading_notes(table.fallback_lines, troop_text, layout.troops)
    folded = sum(1 for reason in rejects.column("reason").to_pylist() if reason.startswith(FOLDED))
    if folded:
        notes.append(
            f"{folded} rows repeat a location-year with another per-map troop count: folded into that "
            f"location-year's row (troops = the year's mean, every count in troops_raw) and listed in "
            f"rejects as '{FOLDED} N'"
        )
    if layout.troops is None:
        notes.append("this layout carries no troop totals: troops is NULL on every row")
    other = _other_troop_cells(table, layout)
    if other:
        shown = ", ".join(f"{text!r} {n}" for text, n in other.most_common(4))
        notes.append(f"{sum(other.values())} per-contributor troop cells were not numeric ({shown})")
    notes += rows.match_notes()
    return LoadResult(
        source="geopko",
        kind="sites",
        table=sites,
        rejects=rejects,
        rows_in=len(table.records),
        rows_folded=folded,
        source_version=rows.source_version,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class _Row:
    line: int
    record: dict[str, str]
    mission: str
    name: str
    year: int
    month: int | None
    lat: float | None
    lon: float | None


def _parse(line: int, rec: dict[str, str], layout: Layout, rows: SiteRows) -> _Row | None:
    """The fields every layout shares, or None after rejecting the row with its reason."""
    mission, name = rec[layout.mission].strip(), rec["location"].strip()
    if is_missing(mission):
        rows.reject(line, layout.mission, "mission missing", rec)
        return None
    if is_missing(name):
        rows.reject(line, "location", "location missing", rec)
        return None
    year = parse_number(rec["year"])
    if year is None or not year.is_integer() or not 1900 <= year <= 2100:
        rows.reject(line, "year", f"year {rec['year']!r} is not a year", rec)
        return None
    month = None
    if layout.monthly:
        month = parse_number(rec["month"])
        if month is None or not month.is_integer() or not 1 <= month <= 12:
            rows.reject(line, "month", f"month {rec['month']!r} is not 1-12", rec)
            return None
    lat, lon = parse_number(rec["latitude"]), parse_number(rec["longitude"])
    problem = coordinate_problem(lat, lon)
    if problem and lat is not None and lon is not None:  # present but impossible: never guess
        rows.reject(line, "latitude", problem, rec)
        return None
    if problem:  # missing: the registry may know the place by name
        lat = lon = None
    return _Row(line, rec, mission, name, int(year), None if month is None else int(month), lat, lon)


MISSION_HQ_CODE = 3


def site_type(hq_cell: str | None) -> str:
    """``hq`` for the mission headquarters (HQ code 3), else ``camp``."""
    code = parse_number(hq_cell)
    return "hq" if code == MISSION_HQ_CODE else "camp"


def _extras(rec: dict[str, str], layout: Layout) -> dict[str, Any]:
    return {col: rec[col].strip() for col in layout.extras if col in rec and not is_missing(rec[col])}


def _country(rec: dict[str, str], layout: Layout) -> tuple[str | None, str | None]:
    country = rec.get(layout.country or "", "").strip() or None
    iso3 = next((rec[c].strip() for c in layout.iso3 if c in rec and not is_missing(rec[c])), None)
    return country, iso3


def _read_map_level(table: TextTable, layout: Layout, rows: SiteRows, troop_text: Counter) -> None:
    tcc_names = [c for c in table.header if re.fullmatch(r"(name\.of\.TCC|nameoftcc_)\d+", c)]
    for line, rec in as_dicts(table, rows):
        row = _parse(line, rec, layout, rows)
        if row is None:
            continue
        raw_troops = rec[layout.troops].strip()
        troops = parse_troops(raw_troops)
        if troops is None and raw_troops:
            troop_text[raw_troops] += 1
        start, end = month_span(row.year, row.month)
        attributes = _extras(rec, layout)
        contributors = [rec[c].strip() for c in tcc_names if not is_missing(rec[c])]
        if contributors:
            attributes["contributors"] = contributors
        country, iso3 = _country(rec, layout)
        rows.add(
            line=line,
            mission=row.mission,
            name=row.name,
            lat=row.lat,
            lon=row.lon,
            start=start,
            end=end,
            period="month",
            troops=troops,
            troops_raw=raw_troops or None,
            country=country,
            country_iso3=iso3,
            attributes=attributes,
            raw=rec,
            site_type=site_type(rec.get("HQ", rec.get("hq"))),
        )


def _read_yearly(table: TextTable, layout: Layout, rows: SiteRows, troop_text: Counter) -> None:
    groups: dict[tuple, list[_Row]] = {}
    for line, rec in as_dicts(table, rows):
        row = _parse(line, rec, layout, rows)
        if row is not None:
            key = (row.mission, row.year, row.name, row.lat, row.lon)
            groups.setdefault(key, []).append(row)
    for members in groups.values():
        first = members[0]
        for extra in members[1:]:
            rows.reject(
                extra.line,
                None,
                f"{FOLDED} {first.line}: same mission, year and location "
                "(one row per distinct per-map troop count; the year's mean is kept)",
                extra.record,
            )
        troops, raw = None, None
        attributes = _extras(first.record, layout)
        if layout.troops is not None:
            cells = [m.record[layout.troops].strip() for m in members]
            for cell in cells:
                if parse_troops(cell) is None and cell:
                    troop_text[cell] += 1
            counts = [parse_number(c) for c in cells if parse_troops(c) is not None]
            mean = parse_number(first.record["ave.no.troops"])
            if mean is not None and mean >= 0:
                troops = round(mean)
            elif counts:
                troops = round(fmean(counts))
            raw = "|".join(cells)
            if counts:
                attributes["troops_max"] = round(max(counts))
            if "hq" in first.record:  # the HQ code differs between a location-year's maps
                codes = [parse_number(m.record["hq"]) for m in members]
                attributes["hq"] = str(round(max((c for c in codes if c is not None), default=0)))
        start, end = year_span(first.year)
        country, iso3 = _country(first.record, layout)
        rows.add(
            line=first.line,
            mission=first.mission,
            name=first.name,
            lat=first.lat,
            lon=first.lon,
            start=start,
            end=end,
            period="year",
            troops=troops,
            troops_raw=raw,
            country=country,
            country_iso3=iso3,
            attributes=attributes,
            raw=first.record,
            site_type=site_type(attributes.get("hq")),
        )


def _other_troop_cells(table: TextTable, layout: Layout) -> Counter:
    """Non-numeric text in per-contributor troop columns (e.g. v1 'No.troops.per.TCC1' = 'unknown')."""
    own = (layout.troops, "ave.no.troops")
    columns = [i for i, c in enumerate(table.header) if "troops" in c.lower() and c not in own]
    found: Counter = Counter()
    for _, cells in table.records:
        for i in columns:
            if i < len(cells) and not is_missing(cells[i]) and parse_number(cells[i]) is None:
                found[cells[i].strip()] += 1
    return found
