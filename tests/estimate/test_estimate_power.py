"""Power: the minimum detectable effect is detected about 80% of the time."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from entangle.estimate import estimate
from entangle.estimate.power import mde_by_simulation, multiplier
from entangle.simulate import SimulationSpec, simulate_panel


def test_multiplier_is_z_975_plus_z_80():
    assert multiplier() == pytest.approx(1.959964 + 0.841621, rel=1e-6)


@pytest.mark.slow
def test_simulated_mde_is_detected_with_80_percent_power():
    spec = SimulationSpec(units=64, periods=10, seed=0)
    report = mde_by_simulation(spec, "twfe", draws=100)
    assert report["sigma"] == pytest.approx(report["mean_clustered_se"], rel=0.25)
    hits = []
    for seed in range(100):
        frame, meta = simulate_panel(replace(spec, effect=report["mde"], seed=10_000 + seed))
        hits.append(estimate(frame, "twfe", meta["outcome"], meta["treatment"]).estimates[0].p_value < 0.05)
    assert 0.68 <= np.mean(hits) <= 0.92, np.mean(hits)
