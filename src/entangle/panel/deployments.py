"""The deployment time rule: how long a deployment map's row holds, and whose troop figure counts.

A Geo-PKO map (or a RADPKO month) describes a mission's deployments *as of* its date. Rows of a
deployment source (``period`` 'month' or 'year' in the sites table) form one *series* per source,
source version, intervention and row period; the maps of a series are its distinct months. Rules:

- ``carry_forward`` (default): a month row holds from its map's month until the month before the
  series' next map, at most ``max_gap_months`` months counted from its own month;
- ``map_month``: a month row covers its own calendar month only;
- ``interpolate``: presence as ``carry_forward``; troops linear (by month) between the figures of
  the same location on two consecutive maps of the series, when both are known and the next map
  lies within the gap; else held as under ``carry_forward``.

A yearly row (Geo-PKO v2 summaries, RADPKO yearly files) covers its calendar year under every rule.
Two rows of one location (same name and coordinates) in one month of a series are two maps of that
month: their mean counts.

Which figure counts for troops: a deployment row names the registry site it matched
(``registry_site_id``, set by the loaders). In the months such a row holds, the registry site still
counts for presence but not for troops (the row gives them), so a camp is never counted twice; in
other months the registry site's own figure counts, and when it has none the troops there are
unknown. A site whose figure is unknown is kept apart from no site: the panel's troop column is NULL
where such a site is within range. A source *covers* an intervention in the union of its rows' held
months (``Coverage``: metadata ``deployment_coverage`` and the onset provenance).

Each held row is cut into one piece per panel period (a quarter or a year holds several months):
its troops are the mean over the months it is held in that period, NULL if any of them is unknown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Any

import numpy as np

from entangle.errors import PanelError
from entangle.measures import Sites

RULES = ("carry_forward", "map_month", "interpolate")
MAP_PERIODS = ("month", "year")


@dataclasses.dataclass(frozen=True)
class DeploymentRule:
    """``[study.deployments]``: the time rule for deployment-map rows."""

    rule: str = "carry_forward"
    max_gap_months: int = 12

    def validate(self) -> None:
        if self.rule not in RULES:
            raise PanelError("deployments.rule", f"unknown rule {self.rule!r}", f"use {', '.join(RULES)}")
        if self.max_gap_months < 1:
            raise PanelError(
                "deployments.max_gap_months", f"must be >= 1 (got {self.max_gap_months})", "e.g. 12"
            )


@dataclasses.dataclass(frozen=True)
class SiteRecords:
    """Sites that passed ``resolve_sites``' checks, before the time rule (arrays of equal length).

    ``series`` is None for a dated site (the registry's, or a file without a row period): it keeps its
    own [start, end]. ``life_start``/``life_end`` are the intervention's lifetime (NaT end = open).
    """

    lat: np.ndarray
    lon: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], NaT = open
    troops: np.ndarray  # float64, NaN = unknown
    intervention: np.ndarray  # object
    kind: np.ndarray  # object
    source: np.ndarray  # object
    series: np.ndarray  # object: (source, version, intervention, period) or None
    location: np.ndarray  # object: (name, lat, lon)
    site_id: np.ndarray  # object: the row's own id (a registry site's id for registry rows)
    registry_site_id: np.ndarray  # object: the registry site a deployment row matched, or None
    life_start: np.ndarray
    life_end: np.ndarray


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Months (indices since 1970-01) each deployment source holds for each intervention."""

    months: dict[tuple[str, str], list[tuple[int, int]]]  # (source, intervention) -> merged intervals

    def first_month(self) -> dict[tuple[str, str], int]:
        return {key: spans[0][0] for key, spans in self.months.items() if spans}

    def start_by_source(self) -> dict[str, str]:
        """First day each source covers (any intervention), ISO dates."""
        first: dict[str, int] = {}
        for (source, _), month in self.first_month().items():
            first[source] = min(month, first.get(source, month))
        return {s: _month_start(m).astype(dt.date).isoformat() for s, m in sorted(first.items())}

    def as_metadata(self) -> dict[str, dict[str, list[list[str]]]]:
        out: dict[str, dict[str, list[list[str]]]] = {}
        for (source, iid), spans in sorted(self.months.items()):
            out.setdefault(source, {})[iid] = [
                [_month_start(a).astype(dt.date).isoformat(), _month_end(b).astype(dt.date).isoformat()]
                for a, b in spans
            ]
        return out


def _month(day: np.datetime64) -> int:
    return int(day.astype("datetime64[M]").astype(np.int64))


def _month_start(month: int) -> np.datetime64:
    return np.datetime64(int(month), "M").astype("datetime64[D]")


def _month_end(month: int) -> np.datetime64:
    return np.datetime64(int(month) + 1, "M").astype("datetime64[D]") - np.timedelta64(1, "D")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


@dataclasses.dataclass
class _MapRow:
    index: int  # first record of this location-month
    first: int  # own first and last month
    last: int
    troops: float
    held_to: int = 0
    monthly: list[float] = dataclasses.field(default_factory=list)  # troops per held month


def _map_rows(records: SiteRecords, rule: DeploymentRule) -> dict[tuple, dict[tuple, list[_MapRow]]]:
    """Map rows per series and location, ordered by month, with the months each one holds."""
    grouped: dict[tuple, dict[tuple, dict[int, list[int]]]] = defaultdict(lambda: defaultdict(dict))
    for k in np.flatnonzero([s is not None for s in records.series]):
        month = _month(records.start[k])
        grouped[records.series[k]][records.location[k]].setdefault(month, []).append(int(k))
    out: dict[tuple, dict[tuple, list[_MapRow]]] = {}
    for series, locations in grouped.items():
        maps = sorted({m for months in locations.values() for m in months})
        yearly = series[3] == "year"
        out[series] = {}
        for location, months in locations.items():
            rows = []
            for month in sorted(months):
                members = months[month]
                figures = records.troops[members]
                rows.append(
                    _MapRow(
                        index=members[0],
                        first=month,
                        last=_month(records.end[members[0]]),
                        troops=float(np.mean(figures)),  # NaN when any is unknown
                    )
                )
            for j, row in enumerate(rows):
                if yearly or rule.rule == "map_month":
                    row.held_to = row.last
                else:
                    later = [m for m in maps if m > row.first]
                    cap = row.first + rule.max_gap_months - 1
                    row.held_to = max(row.last, min(later[0] - 1, cap) if later else cap)
                n = row.held_to - row.first + 1
                row.monthly = [row.troops] * n
                nxt = rows[j + 1] if j + 1 < len(rows) else None
                if (
                    rule.rule == "interpolate"
                    and not yearly
                    and nxt is not None
                    and nxt.first == row.held_to + 1  # the next map of the series lists this location
                    and np.isfinite(row.troops)
                    and np.isfinite(nxt.troops)
                ):
                    step = (nxt.troops - row.troops) / (nxt.first - row.first)
                    row.monthly = [row.troops + step * i for i in range(n)]
            out[series][location] = rows
    return out


def _coverage(records: SiteRecords, rows: dict[tuple, dict[tuple, list[_MapRow]]]) -> Coverage:
    spans: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for series, locations in rows.items():
        for location_rows in locations.values():
            for row in location_rows:
                spans[(series[0], series[2])].append((row.first, row.held_to))
    return Coverage({key: _merge(v) for key, v in spans.items()})


def _clip(start: np.datetime64, end: np.datetime64, k: int, records: SiteRecords):
    """[start, end] within the record's intervention lifetime, or None when empty."""
    first = max(start, records.life_start[k])
    life_end = records.life_end[k]
    last = end if np.isnat(life_end) else (life_end if np.isnat(end) else min(end, life_end))
    return None if (not np.isnat(last) and last < first) else (first, last)


def apply_rule(
    records: SiteRecords, rule: DeploymentRule, starts: np.ndarray, ends: np.ndarray
) -> tuple[Sites, Coverage, dict[str, Any]]:
    """Sites as held under ``rule`` for the panel periods [starts[t], ends[t]], with coverage."""
    rule.validate()
    rows = _map_rows(records, rule)
    coverage = _coverage(records, rows)
    period_first = np.array([_month(s) for s in starts], dtype=np.int64)
    period_last = np.array([_month(e) for e in ends], dtype=np.int64)
    pieces: list[tuple[int, np.datetime64, np.datetime64, float, bool]] = []
    held = 0
    for series_rows in rows.values():
        for location_rows in series_rows.values():
            # one piece per panel period for the location: its rows' months in that period together
            per_period: dict[int, list] = {}
            for row in location_rows:
                held += row.held_to - row.first + 1
                lo = np.searchsorted(period_last, row.first)
                hi = np.searchsorted(period_first, row.held_to, side="right")
                for t in range(lo, hi):
                    a, b = max(row.first, period_first[t]), min(row.held_to, period_last[t])
                    span = _clip(_month_start(a), _month_end(b), row.index, records)
                    if span is None:
                        continue
                    figures = row.monthly[a - row.first : b - row.first + 1]
                    if t in per_period:
                        first, start, end, known = per_period[t]
                        per_period[t] = [first, min(start, span[0]), max(end, span[1]), known + figures]
                    else:
                        per_period[t] = [row.index, span[0], span[1], list(figures)]
            for index, start, end, figures in per_period.values():
                pieces.append((index, start, end, float(np.mean(figures)), True))
    by_site = _held_by_registry_site(records, rows)
    for k in np.flatnonzero([s is None for s in records.series]):
        covered = by_site.get(records.site_id[k], [])
        for start, end, inside in split_by(records.start[k], records.end[k], covered):
            pieces.append((int(k), start, end, float(records.troops[k]), not inside))
    idx = np.array([p[0] for p in pieces], dtype=np.int64)
    sites = Sites(
        lat=records.lat[idx],
        lon=records.lon[idx],
        start=np.array([p[1] for p in pieces], dtype="datetime64[D]"),
        end=np.array([p[2] for p in pieces], dtype="datetime64[D]"),
        troops=np.array([p[3] for p in pieces], dtype=np.float64),
        intervention=records.intervention[idx],
        kind=records.kind[idx],
        counts_troops=np.array([p[4] for p in pieces], dtype=bool),
    )
    n_map = sum(len(r) for s in rows.values() for r in s.values())
    info = {"map_rows": n_map, "map_row_months_held": held, "pieces": len(pieces)}
    return sites, coverage, info


def _held_by_registry_site(
    records: SiteRecords, rows: dict[tuple, dict[tuple, list[_MapRow]]]
) -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    """Registry site id -> the days deployment rows matched to it hold (merged closed intervals)."""
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for series_rows in rows.values():
        for location_rows in series_rows.values():
            for row in location_rows:
                matched = records.registry_site_id[row.index]
                if matched is not None:
                    spans[matched].append((row.first, row.held_to))
    return {k: [(_month_start(a), _month_end(b)) for a, b in _merge(v)] for k, v in spans.items()}


def split_by(
    start: np.datetime64, end: np.datetime64, covered: list[tuple[np.datetime64, np.datetime64]]
) -> list[tuple[np.datetime64, np.datetime64, bool]]:
    """[start, end] (NaT end = open) cut into the parts inside and outside ``covered``, in order."""
    parts = []
    cursor = start
    one = np.timedelta64(1, "D")
    for a, b in covered:
        if not np.isnat(end) and a > end:
            break
        if b < cursor:
            continue
        if a > cursor:
            parts.append((cursor, a - one, False))
        inside_end = b if np.isnat(end) else min(b, end)
        parts.append((max(a, cursor), inside_end, True))
        cursor = inside_end + one
        if not np.isnat(end) and cursor > end:
            return parts
    parts.append((cursor, end, False))
    return parts
