"""What the deployment loaders (Geo-PKO, RADPKO) share.

Reading a delimited text file whose lines mix encodings, parsing troop cells that are not
always numbers, matching mission names and locations to the registry, and assembling the
canonical ``sites`` table plus rejects. The loaders themselves only know their layouts.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from entangle.errors import InputError
from entangle.geo.distance import great_circle_km
from entangle.registry.places import normalize_place
from entangle.sources.base import REJECTS_SCHEMA

MATCH_RADIUS_KM = 25.0
MISSING_CELLS = frozenset({"", "na", "n/a", "nan", "null", "none", "."})

SITES_SCHEMA = pa.schema(
    [
        ("site_id", pa.string()),  # '<source>:<mission>:<location>:<period>', unique in a load
        ("source", pa.string()),
        ("source_version", pa.string()),
        ("intervention_id", pa.string()),  # NULL when the mission matches no registry intervention
        ("registry_site_id", pa.string()),  # NULL when the location matches no registry site
        ("match_method", pa.string()),  # 'name', 'proximity' or NULL
        ("match_km", pa.float64()),  # distance to the matched registry site
        ("mission", pa.string()),
        ("name", pa.string()),
        ("country", pa.string()),
        ("country_iso3", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("start", pa.date32()),
        ("end", pa.date32()),
        ("period", pa.string()),  # 'month' or 'year': what one row covers
        ("troops", pa.int64()),
        ("troops_raw", pa.string()),  # the troop cell as written in the file
        ("site_type", pa.string()),  # hq, camp, temporary_base, liaison, training, other
        ("line", pa.int64()),  # 1-based line of the row in the input file
        ("attributes", pa.string()),  # JSON of the layout's other columns worth keeping
    ]
)


class RegistryLike(Protocol):
    """The part of ``entangle.registry.Registry`` the deployment loaders use."""

    interventions: Iterable[Any]
    sites: Iterable[Any]


@dataclass(frozen=True)
class TextTable:
    """A delimited file decoded line by line: header, records with their first line number."""

    header: list[str]
    records: list[tuple[int, list[str]]]
    fallback_lines: int  # physical lines that were not valid UTF-8


def decode_lines(raw: bytes) -> tuple[str, int]:
    """Decode each physical line as UTF-8, else cp1252, else latin-1; count the fallbacks.

    Real Geo-PKO files mix UTF-8 lines with cp1252 ones, so one encoding for the whole file
    garbles one half or the other.
    """
    lines = raw.split(b"\n")
    fallbacks = 0
    out = []
    for line in lines:
        try:
            out.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            fallbacks += 1
        try:
            out.append(line.decode("cp1252"))
        except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8d, ...)
            out.append(line.decode("latin-1"))
    return "\n".join(out), fallbacks


def read_text_table(path: Path) -> TextTable:
    """Read a delimited text file; refuse empty, binary and headerless files with one clear error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(str(path), "file not found", "check the path") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read the file: {exc.strerror}", None) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise InputError(str(path), "the file is empty", "expected a CSV with a header line")
    if b"\x00" in raw[:65536]:
        raise InputError(str(path), "a binary file, not delimited text", "unzip it or export it as CSV")
    text, fallbacks = decode_lines(raw)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)  # Excel exports in many locales use ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
        records = []
        start = reader.line_num + 1
        for row in reader:
            if any(cell.strip() for cell in row):
                records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}", f"malformed CSV: {exc}", None) from None
    return TextTable(header=header, records=records, fallback_lines=fallbacks)


def reading_notes(fallback_lines: int, troop_text: Counter, troops_column: str | None) -> list[str]:
    """The notes every deployment reader gives: lines decoded as cp1252, non-numeric troop cells."""
    notes = []
    if fallback_lines:
        notes.append(f"{fallback_lines} lines were not valid UTF-8 and were decoded as cp1252")
    if troop_text:
        shown = ", ".join(f"{text!r} {n}" for text, n in troop_text.most_common(6))
        notes.append(
            f"{sum(troop_text.values())} {troops_column} cells were not numeric ({shown}): "
            "troops NULL, text kept in troops_raw"
        )
    return notes


def is_missing(cell: str | None) -> bool:
    return cell is None or cell.strip().casefold() in MISSING_CELLS


def parse_number(cell: str | None) -> float | None:
    """A finite number written plainly ('1050', '1050.0', '1,050'), else None."""
    if is_missing(cell):
        return None
    text = cell.strip()
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_troops(cell: str | None) -> int | None:
    """Troops as a non-negative whole number (means are rounded); None for 'NA', 'unknown', '100-200'."""
    value = parse_number(cell)
    if value is None or value < 0:
        return None
    return round(value)


def month_span(year: int, month: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def year_span(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def coordinate_problem(lat: float | None, lon: float | None) -> str | None:
    """Why a coordinate pair is unusable, or None when it is fine."""
    if lat is None or lon is None:
        return "latitude or longitude missing or not a number"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        swapped = -90 <= lon <= 90 and -180 <= lat <= 180
        return "latitude/longitude out of range" + (" (swapped?)" if swapped else "")
    return None


def name_variants(name: str) -> list[str]:
    """Normalised spellings to try: the whole name, then its parts.

    Sources write 'Tombouctou (Timbuktu)' or 'Mopti/Sevare'; a registry site may be known by any part.
    """
    parts = [name]
    inner = re.findall(r"\(([^)]*)\)", name)
    outer = re.sub(r"\([^)]*\)", " ", name)
    parts += [outer, *inner]
    for piece in (outer, *inner):
        parts += re.split(r"[/,;]| - ", piece)
    seen: list[str] = []
    for part in parts:
        key = normalize_place(part)
        if key and key not in seen:
            seen.append(key)
    return seen


@dataclass(frozen=True)
class SiteMatch:
    registry_site_id: str | None
    method: str | None
    km: float | None
    lat: float | None = None  # the registry site's coordinates, used when a row has none
    lon: float | None = None


class SiteMatcher:
    """Map mission names to registry interventions and locations to registry sites.

    A mission matches an intervention by id, name or the acronym in its name's parentheses.
    A location matches one of that intervention's sites by name or alias, else the nearest
    of its sites within ``radius_km``. Sites active during the row's period are preferred.
    """

    def __init__(self, registry: RegistryLike | None, radius_km: float = MATCH_RADIUS_KM) -> None:
        self.radius_km = radius_km
        self._interventions: dict[str, list[Any]] = {}
        self._sites: dict[str, list[Any]] = {}
        if registry is None:
            return
        for intervention in registry.interventions:
            keys = {intervention.id, intervention.name, *re.findall(r"\(([^)]*)\)", intervention.name)}
            for key in {normalize_place(k.replace("_", " ")) for k in keys} - {""}:
                self._interventions.setdefault(key, []).append(intervention)
        self._names: dict[str, set[str]] = {}
        for site in registry.sites:
            self._sites.setdefault(site.intervention_id, []).append(site)
            self._names[site.id] = {normalize_place(n) for n in (site.name, *site.aliases)}

    def intervention(self, mission: str, start: dt.date, end: dt.date) -> str | None:
        candidates = self._interventions.get(normalize_place(mission), [])
        if not candidates:
            return None
        active = [c for c in candidates if c.active_between(start, end)]
        return (active or candidates)[0].id

    def site(
        self,
        intervention_id: str | None,
        name: str,
        lat: float | None,
        lon: float | None,
        start: dt.date,
        end: dt.date,
    ) -> SiteMatch:
        sites = self._sites.get(intervention_id or "", [])
        if not sites:
            return SiteMatch(None, None, None)
        ordered = sorted(sites, key=lambda s: not s.active_between(start, end))
        for variant in name_variants(name):
            for site in ordered:
                if variant in self._names[site.id]:
                    km = None if lat is None or lon is None else float(_km(lat, lon, [site])[0])
                    return SiteMatch(site.id, "name", km, site.lat, site.lon)
        if lat is None or lon is None:
            return SiteMatch(None, None, None)
        distances = _km(lat, lon, ordered)
        nearest = int(np.argmin(distances))  # first of equals, as ``ordered`` prefers active sites
        km, site = float(distances[nearest]), ordered[nearest]
        if km <= self.radius_km:
            return SiteMatch(site.id, "proximity", km, site.lat, site.lon)
        return SiteMatch(None, None, None)


def _km(lat: float, lon: float, sites: list) -> np.ndarray:
    """Great-circle km from one point to each site."""
    return great_circle_km(lat, lon, [s.lat for s in sites], [s.lon for s in sites])


def slug(text: str) -> str:
    return normalize_place(text).replace(" ", "-") or "unnamed"


@dataclass
class SiteRows:
    """Accumulates canonical site rows and rejects for one file, with the counts for notes."""

    source: str
    source_version: str
    matcher: SiteMatcher
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    unmatched_missions: Counter = field(default_factory=Counter)
    unmatched_locations: Counter = field(default_factory=Counter)
    filled_coordinates: int = 0
    far_name_matches: int = 0
    _ids: Counter = field(default_factory=Counter)

    def reject(self, line: int, column: str | None, reason: str, raw: dict[str, str] | list[str]) -> None:
        self.rejects.append(
            {"line": line, "column": column, "reason": reason, "raw": json.dumps(raw, ensure_ascii=False)}
        )

    def add(
        self,
        *,
        line: int,
        mission: str,
        name: str,
        lat: float | None,
        lon: float | None,
        start: dt.date,
        end: dt.date,
        period: str,
        troops: int | None,
        troops_raw: str | None,
        country: str | None = None,
        country_iso3: str | None = None,
        attributes: dict[str, Any] | None = None,
        raw: dict[str, str] | None = None,
        site_type: str = "camp",
    ) -> None:
        """Add one row, matched to the registry; a row with no coordinates from anywhere is rejected."""
        intervention_id = self.matcher.intervention(mission, start, end)
        match = self.matcher.site(intervention_id, name, lat, lon, start, end)
        if lat is None or lon is None:
            if match.lat is None:
                self.reject(line, "latitude", "no coordinates, and no registry site of that name", raw or {})
                return
            lat, lon = match.lat, match.lon
            self.filled_coordinates += 1
        if intervention_id is None:
            self.unmatched_missions[mission] += 1
        elif match.registry_site_id is None:
            self.unmatched_locations[f"{mission}: {name}"] += 1
        if match.km is not None and match.km > self.matcher.radius_km:
            self.far_name_matches += 1
        label = start.isoformat()[:7] if period == "month" else str(start.year)
        base_id = f"{self.source}:{slug(mission)}:{slug(name)}:{label}"
        self._ids[base_id] += 1
        site_id = base_id if self._ids[base_id] == 1 else f"{base_id}#{self._ids[base_id]}"
        self.rows.append(
            {
                "site_id": site_id,
                "source": self.source,
                "source_version": self.source_version,
                "intervention_id": intervention_id,
                "registry_site_id": match.registry_site_id,
                "match_method": match.method,
                "match_km": None if match.km is None else round(match.km, 3),
                "mission": mission,
                "name": name,
                "country": country,
                "country_iso3": country_iso3,
                "lat": lat,
                "lon": lon,
                "start": start,
                "end": end,
                "period": period,
                "troops": troops,
                "troops_raw": troops_raw,
                "site_type": site_type,
                "line": line,
                "attributes": json.dumps(attributes or {}, ensure_ascii=False, sort_keys=True),
            }
        )

    def match_notes(self) -> list[str]:
        notes = []
        if self.unmatched_missions:
            n = sum(self.unmatched_missions.values())
            top = ", ".join(f"{m} {c}" for m, c in self.unmatched_missions.most_common(8))
            notes.append(
                f"{n} rows of {len(self.unmatched_missions)} missions match no registry intervention "
                f"(kept with intervention_id NULL): {top}"
            )
        if self.unmatched_locations:
            n = sum(self.unmatched_locations.values())
            top = ", ".join(f"{m} ({c})" for m, c in self.unmatched_locations.most_common(8))
            notes.append(
                f"{n} rows at {len(self.unmatched_locations)} locations match no registry site by name or "
                f"within {self.matcher.radius_km:g} km (kept with registry_site_id NULL): {top}"
            )
        if self.far_name_matches:
            notes.append(
                f"{self.far_name_matches} rows matched a registry site by name although their coordinates "
                f"lie more than {self.matcher.radius_km:g} km from it"
            )
        if self.filled_coordinates:
            notes.append(f"{self.filled_coordinates} rows without coordinates took their registry site's")
        return notes

    def tables(self) -> tuple[pa.Table, pa.Table]:
        return (
            pa.Table.from_pylist(self.rows, schema=SITES_SCHEMA),
            pa.Table.from_pylist(self.rejects, schema=REJECTS_SCHEMA),
        )


def require_columns(path: Path, header: list[str], needed: Iterable[str], layouts: str) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputError(
            f"{path}:1",
            f"missing column(s) {', '.join(missing)}",
            f"expected one of these layouts: {layouts}",
        )


def as_dicts(table: TextTable, rows: SiteRows) -> Iterator[tuple[int, dict[str, str]]]:
    """Records as {column: cell}; a record with the wrong number of cells is rejected."""
    width = len(table.header)
    for line, cells in table.records:
        if len(cells) != width:
            rows.reject(line, None, f"{len(cells)} cells where the header has {width}", cells)
            continue
        yield line, dict(zip(table.header, cells, strict=True))
