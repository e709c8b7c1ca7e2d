"""Panel build benchmarks: the full panel with exposures against a minimal numpy/scipy reference.

Continental case (issue 4): 2,000,000 events and 1,500 sites over 432 months on 65,000 PRIO-GRID
cells (28M rows). Mali-size case: about 1,000 cells × 132 months. Each case runs in a fresh
subprocess (so its peak RSS is measured): it generates the synthetic world, times the reference —
``np.bincount`` of events and fatalities on the dense (cell, month) index plus one ``cKDTree`` query
of all cells against the month's active sites, per month — then times the panel twice: ``build``
consumes ``iter_panel`` (every outcome, exposure, entanglement and lag column, as Arrow batches, like
the reference's in-memory arrays) and ``build_and_write_parquet`` runs ``write_panel`` (the same,
streamed to a Parquet file). Peak RSS covers the whole subprocess (data, reference and both runs).
"""

from __future__ import annotations

import json

from _util import peak_rss_mb, row

_CASE = r"""
import datetime as dt, json, tempfile, time, types
from pathlib import Path
import numpy as np, pyarrow as pa
from scipy.spatial import cKDTree
from entangle.geo.distance import unit_vectors
from entangle.geo.units import priogrid_units
import pyarrow.compute
from entangle.panel import PanelSpec, iter_panel, write_panel
from entangle.registry.schema import Intervention, Theatre, Tie

N_EVENTS, N_SITES, N_MONTHS = {n_events}, {n_sites}, {n_months}
ROWS, COLS, ROW0, COL0 = {rows}, {cols}, {row0}, {col0}
rng = np.random.default_rng(42)
row, col = np.meshgrid(np.arange(ROW0, ROW0 + ROWS), np.arange(COL0, COL0 + COLS), indexing="ij")
gids = (row * 720 + col + 1).ravel()
units = priogrid_units(gids)
lat_lo, lon_lo = -90 + 0.5 * ROW0, -180 + 0.5 * COL0
lat_hi, lon_hi = lat_lo + 0.5 * ROWS, lon_lo + 0.5 * COLS
start = dt.date(1989, 1, 1)
end = (np.datetime64("1989-01", "M") + N_MONTHS).astype("datetime64[D]").astype(dt.date)
end -= dt.timedelta(days=1)
n_days = (end - start).days + 1

# events: 70 % around 200 hotspots, 30 % uniform; negative-binomial fatalities
hot = rng.integers(0, 200, N_EVENTS)
hot_lat, hot_lon = rng.uniform(lat_lo, lat_hi, 200), rng.uniform(lon_lo, lon_hi, 200)
clustered = rng.random(N_EVENTS) < 0.7
lat = np.where(clustered, hot_lat[hot] + rng.normal(0, 1.0, N_EVENTS), rng.uniform(lat_lo, lat_hi, N_EVENTS))
lon = np.where(clustered, hot_lon[hot] + rng.normal(0, 1.0, N_EVENTS), rng.uniform(lon_lo, lon_hi, N_EVENTS))
lat, lon = np.clip(lat, lat_lo + 1e-6, lat_hi - 1e-6), np.clip(lon, lon_lo + 1e-6, lon_hi - 1e-6)
day = np.datetime64(start) + rng.integers(0, n_days, N_EVENTS)
fat = rng.negative_binomial(1, 0.3, N_EVENTS).astype(np.int32)
vt = np.array(["state_based", "non_state", "one_sided"])[rng.integers(0, 3, N_EVENTS)]
cats = np.array(["state_and_allied", "international", "jihadist", "militia", "rebel", "other", "unknown"])
events = pa.table({{
    "source": pa.array(np.full(N_EVENTS, "ucdp")), "date_start": pa.array(day), "date_end": pa.array(day),
    "lat": lat, "lon": lon, "geo_precision": pa.array(np.ones(N_EVENTS, np.int16)),
    "violence_type": pa.array(vt), "perpetrator_category": pa.array(cats[rng.integers(0, 7, N_EVENTS)]),
    "target_peacekeepers": rng.random(N_EVENTS) < 0.02, "fatalities_best": fat,
    "civilian_fatalities": (fat * (vt == "one_sided")).astype(np.int32),
}})

# sites: staggered start/end over the whole window, 12 interventions of the 4 base kinds
kinds = ["peacekeeping", "counterterrorism", "state_forces", "private_military"]
src = [{{"ref": "synthetic benchmark"}}]
interventions = [Intervention(id=f"i{{k}}", name=f"i{{k}}", kind=kinds[k % 4], organization="x",
                              start=dt.date(1900, 1, 1), sources=src) for k in range(12)]
ties = [Tie(id=f"t{{k}}", source_id=f"i{{a}}", target_id=f"i{{b}}", type="coordination", weight=float(w),
            start=start + dt.timedelta(days=int(s)), sources=src)
        for k, (a, b, w, s) in enumerate(zip(rng.integers(0, 6, 20), rng.integers(6, 12, 20),
                                             rng.integers(1, 4, 20), rng.integers(0, n_days, 20)))]
registry = types.SimpleNamespace(interventions=interventions, ties=ties, sites=(), theatre=None)
s_start = np.datetime64(start) + rng.integers(-365, n_days, N_SITES)
s_end = s_start + rng.integers(30, 4000, N_SITES)
sites = pa.table({{
    "intervention_id": pa.array([f"i{{k}}" for k in rng.integers(0, 12, N_SITES)]),
    "lat": rng.uniform(lat_lo, lat_hi, N_SITES), "lon": rng.uniform(lon_lo, lon_hi, N_SITES),
    "start": pa.array(s_start), "end": pa.array(s_end),
    "troops": pa.array(np.where(rng.random(N_SITES) < 0.3, np.nan, rng.integers(50, 3000, N_SITES)),
                       from_pandas=True),
}})

# --- reference: bincount counts + one cKDTree query of all cells per month -----------------------
t0 = time.perf_counter()
cell = units.locate(lat, lon)
month = (day.astype("datetime64[M]") - np.datetime64(start, "M")).astype(np.int64)
flat = cell * N_MONTHS + month
n_ev = np.bincount(flat, minlength=len(gids) * N_MONTHS)
n_fat = np.bincount(flat, weights=fat, minlength=len(gids) * N_MONTHS)
cells_v = unit_vectors(units.lat, units.lon)
sites_v = unit_vectors(sites["lat"].to_numpy(), sites["lon"].to_numpy())
month_start = np.datetime64(start, "M") + np.arange(N_MONTHS)
dist = np.empty((N_MONTHS, len(gids)), np.float32)
for m in range(N_MONTHS):
    first = month_start[m].astype("datetime64[D]")
    last = (month_start[m] + 1).astype("datetime64[D]") - 1
    active = (s_start <= last) & (s_end >= first)
    dist[m] = cKDTree(sites_v[active]).query(cells_v, k=1)[0] if active.any() else np.inf
reference = time.perf_counter() - t0
checksum = float(n_fat.sum())
del n_ev, n_fat, dist, flat

# --- entangle: the full panel (all columns), consumed in memory, then streamed to Parquet --------
# the whole regime complex: three kind pairs and three interventions by name (neighbour columns are on)
pairs = (("peacekeeping", "counterterrorism"), ("peacekeeping", "private_military"),
         ("peacekeeping", "state_forces"))
spec = PanelSpec(start=start, end=end, radii_km=(25.0, 50.0), pairs=pairs, interventions=("i0", "i1", "i2"))
t0 = time.perf_counter()
meta, batches = iter_panel(events, sites, registry, spec, units=units)
total = 0.0
for batch in batches:
    total += float(pa.compute.sum(batch.column("fatalities")).as_py())
build = time.perf_counter() - t0
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "panel.parquet"
    t0 = time.perf_counter()
    write_panel(events, sites, registry, spec, out, units=units)
    written = time.perf_counter() - t0
    size_mb = out.stat().st_size / 1e6
n_columns = 4 + 2 * len(meta["columns"]["outcomes"]) + len(meta["columns"]["exposures"])
print(json.dumps({{"reference": reference, "build": build, "write": written, "rows": meta["rows"],
                  "columns": n_columns, "size_mb": size_mb, "conserved": total == checksum}}))
"""


def _case(name: str, target_ratio: float | None, **params) -> list[dict]:
    """Rows for one case; ``target_ratio`` None means report only (no target in the issue)."""
    peak, result = peak_rss_mb(_CASE.format(**params))
    print(json.dumps({"case": name, **result, "peak_mb": peak}))
    ref = result["reference"]

    def timing(label: str, seconds: float, target: float | None) -> dict:
        if target is None:
            return row(f"panel_{name}_{label}", seconds, "s", ref, "report", result["conserved"])
        ok = seconds <= target * ref and result["conserved"]
        return row(f"panel_{name}_{label}", seconds, "s", ref, f"<= {target:g}x reference", ok)

    # The reference computes in memory and writes nothing, so the like-for-like ratio (the target)
    # is the build; the Parquet write is reported beside it.
    return [
        timing("build", result["build"], target_ratio),
        timing("build_and_write_parquet", result["write"], None),
        row(f"panel_{name}_peak_rss", peak, "MB", None, "< 6000 MB", peak < 6000),
    ]


def bench_panel_mali_size() -> list[dict]:
    """About 1,000 cells × 132 months (Mali-size), 20,000 events, 60 sites."""
    return _case(
        "mali", None, n_events=20_000, n_sites=60, n_months=132, rows=25, cols=40, row0=200, col0=340
    )


def bench_panel_continental() -> list[dict]:
    """65,000 cells × 432 months (28M rows), 2,000,000 events, 1,500 sites."""
    return _case(
        "continental",
        2.0,
        n_events=2_000_000,
        n_sites=1_500,
        n_months=432,
        rows=180,
        cols=361,
        row0=90,
        col0=320,
    )


BENCHMARKS = [bench_panel_mali_size, bench_panel_continental]
