"""Plausibility of loaded rows: dates in a possible range, coordinates inside the theatre.

Run once on every file before it is stored (``entangle.sources.ingest``), after its reader's own
checks:

- **Dates.** An event dated before 1989-01-01 (UCDP GED's first year; ACLED starts later) or more than
  one year after today is rejected: 0001-01-01 and 9999-12-31 are placeholders, not dates.
- **Extent.** A row is checked when its country is one of the theatre's countries (or it names no
  country): its point must lie within the theatre's outline buffered by 0.5° (about 55 km; the
  shipped Natural Earth outlines are coarse by a few km). Rows of other countries are not checked, so
  a global UCDP file or Geo-PKO's all-Africa file loads as before. Rows outside are counted and kept
  with a note while their share is within the file's reject share; past it they are rejected, so
  the load stops with the usual one-line error. When swapping latitude and longitude would put most
  of them inside, the reason says so (a file with the two columns swapped).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from entangle.sources.base import REJECTS_SCHEMA, LoadResult

FIRST_DAY = dt.date(1989, 1, 1)
BUFFER_DEG = 0.5
SWAPPED_SHARE = 0.5  # "most": more than half of the rows outside would be inside once swapped


def _column(table: pa.Table, name: str) -> pa.ChunkedArray | None:
    return table.column(name) if name in table.column_names else None


def _bad_dates(table: pa.Table, today: dt.date) -> tuple[np.ndarray, list[str]]:
    last = today + dt.timedelta(days=365)
    bad = np.zeros(table.num_rows, bool)
    reasons = [""] * table.num_rows
    for name in ("date_start", "date_end"):
        column = _column(table, name)
        if column is None:
            continue
        days = column.to_pylist()
        for k, day in enumerate(days):
            if day is None or bad[k]:
                continue
            if day < FIRST_DAY:
                bad[k], reasons[k] = (
                    True,
                    f"{name} {day.isoformat()} is before 1989 (no event source starts earlier)",
                )
            elif day > last:
                bad[k], reasons[k] = (
                    True,
                    f"{name} {day.isoformat()} is more than a year after today ({today})",
                )
    return bad, reasons


def _checked(table: pa.Table, countries: set[str], sites: bool) -> np.ndarray:
    """Rows whose country is a theatre country or unknown (sites: of a registry intervention)."""
    iso3 = _column(table, "country_iso3")
    codes = [None] * table.num_rows if iso3 is None else iso3.to_pylist()
    checked = np.array([c is None or c.upper() in countries for c in codes], bool)
    if sites and "intervention_id" in table.column_names:
        checked &= pc.is_valid(table.column("intervention_id")).to_numpy(zero_copy_only=False)
    return checked


def check_plausibility(
    result: LoadResult, countries: list[str], max_reject_share: float, today: dt.date | None = None
) -> LoadResult:
    """``result`` with implausible rows moved to its rejects and a note on what was found."""
    table = result.table
    if table.num_rows == 0 or "lat" not in table.column_names:
        return result
    today = today or dt.date.today()
    bad = np.zeros(table.num_rows, bool)
    reasons = [""] * table.num_rows
    notes = list(result.notes)
    if result.kind == "events":
        bad, reasons = _bad_dates(table, today)
        if bad.any():
            notes.append(f"{int(bad.sum())} rows dated before 1989 or more than a year ahead: rejected")
    if countries:
        from entangle.geo.outlines import outline

        area = shapely.buffer(outline(countries), BUFFER_DEG)
        lat = pc.fill_null(table.column("lat").cast(pa.float64()), np.nan).to_numpy()
        lon = pc.fill_null(table.column("lon").cast(pa.float64()), np.nan).to_numpy()
        located = (
            np.isfinite(lat) & np.isfinite(lon) & _checked(table, set(countries), result.kind == "sites")
        )
        outside = located & ~shapely.contains_xy(area, np.nan_to_num(lon), np.nan_to_num(lat)) & ~bad
        n_out = int(outside.sum())
        if n_out:
            swapped = int((outside & shapely.contains_xy(area, np.nan_to_num(lat), np.nan_to_num(lon))).sum())
            where = f"outside the theatre's extent ({'+'.join(countries)}, buffered {BUFFER_DEG:g}°)"
            hint = ""
            if swapped > SWAPPED_SHARE * n_out:
                hint = (
                    f"; latitude and longitude look swapped: swapping them puts {swapped} of the {n_out} "
                    "rows outside inside"
                )
            if (n_out + result.rows_bad + int(bad.sum())) / max(result.rows_in, 1) > max_reject_share:
                for k in np.flatnonzero(outside):
                    bad[k], reasons[k] = True, f"point ({lat[k]:g}, {lon[k]:g}) {where}{hint}"
                notes.append(f"{n_out} rows {where}: rejected{hint}")
            else:
                notes.append(f"{n_out} rows {where}: kept (within the reject share){hint}")
    if not bad.any():
        return dataclasses.replace(result, notes=tuple(notes))
    rows = table.filter(pa.array(~bad))
    lines = _column(table, "line")
    line_of = lines.to_pylist() if lines is not None else [None] * table.num_rows
    raw = table.filter(pa.array(bad)).to_pylist()
    coordinate_column = "latitude"
    extra = pa.Table.from_pylist(
        [
            {
                "line": line_of[k],
                "column": reasons[k].split()[0] if reasons[k].startswith("date_") else coordinate_column,
                "reason": reasons[k],
                "raw": json.dumps(record, default=str, ensure_ascii=False),
            }
            for k, record in zip(np.flatnonzero(bad), raw, strict=True)
        ],
        schema=REJECTS_SCHEMA,
    )
    rejects = pa.concat_tables([result.rejects.cast(REJECTS_SCHEMA), extra])
    return dataclasses.replace(result, table=rows, rejects=rejects, notes=tuple(notes))
