"""Events to (unit, period) with weights, under an explicit rule for imprecise events.

An event is *imprecise in location* when its source's own precision code is above the study's
threshold (UCDP ``where_prec`` > ``ucdp_max_where_prec``, ACLED ``geo_precision`` >
``acled_max_geo_precision``; other sources and missing codes count as precise), and *imprecise in
date* when ``date_end − date_start + 1`` exceeds ``max_date_precision_days``. The rule:

- ``drop``: imprecise events are left out (and counted in the panel metadata);
- ``point``: an imprecise event is kept at its reported point and at the period of ``date_start``;
- ``spread``: an imprecise location is spread over the units overlapping the admin polygon that
  contains the reported point, in proportion to the area of each overlap (equal-area projection),
  normalised over the units of the study so the event's total stays 1; for admin units the reported
  point's own unit is that polygon, so spread equals point. An imprecise date is spread over the days
  of [date_start, date_end], each period receiving its share of days inside the study window.

Precise events get weight 1 at their reported point and at the period of ``date_start``. The output
weights of one event sum to 1 (minus any share outside the study window), so fatalities are
conserved.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from entangle.errors import PanelError
from entangle.geo.units import Units, equal_area, polygon_locator, priogrid_cell_boxes
from entangle.panel.periods import period_index

REQUIRED = (
    "source",
    "date_start",
    "date_end",
    "lat",
    "lon",
    "geo_precision",
    "violence_type",
    "perpetrator_category",
    "target_peacekeepers",
    "fatalities_best",
    "civilian_fatalities",
)
CATEGORIES = ("state_and_allied", "international", "jihadist", "militia", "rebel", "other", "unknown")


@dataclasses.dataclass(frozen=True)
class ImprecisionRule:
    rule: str = "drop"  # drop | point | spread
    ucdp_max_where_prec: int = 2
    acled_max_geo_precision: int = 2
    max_date_precision_days: int = 31


@dataclasses.dataclass(frozen=True)
class SpreadLayer:
    """Admin polygons that imprecise locations are spread over (ids and WGS84 polygons)."""

    ids: np.ndarray
    geoms: np.ndarray


def _column(events: pa.Table, name: str) -> np.ndarray:
    return events.column(name).to_numpy(zero_copy_only=False)


def imprecise_location(events: pa.Table, rule: ImprecisionRule) -> np.ndarray:
    """True where the source's location precision code is above the study's threshold."""
    source = pc.fill_null(events.column("source"), "")
    prec = pc.fill_null(events.column("geo_precision").cast(pa.int64()), 0)
    ucdp = pc.and_(pc.equal(source, "ucdp"), pc.greater(prec, rule.ucdp_max_where_prec))
    acled = pc.and_(pc.equal(source, "acled"), pc.greater(prec, rule.acled_max_geo_precision))
    return pc.or_(ucdp, acled).to_numpy(zero_copy_only=False).astype(bool)


def _unit_geometries(units: Units) -> np.ndarray:
    if units.kind == "priogrid":
        return priogrid_cell_boxes(units.ids)
    import h3

    return np.array(
        [shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in units.ids],
        dtype=object,
    )


def _spread_shares(units: Units, layer: SpreadLayer, polygons: np.ndarray) -> dict[int, tuple]:
    """For each layer polygon index, (unit positions, area shares summing to 1) over the study's units."""
    unit_geoms = _unit_geometries(units)
    tree = shapely.STRtree(unit_geoms)
    shares = {}
    for j in np.unique(polygons):
        cand = tree.query(layer.geoms[j], predicate="intersects")
        if len(cand) == 0:
            continue
        area = shapely.area(equal_area(shapely.intersection(unit_geoms[cand], layer.geoms[j])))
        keep = area > 0
        if keep.any():
            shares[int(j)] = (cand[keep].astype(np.int64), area[keep] / area[keep].sum())
    return shares


def _distinct(rows: np.ndarray, n: int) -> int:
    """Number of distinct event rows among ``rows`` (all in 0..n-1)."""
    return int(np.count_nonzero(np.bincount(rows, minlength=n))) if len(rows) else 0


def _codes(column: pa.ChunkedArray, fill: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a string column (nulls as ``fill``) and the values they stand for."""
    encoded = pc.dictionary_encode(pc.fill_null(column, fill).combine_chunks())
    return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32), encoded.dictionary.to_pylist()


def assign_events(
    events: pa.Table,
    units: Units,
    start: dt.date,
    end: dt.date,
    period: str,
    rule: ImprecisionRule,
    spread_layer: SpreadLayer | None = None,
) -> tuple[pa.Table, dict]:
    """Assign events to (unit position, period index) with weights.

    Returns the assigned rows (``unit_idx``, ``period_idx``, ``w`` and the outcome inputs, with
    ``violence_type`` as an integer code into ``stats["violence_types"]`` and ``perpetrator_category``
    as an index into ``CATEGORIES``) and counts of what was left out and why (stated in the panel
    metadata).
    """
    missing = [c for c in REQUIRED if c not in events.column_names]
    if missing:
        raise PanelError("events", f"missing column(s) {', '.join(missing)}", "load events through the store")
    if rule.rule not in ("drop", "point", "spread"):
        raise PanelError("imprecision", f"unknown rule {rule.rule!r}", "use drop, point or spread")
    if rule.rule == "spread" and units.kind != "admin" and spread_layer is None:
        raise PanelError(
            "imprecision",
            f"rule 'spread' on {units.kind} units needs admin polygons to spread over",
            "give --spread-over FILE:IDCOL",
        )
    n = events.num_rows
    ds = _column(events, "date_start").astype("datetime64[D]")
    de_raw = events.column("date_end")
    de = (
        pc.coalesce(de_raw, events.column("date_start"))
        .to_numpy(zero_copy_only=False)
        .astype("datetime64[D]")
    )
    lat = pc.fill_null(events.column("lat").cast(pa.float64()), np.nan).to_numpy()
    lon = pc.fill_null(events.column("lon").cast(pa.float64()), np.nan).to_numpy()
    undated = np.isnat(ds)
    de[undated] = ds[undated] = np.datetime64(start, "D")  # placeholders; undated events are dropped
    span = (de - ds).astype(np.int64) + 1
    bad_dates = span < 1
    if bad_dates.any():
        raise PanelError("events", f"{int(bad_dates.sum())} event(s) end before they start", "check date_end")
    loc_imprecise = imprecise_location(events, rule)
    date_imprecise = span > rule.max_date_precision_days
    located = np.isfinite(lat) & np.isfinite(lon)
    pos = np.full(n, -1, dtype=np.int64)
    pos[located] = units.locate(lat[located], lon[located])

    keep = ~undated
    if rule.rule == "drop":
        keep &= ~(loc_imprecise | date_imprecise)
    stats = {
        "events_in": n,
        "dropped_undated": int(undated.sum()),
        "dropped_imprecise_location": int((loc_imprecise & (rule.rule == "drop")).sum()),
        "dropped_imprecise_date": int((date_imprecise & ~loc_imprecise & (rule.rule == "drop")).sum()),
    }

    # Rows as (event row, unit position, period index, weight); expanded below for spread events.
    row = np.arange(n)
    space_spread = keep & loc_imprecise & (rule.rule == "spread") & (units.kind != "admin") & located
    plain = keep & ~space_spread
    unit_rows, unit_pos, unit_w = [row[plain]], [pos[plain]], [np.ones(int(plain.sum()))]
    if space_spread.any():
        idx = np.flatnonzero(space_spread)
        poly = polygon_locator(spread_layer.geoms)(lat[idx], lon[idx])
        shares = _spread_shares(units, spread_layer, poly[poly >= 0])
        for i, j in zip(idx, poly, strict=True):
            if j in shares:
                cells, w = shares[j]
                unit_rows.append(np.full(len(cells), i))
                unit_pos.append(cells)
                unit_w.append(w)
            else:  # the point lies in no spread polygon overlapping the study: keep it at its point
                unit_rows.append(np.array([i]))
                unit_pos.append(pos[i : i + 1])
                unit_w.append(np.ones(1))
    r = np.concatenate(unit_rows)
    p = np.concatenate(unit_pos)
    w = np.concatenate(unit_w)
    stats["outside_units"] = _distinct(r[p < 0], n)
    inside = p >= 0
    r, p, w = r[inside], p[inside], w[inside]

    n_periods = int(period_index(np.array([end], dtype="datetime64[D]"), start, period)[0]) + 1
    time_spread = date_imprecise[r] & (rule.rule == "spread")
    per = period_index(ds[r], start, period)
    out_r, out_p, out_t, out_w = [r[~time_spread]], [p[~time_spread]], [per[~time_spread]], [w[~time_spread]]
    window = (np.datetime64(start, "D"), np.datetime64(end, "D"))
    for k in np.flatnonzero(time_spread):
        i = r[k]
        days = np.arange(ds[i], de[i] + np.timedelta64(1, "D"))
        days = days[(days >= window[0]) & (days <= window[1])]
        if len(days) == 0:
            continue
        t, count = np.unique(period_index(days, start, period), return_counts=True)
        out_r.append(np.full(len(t), i))
        out_p.append(np.full(len(t), p[k]))
        out_t.append(t)
        out_w.append(w[k] * count / span[i])
    r = np.concatenate(out_r)
    p = np.concatenate(out_p)
    t = np.concatenate(out_t)
    w = np.concatenate(out_w)
    in_window = (t >= 0) & (t < n_periods)
    stats["outside_window"] = _distinct(r[~in_window], n)
    r, p, t, w = r[in_window], p[in_window], t[in_window], w[in_window]
    stats["events_assigned"] = _distinct(r, n)

    type_codes, types = _codes(events.column("violence_type"), "unknown")
    cat_codes, cat_names = _codes(events.column("perpetrator_category"), "unknown")
    # categories outside the fixed list count as "other"
    to_category = np.array([CATEGORIES.index(c if c in CATEGORIES else "other") for c in cat_names], np.int32)
    numeric = {
        name: pc.fill_null(events.column(name).cast(pa.float64()), 0.0).to_numpy()
        for name in ("fatalities_best", "civilian_fatalities", "civilian_event")
        if name in events.column_names
    }
    # a civilian-harm event (0/1, from entangle.panel.civilians); without it none is counted
    civilian_event = numeric.get("civilian_event", np.zeros(events.num_rows))
    target = pc.fill_null(events.column("target_peacekeepers"), False).to_numpy(zero_copy_only=False)
    assigned = pa.table(
        {
            "unit_idx": pa.array(p, pa.int64()),
            "period_idx": pa.array(t, pa.int64()),
            "w": pa.array(w, pa.float64()),
            "fatalities": numeric["fatalities_best"][r],
            "civilian_fatalities": numeric["civilian_fatalities"][r],
            "civilian_event": civilian_event[r],
            "violence_type": pa.array(type_codes[r], pa.int32()),
            "perpetrator_category": pa.array(
                to_category[cat_codes[r]] if len(cat_names) else cat_codes[r], pa.int32()
            ),
            "target_peacekeepers": pa.array(np.asarray(target, dtype=bool)[r]),
            "event_row": pa.array(r, pa.int64()),  # row in ``events`` (distance profiles read it)
        }
    )
    stats["violence_types"] = types
    return assigned, stats
