"""Recovery over repeated simulated draws (fixed seeds): nominal 95% intervals cover the truth about
95% of the time, and static TWFE is biased where theory says (dynamic staggered effects)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from entangle.estimate import estimate
from entangle.simulate import SimulationSpec, simulate_panel

Y = "civilian_fatalities"
LOW, HIGH = 0.89, 0.995  # 95% nominal; ± ~3 binomial SDs for 150 draws

pytestmark = pytest.mark.slow  # repeated draws: 10-90 s per test on a shared 2-core machine


def _draws(spec: SimulationSpec, n: int, fit, truth) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per draw: estimate, truth, and whether the 95% interval covers the truth."""
    est, tru, cover = [], [], []
    for seed in range(n):
        frame, meta = simulate_panel(replace(spec, seed=1000 + seed))
        e = fit(frame, meta)
        t = truth(meta)
        est.append(e.estimate)
        tru.append(t)
        cover.append(e.ci_low <= t <= e.ci_high)
    return np.array(est), np.array(tru), np.array(cover)


def test_twfe_covers_a_homogeneous_effect():
    spec = SimulationSpec(units=80, periods=12, effect=1.0)
    est, tru, cover = _draws(
        spec,
        150,
        lambda f, m: estimate(f, "twfe", Y, m["treatment"]).estimates[0],
        lambda m: m["truth"]["att"],
    )
    assert LOW <= cover.mean() <= HIGH, cover.mean()
    assert abs((est - tru).mean()) < 3 * (est - tru).std() / np.sqrt(len(est))


def test_imputation_covers_heterogeneous_dynamic_effects_where_twfe_is_biased():
    spec = SimulationSpec(units=100, periods=16, effect=1.0, heterogeneity=0.8, dynamic=0.15, never_share=0.2)
    fits = {}

    def both(frame, meta):
        fits["twfe"] = estimate(frame, "twfe", Y, meta["treatment"]).estimates[0]
        return estimate(frame, "did", Y, meta["treatment"], estimator="imputation").term("ATT")

    twfe_est = []

    def record(frame, meta):
        result = both(frame, meta)
        twfe_est.append(fits["twfe"].estimate)
        return result

    est, tru, cover = _draws(spec, 150, record, lambda m: m["truth"]["att"])
    assert LOW <= cover.mean() <= HIGH, cover.mean()
    bias = np.array(twfe_est) - tru
    mc_se = bias.std() / np.sqrt(len(bias))
    assert bias.mean() < -10 * mc_se  # TWFE puts negative weight on late, large effects
    assert abs((est - tru).mean()) < 3 * (est - tru).std() / np.sqrt(len(est))


def test_callaway_santanna_covers_heterogeneous_dynamic_effects():
    spec = SimulationSpec(units=100, periods=12, effect=1.0, heterogeneity=0.8, dynamic=0.15, cohorts=3)
    est, tru, cover = _draws(
        spec, 60, lambda f, m: estimate(f, "did", Y, m["treatment"]).term("ATT"), lambda m: m["truth"]["att"]
    )
    assert 0.87 <= cover.mean() <= 1.0, cover.mean()
    assert abs((est - tru).mean()) < 3 * (est - tru).std() / np.sqrt(len(est))


def test_event_study_covers_zero_leads_and_the_onset_effect():
    spec = SimulationSpec(units=80, periods=16, effect=1.0)
    results = []
    for seed in range(120):
        frame, meta = simulate_panel(replace(spec, seed=2000 + seed))
        results.append(estimate(frame, "event-study", Y, meta["treatment"], leads=3, lags=3))
    lead = np.mean([r.term("e=-2").ci_low <= 0 <= r.term("e=-2").ci_high for r in results])
    onset = np.mean([r.term("e=0").ci_low <= 1 <= r.term("e=0").ci_high for r in results])
    pre_reject = np.mean([r.extra["pretrend"]["p_value"] < 0.05 for r in results])
    assert LOW <= lead <= HIGH and LOW <= onset <= HIGH, (lead, onset)
    assert pre_reject <= 0.11


def test_dose_covers_the_slope():
    spec = SimulationSpec(units=80, periods=12, design="dose", effect=0.004)
    _est, _tru, cover = _draws(
        spec,
        150,
        lambda f, m: estimate(f, "dose", Y, m["treatment"]).estimates[0],
        lambda m: m["truth"]["slope"],
    )
    assert LOW <= cover.mean() <= HIGH, cover.mean()


def test_spillover_covers_own_and_ring_effects():
    # rings are spatially clustered, so their errors need Conley inference when the noise is spatial
    spec = replace(
        SimulationSpec(units=225, periods=10, design="spillover", effect=1.0, r1_km=30, r2_km=60),
        spatial_range_cells=0.7,
    )
    covers = {"own": [], "within_r1": [], "r1_r2": []}
    for seed in range(150):
        frame, meta = simulate_panel(replace(spec, seed=3000 + seed))
        result = estimate(
            frame, "spillover", Y, meta["treatment"], r1_km=30, r2_km=60, inference="conley", conley_km=100
        )
        for key, term in zip(covers, [meta["treatment"], "within_30km", "within_30_60km"], strict=True):
            e, t = result.term(term), meta["truth"][key]
            covers[key].append(e.ci_low <= t <= e.ci_high)
    for key, values in covers.items():
        assert LOW - 0.02 <= np.mean(values) <= HIGH, (key, np.mean(values))


def test_conley_covers_with_spatially_correlated_noise():
    spec = SimulationSpec(units=144, periods=10, effect=1.0, spatial_sd=1.5, spatial_range_cells=1.0)
    _est, _tru, cover = _draws(
        spec,
        120,
        lambda f, m: estimate(f, "twfe", Y, m["treatment"], inference="conley", conley_km=80).estimates[0],
        lambda m: m["truth"]["att"],
    )
    assert LOW - 0.01 <= cover.mean() <= HIGH, cover.mean()
