"""Specification grids: local and Dask runs give identical results."""

from __future__ import annotations

import pytest

from entangle.estimate.grid import expand_grid, run_specs
from entangle.simulate import SimulationSpec, simulate_panel
from entangle.study import Grid

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


def _flatten(value):
    """Numbers only, in order; everything else as text (so approx can compare the whole tree)."""
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in [k, *_flatten(value[k])]]
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return [str(value)]
    return [value]


def test_grid_expands_every_combination():
    grid = Grid(designs=["twfe", "did"], outcomes=[Y, "y2"], treatments=[D], lags=[0, 1, 2])
    specs = expand_grid(grid)
    assert len(specs) == 2 * 2 * 1 * 3
    assert {(s["design"], s["outcome"], s["treatment"]) for s in specs} == {
        (d, o, t) for d in ("twfe", "did") for o in (Y, "y2") for t in (D, f"l({D}, 1)", f"l({D}, 2)")
    }  # a grid's lags are the treatment terms l(D, k)


def test_local_and_dask_grids_are_identical():
    distributed = pytest.importorskip("distributed")
    frame, meta = simulate_panel(SimulationSpec(units=49, periods=10, seed=8))
    frame["y2"] = frame[Y] * 2 + 1
    specs = expand_grid(
        Grid(designs=["twfe", "event-study", "did"], outcomes=[Y, "y2"], treatments=[D], lags=[0, 1])
    )
    specs.append(
        {"design": "twfe", "outcome": Y, "treatment": D, "inference": "ri", "options": {"ri_draws": 49}}
    )
    local = run_specs(frame, specs, metadata=meta, progress=False)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = run_specs(frame, specs, metadata=meta, dask=client, progress=False)
    # identical up to the last bits of BLAS reductions (Dask workers run single-threaded BLAS), except
    # what pyfixest fits on an unbalanced sample (the imputation event study's pre-trend regression on
    # untreated rows): its iterative demeaning stops at tolerance 1e-6 at a point that depends on the
    # number of threads (OMP/RAYON_NUM_THREADS=1, as on a worker, moves a lead's SE by 4e-7 relative)
    for a, b in zip(local, remote, strict=True):
        ours, theirs = _flatten(a.to_dict()), _flatten(b.to_dict())
        assert [x for x in ours if isinstance(x, str)] == [x for x in theirs if isinstance(x, str)]
        numbers = [x for x in ours if not isinstance(x, str)]
        unbalanced = a.design == "event-study" and a.extra.get("estimator") == "imputation"
        rel = 1e-4 if unbalanced else 1e-12  # p-values and CI bounds move more than the SE
        assert numbers == pytest.approx([x for x in theirs if not isinstance(x, str)], rel=rel)
    # y2 = 2·y + 1: every effect doubles, a check that the grid really varied the outcome
    by_key = {(r.design, r.outcome, r.options["lag"]): r for r in local if r.inference == "cluster"}
    for (design, outcome, lag), result in by_key.items():
        if outcome == "y2":
            base = by_key[(design, Y, lag)]
            assert result.estimates[0].estimate == pytest.approx(2 * base.estimates[0].estimate, rel=1e-6)
