"""The unit × period panel: outcomes, exposures, entanglement and spatial lags, zeros included.

Steps: units from the spec (``entangle.geo.units``); events to (unit, period) shares
(``entangle.geo.assign``); sparse outcome sums by the SQL in ``panel.sql``, run on the chosen engine
(DuckDB or Spark); then a dense pass, one period at a time so memory stays bounded at continental
scale, adding exposures and entanglement (``entangle.measures``, KD-trees) and spatial lags (a sparse
row-normalised adjacency product; the same numpy code whatever the engine).
Rows come ordered by period, then by unit position (ascending ``unit_id``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from entangle import __version__
from entangle.atomic import atomic_path
from entangle.errors import PanelError
from entangle.geo.area_sample import area_samples, unit_means
from entangle.geo.assign import ImprecisionRule, SpreadLayer, assign_events
from entangle.geo.outlines import outline
from entangle.geo.polygon_distance import polygon_point_km
from entangle.geo.units import Units, make_units, parse_unit, read_polygons
from entangle.measures import ExposureSpec, Sites, Ties, exposure_columns, exposure_kinds, exposure_stream
from entangle.panel.civilians import CIVILIAN_RULES, apply_civilian_definition
from entangle.panel.deployments import MAP_PERIODS, Coverage, DeploymentRule, SiteRecords, apply_rule
from entangle.panel.engines import get_engine
from entangle.panel.onsets import censor_periods, involved, left_censored, onset_columns
from entangle.panel.periods import MONTHS_PER, period_index, period_starts
from entangle.panel.sql import outcome_exprs, outcomes_sql
from entangle.registry.schema import SITE_TYPES, InterventionKind

KINDS: tuple[str, ...] = InterventionKind.__args__

_ROWS_PER_GROUP = 1_000_000


@dataclasses.dataclass(frozen=True)
class PanelSpec:
    """What panel to build. ``extent``: ISO3 codes (default: the registry theatre's countries)."""

    start: dt.date
    end: dt.date
    unit: str = "priogrid"
    period: str = "month"
    radii_km: tuple[float, ...] = (25.0, 50.0)
    imprecision: ImprecisionRule = dataclasses.field(default_factory=ImprecisionRule)
    extent: tuple[str, ...] = ()
    spread_over: str | None = None  # "FILE:IDCOL": admin polygons for the spread rule
    # Event sources to use (e.g. ("acled",)); empty = all. UCDP and ACLED record many of the same
    # events, so a store holding both would count them twice: choose one per panel.
    sources: tuple[str, ...] = ()
    # Site types left out of every exposure (e.g. ("hq",): a headquarters in the capital is not a
    # field deployment). Sites without a type are never left out.
    exclude_site_types: tuple[str, ...] = ()
    deployments: DeploymentRule = dataclasses.field(default_factory=DeploymentRule)
    # Named interventions with their own exposure columns, and kind pairs with a co-presence column.
    interventions: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    civilian: str = "targeting"  # what counts as civilian harm (entangle.panel.civilians)
    # boundary | centroid | area_share; None: boundary for admin units, centroid otherwise
    exposure_from: str | None = None

    @classmethod
    def from_study(cls, study) -> PanelSpec:
        imp = study.imprecision
        return cls(
            start=study.start,
            end=study.end,
            unit=study.unit,
            period=study.period,
            radii_km=tuple(study.exposure.radii_km),
            imprecision=ImprecisionRule(
                imp.rule, imp.ucdp_max_where_prec, imp.acled_max_geo_precision, imp.max_date_precision_days
            ),
            extent=tuple(study.extent),
            spread_over=getattr(imp, "spread_over", None),
            exclude_site_types=tuple(study.exposure.exclude_site_types),
            deployments=DeploymentRule(study.deployments.rule, study.deployments.max_gap_months),
            interventions=tuple(study.exposure.interventions),
            pairs=tuple(tuple(p) for p in study.exposure.pairs),
            civilian=study.outcomes.civilian,
            exposure_from=study.exposure.exposure_from,
        )

    def validate(self) -> None:
        bad = [r for r in self.radii_km if not r > 0]
        if bad or not self.radii_km:
            raise PanelError(
                "radius", f"every radius must be > 0 km (got {bad or 'none'})", "e.g. --radius 25"
            )
        if self.period not in MONTHS_PER:
            raise PanelError("period", f"unknown period {self.period!r}", "use month, quarter or year")
        if self.end < self.start:
            raise PanelError(
                "period", f"empty period range: {self.end} is before {self.start}", "check --from/--to"
            )
        parse_unit(self.unit)
        self.deployments.validate()
        if self.civilian not in CIVILIAN_RULES:
            raise PanelError(
                "outcomes.civilian",
                f"unknown definition {self.civilian!r}",
                f"use {', '.join(CIVILIAN_RULES)}",
            )
        for pair in self.pairs:
            bad = [k for k in pair if k not in KINDS]
            if len(pair) != 2 or bad or pair[0] == pair[1]:
                raise PanelError(
                    "exposure.pairs",
                    f"{list(pair)} is not a pair of two different intervention kinds",
                    f"kinds: {', '.join(KINDS)}",
                )
        unknown = sorted(set(self.exclude_site_types) - set(SITE_TYPES))
        if unknown:
            raise PanelError(
                "exclude_site_types", f"unknown site type {unknown[0]!r}", f"use {', '.join(SITE_TYPES)}"
            )

    def as_metadata(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "period": self.period,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "radii_km": list(self.radii_km),
            "imprecision": dataclasses.asdict(self.imprecision),
            "extent": list(self.extent),
            "spread_over": self.spread_over,
            "event_sources": list(self.sources),
            "exclude_site_types": list(self.exclude_site_types),
            "deployments": dataclasses.asdict(self.deployments),
            "interventions": list(self.interventions),
            "pairs": [list(p) for p in self.pairs],
            "civilian": self.civilian,
        }


@dataclasses.dataclass(frozen=True)
class _Prepared:
    units: Units
    starts: np.ndarray
    ends: np.ndarray
    outcomes: list[str]
    integer_outcomes: bool
    sparse: pa.Table  # outcomes per (unit_idx, period_idx) where an event is, ordered by period
    sites: Sites
    coverage: Coverage
    ties: Ties
    counts: dict[str, Any]
    radii: tuple[float, ...]
    spec: PanelSpec


def _dates(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return column.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")


def _np_date(day: dt.date | None) -> np.datetime64:
    return np.datetime64("NaT", "D") if day is None else np.datetime64(day, "D")


def _clip(spans: list[tuple[np.datetime64, np.datetime64]]) -> tuple[np.datetime64, np.datetime64] | None:
    """Intersection of closed intervals (NaT end = open); None when empty."""
    first = max(s for s, _ in spans)
    ends = [e for _, e in spans if not np.isnat(e)]
    last = min(ends) if ends else np.datetime64("NaT", "D")
    return None if (not np.isnat(last) and last < first) else (first, last)


def _strings(sites: pa.Table, name: str) -> list:
    return sites.column(name).to_pylist() if name in sites.column_names else [None] * sites.num_rows


def resolve_sites(
    sites: pa.Table, registry, exclude_site_types: tuple[str, ...] = ()
) -> tuple[SiteRecords, dict[str, int]]:
    """Sites with their intervention's kind and lifetime, ready for the deployment time rule.

    Sites without an intervention, or with one the registry does not know, cannot be given a kind:
    they are left out and counted; so are sites of a type in ``exclude_site_types`` and sites whose
    own [start, end] lies outside their intervention's lifetime. A dated site's interval is clipped
    to that lifetime here; a deployment-map row (``period`` 'month' or 'year') keeps its own until
    the time rule has said how long it holds (``entangle.panel.deployments``).
    """
    required = ("intervention_id", "lat", "lon", "start", "end", "troops")
    missing = [c for c in required if c not in sites.column_names]
    if missing:
        raise PanelError("sites", f"missing column(s) {', '.join(missing)}")
    known = {i.id: i for i in registry.interventions}
    ids = sites.column("intervention_id").to_pylist()
    lat = pc.fill_null(sites.column("lat").cast(pa.float64()), np.nan).to_numpy()
    lon = pc.fill_null(sites.column("lon").cast(pa.float64()), np.nan).to_numpy()
    start, end = _dates(sites.column("start")), _dates(sites.column("end"))
    troops = pc.fill_null(sites.column("troops").cast(pa.float64()), np.nan).to_numpy()
    types = _strings(sites, "site_type")
    source, version, period, name, site_id, matched = (
        _strings(sites, c)
        for c in ("source", "source_version", "period", "name", "site_id", "registry_site_id")
    )
    excluded = set(exclude_site_types)
    keep, spans, lives, series = [], [], [], []
    counts = {
        "sites_in": len(ids),
        "sites_unmatched": 0,
        "sites_excluded_type": 0,
        "sites_unlocated": 0,
        "sites_outside_lifetime": 0,
    }
    for k, iid in enumerate(ids):
        if iid not in known:
            counts["sites_unmatched"] += 1
            continue
        if types[k] in excluded:
            counts["sites_excluded_type"] += 1
            continue
        if not (np.isfinite(lat[k]) and np.isfinite(lon[k])) or np.isnat(start[k]):
            counts["sites_unlocated"] += 1
            continue
        life = (_np_date(known[iid].start), _np_date(known[iid].end))
        span = _clip([(start[k], end[k]), life])
        if span is None:
            counts["sites_outside_lifetime"] += 1
            continue
        is_map = period[k] in MAP_PERIODS and not np.isnat(end[k])
        keep.append(k)
        spans.append((start[k], end[k]) if is_map else span)
        lives.append(life)
        series.append((source[k] or "", version[k] or "", iid, period[k]) if is_map else None)
    idx = np.array(keep, dtype=np.int64)
    span_arr = np.array(spans, dtype="datetime64[D]").reshape(-1, 2)
    life_arr = np.array(lives, dtype="datetime64[D]").reshape(-1, 2)
    records = SiteRecords(
        lat=lat[idx],
        lon=lon[idx],
        start=span_arr[:, 0],
        end=span_arr[:, 1],
        troops=troops[idx],
        intervention=np.array([ids[k] for k in keep], dtype=object),
        kind=np.array([known[ids[k]].kind for k in keep], dtype=object),
        source=np.array([source[k] for k in keep], dtype=object),
        series=_objects(series),
        location=_objects([(name[k], round(lat[k], 6), round(lon[k], 6)) for k in keep]),
        site_id=np.array([site_id[k] for k in keep], dtype=object),
        registry_site_id=np.array([matched[k] for k in keep], dtype=object),
        life_start=life_arr[:, 0],
        life_end=life_arr[:, 1],
    )
    counts["sites_used"] = len(keep)
    return records, counts


def _objects(values: list) -> np.ndarray:
    """An object array holding ``values`` as elements (tuples stay tuples, not a 2-D array)."""
    out = np.empty(len(values), dtype=object)
    for k, value in enumerate(values):
        out[k] = value
    return out


def resolve_ties(registry) -> Ties:
    """Ties with active intervals clipped to both ends' lifetimes (as the registry defines them)."""
    known = {i.id: i for i in registry.interventions}
    rows = []
    for tie in registry.ties:
        if tie.source_id not in known or tie.target_id not in known:
            continue
        span = _clip(
            [(_np_date(tie.start), _np_date(tie.end))]
            + [(_np_date(known[i].start), _np_date(known[i].end)) for i in (tie.source_id, tie.target_id)]
        )
        if span is not None:
            rows.append((tie.source_id, tie.target_id, span[0], span[1], float(tie.weight)))
    return Ties(
        source=np.array([r[0] for r in rows], dtype=object),
        target=np.array([r[1] for r in rows], dtype=object),
        start=np.array([r[2] for r in rows], dtype="datetime64[D]"),
        end=np.array([r[3] for r in rows], dtype="datetime64[D]"),
        weight=np.array([r[4] for r in rows], dtype=np.float64),
    )


def registry_sites(registry) -> pa.Table:
    """The registry's own sites as a ``sites`` table (to stack onto the store's deployment sites)."""
    rows = registry.sites
    return pa.table(
        {
            "site_id": pa.array([s.id for s in rows], pa.string()),
            "source": pa.array(["registry"] * len(rows), pa.string()),
            "intervention_id": pa.array([s.intervention_id for s in rows], pa.string()),
            "name": pa.array([s.name for s in rows], pa.string()),
            "lat": pa.array([s.lat for s in rows], pa.float64()),
            "lon": pa.array([s.lon for s in rows], pa.float64()),
            "start": pa.array([s.start for s in rows], pa.date32()),
            "end": pa.array([s.end for s in rows], pa.date32()),
            "troops": pa.array([s.troops for s in rows], pa.int64()),
            "site_type": pa.array([s.site_type for s in rows], pa.string()),
        }
    )


def _check_interventions(names: tuple[str, ...], registry) -> None:
    known = {i.id for i in registry.interventions}
    for name in names:
        if name not in known:
            raise PanelError(
                "exposure.interventions",
                f"unknown intervention {name!r}",
                f"registry ids: {', '.join(sorted(known))}",
            )
        if name in KINDS:
            raise PanelError("exposure.interventions", f"{name!r} is also a kind name", "rename it")


def _period_ends(starts: np.ndarray, period: str) -> np.ndarray:
    months = starts.astype("datetime64[M]") + np.timedelta64(MONTHS_PER[period], "M")
    return months.astype("datetime64[D]") - np.timedelta64(1, "D")


def _prepare(
    events: pa.Table, sites: pa.Table, registry, spec: PanelSpec, engine: str, units: Units | None
) -> _Prepared:
    spec.validate()
    run = get_engine(engine)
    if units is None:
        kind, _, _ = parse_unit(spec.unit)
        shape = None if kind == "admin" else outline(list(spec.extent) or list(registry.theatre.country_iso3))
        units = make_units(spec.unit, shape)
    _check_interventions(spec.interventions, registry)
    if spec.sources:
        events = events.filter(pc.is_in(events.column("source"), pa.array(list(spec.sources), pa.string())))
    layer = None
    if spec.spread_over:
        file, _, col = spec.spread_over.rpartition(":")
        if not file:
            raise PanelError("spread_over", f"{spec.spread_over!r} is not FILE:IDCOL")
        layer = SpreadLayer(*read_polygons(file, col))
    starts = period_starts(spec.start, spec.end, spec.period)
    events = apply_civilian_definition(events, spec.civilian)
    assigned, counts = assign_events(
        events, units, spec.start, spec.end, spec.period, spec.imprecision, layer
    )
    exprs = outcome_exprs(counts.pop("violence_types"))
    sparse = run({"assigned": assigned}, {"outcomes": outcomes_sql(exprs)})["outcomes"]
    records, site_counts = resolve_sites(sites, registry, spec.exclude_site_types)
    counts.update(site_counts)
    ends = _period_ends(starts, spec.period)
    site_arrays, coverage, _ = apply_rule(records, spec.deployments, starts, ends)
    return _Prepared(
        units=units,
        starts=starts,
        ends=ends,
        outcomes=list(exprs),
        integer_outcomes=spec.imprecision.rule != "spread",
        sparse=sparse,
        sites=site_arrays,
        coverage=coverage,
        ties=resolve_ties(registry),
        counts=counts,
        radii=spec.radii_km,
        spec=spec,
    )


def _dense(
    table: pa.Table, columns: list[str], n_units: int, n_periods: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield, per period, a dense (columns × units) matrix from a sparse table sorted by period_idx,
    with the sparse part it came from (the units with an event, and their values).

    Column-by-unit layout, so each output column is a contiguous row. The same buffer is reused (only
    the units set for the previous period are cleared): a yielded matrix is valid until the next one
    is requested.
    """
    period = table.column("period_idx").to_numpy()
    unit = table.column("unit_idx").to_numpy()
    values = np.vstack([table.column(c).to_numpy() for c in columns])
    bounds = np.searchsorted(period, np.arange(n_periods + 1))
    out = np.zeros((len(columns), n_units))
    for t in range(n_periods):
        lo, hi = bounds[t], bounds[t + 1]
        if t:
            out[:, unit[bounds[t - 1] : lo]] = 0.0
        out[:, unit[lo:hi]] = values[:, lo:hi]
        yield out, unit[lo:hi], values[:, lo:hi]


def _lag_operator(units: Units):
    """Row-normalised queen adjacency: ``A @ x`` is the mean of x over each unit's neighbours.

    Units without neighbours get a row of zeros here and NaN in the panel (a mean over nothing).
    Column-compressed, so the columns of the units with events in a period slice out cheaply.
    """
    from scipy import sparse

    pairs = units.neighbour_pairs
    n_nb = units.neighbour_counts()
    weights = 1.0 / n_nb[pairs[:, 0]]
    return sparse.csc_matrix((weights, (pairs[:, 0], pairs[:, 1])), shape=(len(units), len(units)))


EXPOSURE_FROM = ("boundary", "centroid", "area_share")


def _exposure_from(units: Units, chosen: str | None) -> str:
    """Where exposure is measured from: ``chosen``, else the boundary for admin units and the
    centroid for grid cells and hexagons.

    A ~55 km PRIO-GRID cell or an H3 hexagon is well summarised by its centre; a large admin unit is
    not (a cercle holding a camp would show no presence if its centroid lies far from the camp), but
    the boundary rule makes a giant cercle exposed wherever any corner of it is near a site:
    ``area_share`` measures the share of its area within r km instead.
    """
    polygons = units.kind == "admin" and units.geometries is not None
    if chosen is None:
        return "boundary" if polygons else "centroid"
    if chosen not in EXPOSURE_FROM:
        raise PanelError("exposure_from", f"unknown rule {chosen!r}", f"use {', '.join(EXPOSURE_FROM)}")
    if chosen != "centroid" and not polygons:
        raise PanelError(
            "exposure_from", f"{chosen!r} needs admin polygons", f"{units.kind} units use 'centroid'"
        )
    return chosen


def _exposure_spec(prep: _Prepared) -> ExposureSpec:
    """Named interventions, kind pairs, and the neighbours of each unit with the unit each site is in."""
    return ExposureSpec(
        interventions=prep.spec.interventions,
        pairs=prep.spec.pairs,
        neighbours=prep.units.neighbour_pairs,
        site_unit=prep.units.locate(prep.sites.lat, prep.sites.lon),
    )


def _exposures(prep: _Prepared) -> Iterator[dict[str, np.ndarray]]:
    units, rule = prep.units, _exposure_from(prep.units, prep.spec.exposure_from)
    site_km = None
    if rule == "boundary" or rule == "area_share":
        site_km = polygon_point_km(units.geometries, prep.sites.lat, prep.sites.lon)
    args = (prep.sites, prep.ties, prep.starts, prep.ends, list(prep.radii))
    by_unit = exposure_stream(units.lat, units.lon, *args, site_km, _exposure_spec(prep))
    if rule != "area_share":
        return by_unit
    lat, lon, owner = area_samples(units.geometries)
    spec = dataclasses.replace(_exposure_spec(prep), neighbours=None, site_unit=None)
    by_point = exposure_stream(lat, lon, *args, None, spec)
    return _area_means(by_unit, by_point, owner, len(units))


def _area_means(by_unit, by_point, owner: np.ndarray, n_units: int) -> Iterator[dict[str, np.ndarray]]:
    """Each unit's exposures as the mean over its area's sample points (neighbour columns: by unit)."""
    for unit_cols, point_cols in zip(by_unit, by_point, strict=True):
        out = {name: unit_means(values, owner, n_units) for name, values in point_cols.items()}
        out.update({name: v for name, v in unit_cols.items() if name.startswith("nb_")})
        yield {name: out[name] for name in unit_cols}


def _onsets(prep: _Prepared, registry, exposure_cols: list[str]) -> dict[str, Any]:
    """``coverage_start`` per deployment source and the left-censored units per exposure column."""
    kind_of = {i.id: i.kind for i in registry.interventions}
    first = np.datetime64(prep.spec.start, "D")

    def period_of_month(month: int) -> int:
        day = np.array([np.datetime64(month, "M").astype("datetime64[D]")])
        return int(period_index(day, prep.spec.start, prep.spec.period)[0]) if day[0] >= first else -1

    periods = censor_periods(prep.coverage, kind_of, period_of_month, len(prep.starts))
    kinds = exposure_kinds(prep.sites)
    columns = onset_columns(exposure_cols)
    censors: dict[str, set[int]] = {}
    for column in columns:
        mode, names = involved(column, kinds, prep.spec.interventions)
        censors[column] = {
            p for (_, iid), p in periods.items() if (kind_of[iid] if mode == "kind" else iid) in names
        }
    return {
        "coverage_start": prep.coverage.start_by_source(),
        "left_censored": left_censored(_exposures(prep), columns, censors, prep.units.ids),
    }


def _batches(prep: _Prepared, progress=None) -> Iterator[pa.RecordBatch]:
    units = prep.units
    n_units, n_periods = len(units), len(prep.starts)
    lag_names = [f"splag_{c}" for c in prep.outcomes]
    no_neighbours = units.neighbour_counts() == 0
    lag_of = _lag_operator(units)
    ids = pa.array(units.ids, pa.int64() if units.kind == "priogrid" else pa.string())
    lat, lon = pa.array(units.lat, pa.float64()), pa.array(units.lon, pa.float64())
    exposures = _exposures(prep)
    outcomes = _dense(prep.sparse, prep.outcomes, n_units, n_periods)
    for t, ((dense, rows, at_rows), exp) in enumerate(zip(outcomes, exposures, strict=True)):
        # only the units with an event feed the lags: multiply by those columns of the adjacency
        near_events = lag_of[:, rows]
        lag = np.empty_like(dense)
        for j in range(len(dense)):
            lag[j] = near_events @ at_rows[j]
        lag[:, no_neighbours] = np.nan
        cols: dict[str, pa.Array] = {
            "unit_id": ids,
            "period": pa.array(np.full(n_units, prep.starts[t]), pa.date32()),
            "unit_lat": lat,
            "unit_lon": lon,
        }
        for j, name in enumerate(prep.outcomes):
            # under drop/point the weights are 1 and the sums of integers in float64 are exact;
            # both branches copy, as the dense buffer is reused for the next period
            column = dense[j]
            cols[name] = pa.array(column.astype(np.int64) if prep.integer_outcomes else column.copy())
        for name, column in exp.items():
            if name.startswith("dist_km_"):
                # float32: 0.5 m resolution at 5,000 km, and half the bytes of the largest columns
                cols[name] = pa.array(column.astype(np.float32), from_pandas=True)
            else:
                cols[name] = pa.array(column, from_pandas=True)  # NaN (troops unknown) -> NULL
        for j, name in enumerate(lag_names):
            cols[name] = pa.array(lag[j], from_pandas=True)
        if progress is not None:
            progress(t + 1, n_periods)
        yield pa.RecordBatch.from_pydict(cols)


def _metadata(
    prep: _Prepared, spec: PanelSpec, engine: str, extra: dict[str, Any] | None, registry
) -> dict[str, Any]:
    kinds = exposure_kinds(prep.sites)
    exposure_cols = exposure_columns(kinds, list(spec.radii_km), _exposure_spec(prep))
    return {
        "entangle_version": __version__,
        **spec.as_metadata(),
        "engine": engine,
        "units": len(prep.units),
        "periods": len(prep.starts),
        "row_order": "period, unit_id",
        "exposure_from": _exposure_from(prep.units, spec.exposure_from),
        "kinds": kinds,
        "columns": {
            "outcomes": prep.outcomes,
            "exposures": exposure_cols,
            "lags": [f"splag_{c}" for c in prep.outcomes],
        },
        "counts": prep.counts,
        "deployment_coverage": prep.coverage.as_metadata(),
        "onsets": _onsets(prep, registry, exposure_cols),
        **(extra or {}),
    }


def build_panel(
    events: pa.Table,
    sites: pa.Table,
    registry,
    spec: PanelSpec,
    engine: str = "duckdb",
    metadata: dict[str, Any] | None = None,
    units: Units | None = None,
) -> pa.Table:
    """The dense panel as one Arrow table (schema metadata key ``entangle``: JSON, see docs/panel.md).

    ``sites``: the registry's sites stacked with the store's (``registry_sites`` gives the former).
    For continental panels prefer ``write_panel``, which streams to Parquet. ``units`` replaces the
    units the spec names (e.g. a custom set of PRIO-GRID cells from ``priogrid_units``).
    """
    meta, batches = iter_panel(events, sites, registry, spec, engine, metadata, units=units)
    table = pa.Table.from_batches(list(batches))
    return table.replace_schema_metadata({"entangle": json.dumps(meta)})


def iter_panel(
    events: pa.Table,
    sites: pa.Table,
    registry,
    spec: PanelSpec,
    engine: str = "duckdb",
    metadata: dict[str, Any] | None = None,
    progress=None,
    units: Units | None = None,
) -> tuple[dict[str, Any], Iterator[pa.RecordBatch]]:
    """The panel's metadata and its rows as one Arrow batch per period (bounded memory).

    Everything up to the per-period pass (units, assignment, the engine's SQL) runs before this
    returns, so input errors surface here. ``progress(done, total)`` is called after each period.
    """
    prep = _prepare(events, sites, registry, spec, engine, units)
    meta = _metadata(prep, spec, engine, metadata, registry)
    meta["rows"] = len(prep.units) * len(prep.starts)
    return meta, _batches(prep, progress)


def _row_groups(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Gather per-period batches into tables of about ``_ROWS_PER_GROUP`` rows (Parquet row groups)."""
    buffer: list[pa.RecordBatch] = []
    for batch in batches:
        buffer.append(batch)
        if sum(b.num_rows for b in buffer) >= _ROWS_PER_GROUP:
            yield pa.Table.from_batches(buffer)
            buffer = []
    if buffer:
        yield pa.Table.from_batches(buffer)


def _stream_parquet(tables: Iterator[pa.Table], path: Path, metadata: dict[str, str]) -> None:
    """Write tables to one Parquet file, encoding in a second thread while the next one is computed.

    Parquet encoding releases the GIL, so it overlaps the numpy work of the next periods. Dictionary
    encoding is kept for the columns that repeat every period (id, period, centroid): on the measure
    columns it cost twice the time for 8 % smaller files. Min/max statistics are written for
    ``unit_id`` and ``period`` only (what readers filter row groups on); on the 60 measure columns they
    cost about a quarter of the write time.
    """
    done = object()
    todo: queue.Queue = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def consume(writer: pq.ParquetWriter) -> None:
        try:
            while (table := todo.get()) is not done:
                writer.write_table(table)
        except BaseException as exc:  # re-raised in the producer thread
            failure.append(exc)
            while todo.get() is not done:  # drain so the producer never blocks
                pass

    writer = None
    thread = None
    try:
        for table in tables:
            if writer is None:
                schema = table.schema.with_metadata(metadata)
                writer = pq.ParquetWriter(
                    path,
                    schema,
                    use_dictionary=["unit_id", "period", "unit_lat", "unit_lon"],
                    write_statistics=["unit_id", "period"],
                )
                thread = threading.Thread(target=consume, args=(writer,), daemon=True)
                thread.start()
            todo.put(table.replace_schema_metadata(metadata))
            if failure:
                break
    finally:
        if thread is not None:
            todo.put(done)
            thread.join()
        if writer is not None:
            writer.close()
    if failure:
        raise failure[0]


def write_panel(
    events: pa.Table,
    sites: pa.Table,
    registry,
    spec: PanelSpec,
    out: str | Path,
    engine: str = "duckdb",
    metadata: dict[str, Any] | None = None,
    progress=None,
    units: Units | None = None,
) -> dict[str, Any]:
    """Build the panel and stream it to Parquet at ``out`` (atomically); return the metadata written.

    ``progress(done, total)`` is called after each period; ``units`` as in ``build_panel``.
    """
    meta, batches = iter_panel(events, sites, registry, spec, engine, metadata, progress, units)
    write_batches(batches, out, meta)
    return meta


def write_batches(batches: Iterator[pa.RecordBatch], out: str | Path, meta: dict[str, Any]) -> None:
    """Stream panel batches (from ``iter_panel``, possibly filtered) to Parquet at ``out``, atomically.

    Row groups of about 1M rows, encoded in a second thread; ``meta`` goes to the schema metadata
    key ``entangle``.
    """
    with atomic_path(out) as tmp:
        _stream_parquet(_row_groups(batches), tmp, {"entangle": json.dumps(meta)})
