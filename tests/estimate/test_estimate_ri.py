"""Randomization inference: placebo estimates equal brute-force refits; p-values by hand; seeded."""

from __future__ import annotations

import numpy as np
import pyfixest as pf
import pytest

from entangle.estimate import estimate
from entangle.estimate.data import prepare
from entangle.estimate.design import fixed_effects
from entangle.estimate.inference.ri import permutations, pool_units
from entangle.estimate.linear import linear_statistic
from entangle.estimate.twfe import build
from entangle.simulate import SimulationSpec, simulate_panel

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


@pytest.fixture(scope="module")
def panel_frame():
    frame, _ = simulate_panel(SimulationSpec(units=49, periods=10, effect=0.3, seed=11))
    frame["x1"] = np.random.default_rng(1).normal(size=len(frame))
    return frame


def test_fast_placebo_statistic_equals_a_feols_refit_on_permuted_data(panel_frame):
    panel = prepare(panel_frame, Y, D, controls=("x1",))
    statistic = linear_statistic(panel, fixed_effects(panel, ""), build(panel, {}))
    matrix, orders = permutations(panel, "treated", draws=5, seed=3)
    for order in orders:
        permuted = panel_frame.copy()
        permuted[D] = matrix[order][panel.unit_code, panel.period_code]
        refit = pf.feols(f"{Y} ~ {D} + x1 | unit_id + period", data=permuted)
        assert statistic(matrix[order])[0] == pytest.approx(float(refit.coef()[D]), rel=1e-7)


def test_permutations_keep_untreated_units_and_only_move_timing(panel_frame):
    panel = prepare(panel_frame, Y, D)
    treated = pool_units(panel, "treated")
    _matrix, orders = permutations(panel, "treated", draws=20, seed=3)
    for order in orders:
        untouched = np.setdiff1d(np.arange(panel.n_units), treated)
        assert (order[untouched] == untouched).all()
        assert sorted(order[treated]) == sorted(treated)


def test_ri_pvalue_by_hand_and_reproducible(panel_frame):
    a = estimate(panel_frame, "twfe", Y, D, inference="ri", ri_draws=99, seed=7)
    b = estimate(panel_frame, "twfe", Y, D, inference="ri", ri_draws=99, seed=7)
    assert a.to_dict() == b.to_dict()
    panel = prepare(panel_frame, Y, D)
    statistic = linear_statistic(panel, fixed_effects(panel, ""), build(panel, {}))
    matrix, orders = permutations(panel, "treated", draws=99, seed=7)
    placebo = np.array([statistic(matrix[o])[0] for o in orders])
    observed = a.estimates[0].estimate
    expected = (1 + (np.abs(placebo) >= abs(observed) - 1e-12).sum()) / 100
    assert a.estimates[0].p_value == pytest.approx(expected)
    assert a.extra["ri"]["placebo_sd"][0] == pytest.approx(placebo.std(ddof=1))


def test_ri_pool_by_feasible_column(panel_frame):
    frame = panel_frame.assign(
        feasible=(panel_frame["unit_lat"] < panel_frame["unit_lat"].median()).astype(int)
    )
    result = estimate(frame, "twfe", Y, D, inference="ri", ri_pool="feasible", ri_draws=49)
    assert result.extra["ri"]["pool"] == "feasible"
    assert 0 < result.estimates[0].p_value <= 1


@pytest.mark.slow
def test_ri_rejects_at_the_nominal_rate_under_the_null():
    rejections = []
    for seed in range(40):
        frame, _ = simulate_panel(SimulationSpec(units=64, periods=10, effect=0.0, seed=500 + seed))
        result = estimate(frame, "twfe", Y, D, inference="ri", ri_draws=99, seed=seed)
        rejections.append(result.estimates[0].p_value <= 0.05)
    assert np.mean(rejections) <= 0.15
