"""Estimation benchmarks.

* ``bench_twfe_5m``: TWFE with unit-clustered errors on a 5,000,000-row panel (20,000 units × 250
  periods): ``entangle.estimate.estimate`` against calling ``pyfixest.feols`` directly on the same
  frame, in the same process, imports warmed up first. Target: ratio ≤ 1.15.
* ``bench_grid_200``: a 200-model specification grid (4 designs × 5 outcomes × 5 treatments ×
  2 lags) on a Mali-size panel (1,000 units × 132 months), on a Dask LocalCluster with 1 and with
  2 workers (reported; the ratio is 2-worker time / 1-worker time).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from _util import row, timed
from entangle.estimate import estimate
from entangle.estimate.grid import expand_grid, run_specs
from entangle.simulate import SimulationSpec, simulate_panel
from entangle.study import Grid


def _big_panel(units: int = 20_000, periods: int = 250, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units, dtype=np.int64), periods)
    t = np.tile(np.arange(periods), units)
    onset = np.where(
        rng.random(units) < 0.6, rng.integers(periods // 10, periods - periods // 10, units), periods
    )
    d = (t >= onset[unit]).astype(np.int8)
    y = rng.normal(size=units)[unit] + 0.01 * t + 1.0 * d + rng.normal(size=len(unit))
    period = (np.datetime64("2000-01", "M") + t).astype("datetime64[ms]")
    return pd.DataFrame({"unit_id": unit, "period": period, "y": y, "d": d})


def bench_twfe_5m() -> list[dict]:
    import pyfixest as pf

    small = _big_panel(200, 20)
    estimate(small, "twfe", "y", "d")
    pf.feols("y ~ d | unit_id + period", data=small, vcov={"CRV1": "unit_id"})
    frame = _big_panel()

    def reference():
        return pf.feols("y ~ d | unit_id + period", data=frame, vcov={"CRV1": "unit_id"})

    def ours():
        return estimate(frame, "twfe", "y", "d")

    # Interleaved, best of 4: single runs of either vary by ±30 % on this VM (page faults on 5M-row
    # allocations), far more than the difference being measured.
    ref_t = our_t = float("inf")
    for _ in range(4):
        t, ref_fit = timed(reference)
        ref_t = min(ref_t, t)
        t, result = timed(ours)
        our_t = min(our_t, t)
    same = abs(result.estimates[0].estimate - float(ref_fit.coef()["d"])) < 1e-8
    ratio = our_t / ref_t
    return [row("estimate_twfe_5m_rows", our_t, "s", ref_t, "<= 1.15", ratio <= 1.15 and same)]


def _grid_panel() -> tuple[pd.DataFrame, dict, list[dict]]:
    frame, meta = simulate_panel(SimulationSpec(units=1000, periods=132, seed=1))
    rng = np.random.default_rng(1)
    treatment = meta["treatment"]
    matrix = frame[treatment].to_numpy().reshape(1000, 132)
    treatments = [treatment]
    for k in range(1, 5):  # four more 0/1 treatments: later onsets and fewer sites, as other radii would give
        name = f"{treatment}_v{k}"
        later = np.concatenate([np.zeros((1000, 3 * k)), matrix[:, : -3 * k]], axis=1)
        frame[name] = (later * (rng.random(1000) < 0.8)[:, None]).astype(np.int8).ravel()
        treatments.append(name)
    outcomes = [meta["outcome"]]
    for k in range(1, 5):
        name = f"outcome_v{k}"
        frame[name] = frame[meta["outcome"]] + rng.normal(0, k * 0.5, len(frame))
        outcomes.append(name)
    grid = Grid(
        designs=["twfe", "dose", "event-study", "spillover"],
        outcomes=outcomes,
        treatments=treatments,
        lags=[0, 1],
    )
    return frame, meta, expand_grid(grid)


def bench_grid_200() -> list[dict]:
    from distributed import Client, LocalCluster

    frame, meta, specs = _grid_panel()
    assert len(specs) == 200
    times = {}
    for workers in (1, 2):
        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            run_specs(frame, specs[:4], metadata=meta, dask=client, progress=False)  # warm workers up
            times[workers], results = timed(
                lambda c=client: run_specs(frame, specs, metadata=meta, dask=c, progress=False)
            )
        estimated = sum(1 for r in results if r.estimates)
    return [
        row("estimate_grid_200_models_1_worker", times[1], "s", None, "report", estimated == 200),
        row("estimate_grid_200_models_2_workers", times[2], "s", times[1], "report (ratio = 2w / 1w)", True),
    ]


BENCHMARKS = [bench_twfe_5m, bench_grid_200]
