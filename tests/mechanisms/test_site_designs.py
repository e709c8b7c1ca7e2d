"""Site opening and closure designs recover known effects in simulated worlds (coverage and bias
over repeated draws), and a world where harm is displaced from near a camp to the next band."""

from __future__ import annotations

import numpy as np
import pytest
from site_worlds import after, outcome, spells, units_frame

from entangle.errors import EstimateError
from entangle.mechanisms.sites import add_treatment, estimate_site_design

OPENINGS = ["2015-07-01", "2015-11-01", "2016-03-01", "2016-07-01"]


def _draws(frame, sites, effect, design, radius, options, draws, seed, truth):
    rng = np.random.default_rng(seed)
    values, covered = [], 0
    for _ in range(draws):
        data = outcome(frame, effect, rng)
        att = estimate_site_design(data, sites, design, "y", "pk", radius, dict(options)).estimates[0]
        values.append(att.estimate)
        covered += att.ci_low <= truth <= att.ci_high
    values = np.array(values)
    return values.mean() - truth, covered / draws, values.std(ddof=1) / np.sqrt(draws)


@pytest.fixture(scope="module")
def opening_world():
    frame = units_frame(80, 30, 10.0)
    sites = spells([8, 28, 48, 68], 10.0, OPENINGS, [None] * 4)
    return frame, sites, -1.0 * after(frame, sites, 0, 15, "opening")


def test_treatment_columns_by_hand(opening_world):
    frame, sites, _ = opening_world
    data, column = add_treatment(frame, sites, "opening", "pk", 15)
    assert column == "site_opening_pk_15km"
    d = data.pivot(index="unit_id", columns="period", values=column)
    assert d.loc["u008"].sum() == 30 - 6 and d.loc["u009"].sum() == 24 and d.loc["u010"].sum() == 0
    assert d.loc["u027"].iloc[9] == 0 and d.loc["u027"].iloc[10] == 1  # Nov 2015 = period 10
    assert int((d.sum(axis=1) > 0).sum()) == 12
    # closure: only units that ever had a site within the radius enter
    closing = spells([8, 28], 10.0, [None, None], ["2015-06-30", None])
    data, column = add_treatment(frame, closing, "closure", "pk", 15)
    d = data.pivot(index="unit_id", columns="period", values=column)
    assert sorted(d.index) == ["u007", "u008", "u009", "u027", "u028", "u029"]
    assert d.loc["u008"].iloc[5] == 0 and d.loc["u008"].iloc[6] == 1  # first period without the site
    assert d.loc["u028"].sum() == 0


@pytest.mark.slow
def test_opening_imputation_coverage_and_bias(opening_world):
    bias, coverage, mc_se = _draws(
        *opening_world, "site-opening", 15, {"estimator": "imputation"}, 100, 1, -1.0
    )
    assert abs(bias) < 3 * mc_se + 0.02
    assert 0.88 <= coverage <= 1.0


@pytest.mark.slow
def test_opening_callaway_santanna_bias(opening_world):
    # Callaway-Sant'Anna takes ~3 s a fit here: fewer draws, bias and coverage still checked
    bias, coverage, mc_se = _draws(*opening_world, "site-opening", 15, {"estimator": "cs"}, 8, 2, -1.0)
    assert abs(bias) < 3 * mc_se + 0.05
    assert coverage >= 6 / 8


@pytest.mark.slow
def test_closure_coverage_and_bias():
    frame = units_frame(120, 30, 10.0)
    sites = spells(
        [8, 28, 48, 68, 88, 108],
        10.0,
        [None] * 6,
        ["2015-09-30", "2016-01-31", "2016-05-31", None, None, None],
    )
    effect = 1.5 * after(frame, sites, 0, 15, "closure")
    bias, coverage, mc_se = _draws(
        frame, sites, effect, "site-closure", 15, {"estimator": "imputation"}, 100, 3, 1.5
    )
    assert abs(bias) < 3 * mc_se + 0.02
    assert 0.88 <= coverage <= 1.0
    result = estimate_site_design(
        outcome(frame, effect, np.random.default_rng(4)), sites, "site-closure", "y", "pk", 15
    )
    assert result.design == "site-closure" and result.extra["site_design"]["treated_units"] == 9
    assert result.extra["site_design"]["units"] == 18
    assert any(e.term == "e=0" for e in result.estimates)  # an event study


@pytest.fixture(scope="module")
def displacement_world():
    """Harm falls by 1 within 10 km of a camp that opens and rises by 0.5 at 10-40 km."""
    frame = units_frame(100, 30, 5.0)
    sites = spells([10, 35, 60, 85], 5.0, OPENINGS, [None] * 4)
    effect = -1.0 * after(frame, sites, 0, 10, "opening") + 0.5 * after(frame, sites, 10, 40, "opening")
    return frame, sites, effect


@pytest.mark.slow
def test_displacement_world_near_and_ring(displacement_world):
    imputation = {"estimator": "imputation"}
    near = _draws(*displacement_world, "site-opening", 10, imputation | {"buffer_km": 40}, 60, 5, -1.0)
    ring = _draws(*displacement_world, "site-opening", 40, imputation | {"min_km": 10}, 60, 6, 0.5)
    for bias, coverage, mc_se in (near, ring):
        assert abs(bias) < 3 * mc_se + 0.02
        assert coverage >= 0.85
    # without the buffer, units that received the displaced harm are counted as untouched controls:
    # the fall near the camp looks larger than it is
    naive_bias, naive_coverage, _ = _draws(*displacement_world, "site-opening", 10, imputation, 60, 5, -1.0)
    assert naive_bias < -0.1 and naive_coverage < near[1]


def test_no_treated_unit_is_an_error(opening_world):
    frame, _, _ = opening_world
    never = spells([8], 10.0, [None], [None])  # open throughout: nothing closes
    data = outcome(frame, np.zeros(len(frame)), np.random.default_rng(0))
    with pytest.raises(EstimateError, match="no unit sees a site close"):
        estimate_site_design(data, never, "site-closure", "y", "pk", 15)


def test_effect_scale_is_the_treated_units_mean_before(opening_world):
    frame, sites, effect = opening_world
    data = outcome(frame, effect, np.random.default_rng(7))
    result = estimate_site_design(data, sites, "site-opening", "y", "pk", 15, {"estimator": "imputation"})
    treated_now = after(data, sites, 0, 15, "opening")
    ever = data.assign(d=treated_now).groupby("unit_id")["d"].transform("max") > 0
    want = data.loc[ever & (treated_now == 0), "y"].mean()
    assert result.extra["site_design"]["treated_mean_before"] == pytest.approx(want)
