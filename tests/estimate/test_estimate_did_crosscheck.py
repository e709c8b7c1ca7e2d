"""Staggered DiD: Callaway–Sant'Anna (differences) against the imputation estimator and by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from entangle.estimate import estimate
from entangle.simulate import SimulationSpec, simulate_panel

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


def _tiny(seed: int = 0, units: int = 40, periods: int = 2) -> pd.DataFrame:
    """Balanced panel: half the units treated in the last period, the other half never."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), periods)
    period = np.tile(np.arange(periods), units)
    treated_unit = unit < units // 2
    d = (treated_unit & (period == periods - 1)).astype(int)
    y = rng.normal(size=units)[unit] + 0.4 * period + 1.5 * d + rng.normal(size=len(unit))
    return pd.DataFrame({"unit_id": unit, "period": period, Y: y, D: d})


def _by_hand(frame: pd.DataFrame) -> float:
    """ATT(g, t) = mean change of the treated − mean change of the never treated (t vs t − 1)."""
    wide = frame.pivot(index="unit_id", columns="period", values=Y)
    change = wide.iloc[:, -1] - wide.iloc[:, -2]
    treated = frame.groupby("unit_id")[D].max() == 1
    return float(change[treated].mean() - change[~treated].mean())


def test_cs_imputation_and_twfe_equal_the_hand_computed_2x2():
    frame = _tiny()
    hand = _by_hand(frame)
    cs = estimate(frame, "did", Y, D)
    imp = estimate(frame, "did", Y, D, estimator="imputation")
    twfe = estimate(frame, "twfe", Y, D)
    assert cs.term("ATT").estimate == pytest.approx(hand, abs=1e-9)
    assert imp.term("ATT").estimate == pytest.approx(hand, abs=1e-9)
    assert twfe.term(D).estimate == pytest.approx(hand, abs=1e-9)
    # standard errors of two independent implementations of the same 2x2 agree closely too
    assert imp.term("ATT").std_error == pytest.approx(cs.term("ATT").std_error, rel=0.1)


def test_cs_by_hand_on_the_last_cohort_period_with_a_longer_panel():
    frame = _tiny(seed=3, periods=5)
    cs = estimate(frame, "did", Y, D, event=True)
    assert cs.term("e=0").estimate == pytest.approx(_by_hand(frame), abs=1e-9)


def test_cs_and_imputation_agree_on_a_staggered_panel_with_dynamic_effects():
    spec = SimulationSpec(
        units=300, periods=24, heterogeneity=0.6, dynamic=0.05, noise_sd=0.2, spatial_sd=0.1, seed=5
    )
    frame, meta = simulate_panel(spec)
    cs = estimate(frame, "did", Y, D, control_group="notyet")
    imp = estimate(frame, "did", Y, D, estimator="imputation")
    truth = meta["truth"]["att"]
    assert cs.term("ATT").estimate == pytest.approx(imp.term("ATT").estimate, abs=0.05)
    for result in (cs, imp):
        att = result.term("ATT")
        assert att.ci_low < truth < att.ci_high
    # event-time effects: imputation per horizon against the truth per horizon
    imp_event = estimate(frame, "did", Y, D, estimator="imputation", event=True, lags=4)
    for h in range(5):
        assert imp_event.term(f"e={h}").estimate == pytest.approx(meta["truth"]["event"][f"e={h}"], abs=0.15)
