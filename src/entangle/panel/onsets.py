"""Onset provenance: which units' first exposure is only the first month a deployment source covers.

Geo-PKO's first MINUSMA map is March 2014 though MINUSMA deployed from July 2013, so a cell whose
presence "starts" in March 2014 may have been exposed for months before: its onset is left-censored
by the data, not a deployment date. For each exposure column and unit, the first exposed period (the
first with a value > 0) is compared with the periods in which the deployment sources that feed the
column start covering an intervention of the kinds involved (``Coverage``; a coverage that starts
before the panel counts from the panel's first period). A unit is *left-censored* for a column when
the two coincide. A registry site with an earlier dated opening makes the unit exposed earlier, so
it is not listed; a registry site whose own start is that same first map (as many are, "present
from at least the first UN map") does not clear it.

Columns: ``present_*``, ``copresence_*``, ``entanglement_*`` and ``nb_present_*`` (a troop column
starts with its presence column; distances have no onset). Only columns with a censored unit are
listed. The panel's metadata holds ``onsets = {"coverage_start": {source: date},
"left_censored": {column: [unit_id, ...]}}`` (unit ids as strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from entangle.panel.deployments import Coverage

ONSET_COLUMN = re.compile(r"(present_|copresence_|entanglement_|nb_present_)")
_PAIR = re.compile(r"copresence_(\w+?)__(\w+)_\w+km")


def onset_columns(exposure_columns: list[str]) -> list[str]:
    return [c for c in exposure_columns if ONSET_COLUMN.match(c)]


def involved(column: str, kinds: list[str], named: Iterable[str]) -> tuple[str, set[str]]:
    """('kind', kinds) or ('intervention', ids) whose sites feed the column."""
    if column.startswith("entanglement_"):
        return "kind", set(kinds)
    pair = _PAIR.fullmatch(column)
    if pair:
        return "kind", {pair.group(1), pair.group(2)}
    if column.startswith("copresence_"):
        return "kind", {"peacekeeping", "counterterrorism"}
    body = column.removeprefix("nb_present_").removeprefix("present_")
    for name in named:
        if re.fullmatch(rf"{re.escape(name)}(_\w+km)?", body):
            return "intervention", {name}
    for kind in sorted(kinds, key=len, reverse=True):
        if re.fullmatch(rf"{re.escape(kind)}(_\w+km)?", body):
            return "kind", {kind}
    return "kind", set()


def censor_periods(
    coverage: Coverage, kind_of: dict[str, str], period_of_month: Callable[[int], int], n_periods: int
) -> dict[tuple[str, str], int]:
    """(source, intervention) -> the panel period its coverage starts in (0 if before the panel)."""
    out = {}
    for key, month in coverage.first_month().items():
        if key[1] in kind_of:
            period = max(0, period_of_month(month))
            if period < n_periods:
                out[key] = period
    return out


def left_censored(
    exposures: Iterator[dict[str, np.ndarray]],
    columns: list[str],
    censors: dict[str, set[int]],
    unit_ids: np.ndarray,
) -> dict[str, list[str]]:
    """Units whose first exposed period is in their column's censor periods, per column.

    ``exposures`` yields the exposure columns period by period from the panel's first; it is read
    only up to the last censor period.
    """
    wanted = [c for c in columns if censors.get(c)]
    if not wanted:
        return {}
    last = max(max(censors[c]) for c in wanted)
    first = {c: np.full(len(unit_ids), -1, dtype=np.int64) for c in wanted}
    for t, out in enumerate(exposures):
        for c in wanted:
            new = (first[c] < 0) & (np.nan_to_num(out[c]) > 0)
            first[c][new] = t
        if t >= last:
            break
    result = {}
    for c in wanted:
        hit = np.isin(first[c], sorted(censors[c]))
        if hit.any():
            result[c] = [str(u) for u in unit_ids[hit]]
    return result
