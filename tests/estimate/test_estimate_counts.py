"""Count models (PPML), the effect scale, and known-effect worlds over repeated draws."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from entangle.estimate import estimate


def _poisson_world(seed: int, units: int = 150, periods: int = 12, beta: float = math.log(1.5)):
    """y ~ Poisson(exp(a_i + l_t + beta·D)), D staggered 0/1; some units never have an event."""
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), periods)
    period = np.tile(np.arange(periods), units)
    a = rng.normal(1.0, 0.8, units)
    lam = rng.normal(0.0, 0.3, periods)
    onset = np.where(rng.random(units) < 0.5, rng.integers(3, periods, units), periods + 99)
    d = (period >= onset[unit]).astype(float)
    y = rng.poisson(np.exp(a[unit] + lam[period] + beta * d)).astype(float)
    return pd.DataFrame({"unit_id": unit, "period": period, "d": d, "y": y})


def test_poisson_equals_pyfixest_on_the_unseparated_rows_and_counts_separation():
    import pyfixest as pf

    frame = _poisson_world(0)
    frame.loc[frame["unit_id"] < 7, "y"] = 0.0  # seven units with no event at all
    frame.loc[frame["period"] == 0, "y"] = 0.0  # and a month without events anywhere
    result = estimate(frame, "twfe", "y", "d", family="poisson")
    # by hand: drop all-zero units and periods (one pass suffices here), fit pyfixest directly
    unit_sum = frame.groupby("unit_id")["y"].transform("sum")
    period_sum = frame.groupby("period")["y"].transform("sum")
    kept = frame[(unit_sum > 0) & (period_sum > 0)]
    direct = pf.fepois("y ~ d | unit_id + period", data=kept, vcov={"CRV1": "unit_id"})
    est = result.term("d")
    assert est.estimate == pytest.approx(float(direct.coef()["d"]), rel=1e-8)
    assert est.std_error == pytest.approx(float(direct.se()["d"]), rel=1e-6)
    sep = result.extra["separation"]
    assert sep["obs_dropped"] == len(frame) - len(kept)
    assert sep["units_dropped"] == 7 and sep["periods_dropped"] == 1
    assert result.n_obs == len(kept) and result.n_units == 150 - 7 and result.n_clusters == 143
    assert any("dropped for separation" in w for w in result.warnings)
    assert not any("clusters (< 30)" in w for w in result.warnings)
    few = frame.assign(y=frame["y"].where(frame["unit_id"] < 20, 0.0))
    fragile = estimate(few, "twfe", "y", "d", family="poisson")
    assert fragile.n_clusters == 20 - 7
    assert "poisson: only 13 clusters (< 30) left after separation" in fragile.warnings[0]
    irr = result.extra["poisson"]["d"]
    assert irr["irr"] == pytest.approx(math.exp(est.estimate))
    assert irr["irr_ci_low"] == pytest.approx(math.exp(est.ci_low))
    assert irr["pct_change"] == pytest.approx(100 * (math.exp(est.estimate) - 1))
    assert result.formula == "poisson: y ~ d | unit_id + period"
    assert result.scale["effect_pct_of_mean"] == pytest.approx(irr["pct_change"])


def test_scale_by_hand():
    frame = _poisson_world(1)
    result = estimate(frame, "twfe", "y", "d")
    est = result.term("d")
    onset = frame[frame["d"] > 0].groupby("unit_id")["period"].min()
    pre = frame[frame["unit_id"].isin(onset.index)]
    pre = pre[pre["period"] < pre["unit_id"].map(onset)]
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    mean = frame["y"].mean()
    assert result.scale == pytest.approx(
        {
            "outcome_mean": mean,
            "outcome_mean_treated_pre": pre["y"].mean(),
            "effect_pct_of_mean": 100 * est.estimate / mean,
            "mde": z * est.std_error,
            "mde_pct_of_mean": 100 * z * est.std_error / mean,
            "term": "d",
        }
    )
    assert round(z, 2) == 2.80
    as_json = result.to_dict()["scale"]
    assert set(as_json) >= {"outcome_mean", "outcome_mean_treated_pre", "effect_pct_of_mean", "mde"}


def test_any_outcome_is_a_linear_probability_model():
    frame = _poisson_world(2)
    result = estimate(frame, "twfe", "any(y)", "d")
    assert result.outcome == "any(y)" and result.extra["model"] == "linear probability model"
    assert result.formula.startswith("any(y) ~ d |")
    direct = frame.assign(b=(frame["y"] > 0).astype(float))
    again = estimate(direct, "twfe", "b", "d")
    assert result.term("d").estimate == pytest.approx(again.term("d").estimate, rel=1e-12)


def _coverage(results: list[tuple[float, float, float]], truth: float) -> tuple[float, float]:
    est = np.array([r[0] for r in results])
    covered = np.mean([lo <= truth <= hi for _, lo, hi in results])
    return float(covered), float(est.mean() - truth)


def test_ppml_recovers_a_multiplicative_effect_and_ols_on_counts_does_not():
    beta = math.log(1.5)
    ppml, ols = [], []
    for seed in range(60):
        frame = _poisson_world(100 + seed, beta=beta)
        p = estimate(frame, "twfe", "y", "d", family="poisson").term("d")
        o = estimate(frame, "twfe", "y", "d").term("d")
        ppml.append((p.estimate, p.ci_low, p.ci_high))
        ols.append((o.estimate, o.ci_low, o.ci_high))
    cover_p, bias_p = _coverage(ppml, beta)
    cover_o, bias_o = _coverage(ols, beta)
    print(
        f"PPML coverage {cover_p:.3f} bias {bias_p:+.4f}; "
        f"OLS coverage of beta {cover_o:.3f} bias {bias_o:+.3f}"
    )
    assert 0.88 <= cover_p <= 1.0 and abs(bias_p) < 0.02
    assert cover_o < 0.2 and bias_o > 0.5  # OLS estimates a level change, not the log rate ratio


def _lag_world(seed: int, units: int = 120, periods: int = 14, beta: float = 1.0) -> pd.DataFrame:
    """y depends on last period's D only; D switches on and off (persistence 0.7)."""
    rng = np.random.default_rng(seed)
    d = np.zeros((units, periods))
    d[:, 0] = rng.random(units) < 0.3
    for t in range(1, periods):
        stay = rng.random(units) < 0.7
        d[:, t] = np.where(stay, d[:, t - 1], rng.random(units) < 0.3)
    lagged = np.column_stack([np.full(units, np.nan), d[:, :-1]])
    y = rng.normal(0, 1, units)[:, None] + rng.normal(0, 0.5, periods)[None, :] + rng.normal(0, 1, d.shape)
    y = y + beta * np.nan_to_num(lagged)
    return pd.DataFrame(
        {
            "unit_id": np.repeat(np.arange(units), periods),
            "period": np.tile(pd.date_range("2015-01-01", periods=periods, freq="MS"), units),
            "d": d.ravel(),
            "y": y.ravel(),
        }
    )


def test_lagged_treatment_world():
    lagged, alias, same = [], [], []
    for seed in range(60):
        frame = _lag_world(200 + seed)
        e = estimate(frame, "twfe", "y", "l(d, 1)").term("l(d, 1)")
        lagged.append((e.estimate, e.ci_low, e.ci_high))
        a = estimate(frame, "twfe", "y", "d", lag=1).term("l(d, 1)")
        alias.append(a.estimate)
        c = estimate(frame, "twfe", "y", "d").term("d")
        same.append((c.estimate, c.ci_low, c.ci_high))
    cover, bias = _coverage(lagged, 1.0)
    cover_same, bias_same = _coverage(same, 1.0)
    print(
        f"l(d, 1): coverage {cover:.3f} bias {bias:+.4f}; d: coverage {cover_same:.3f} bias {bias_same:+.3f}"
    )
    assert 0.88 <= cover <= 1.0 and abs(bias) < 0.03
    assert alias == [r[0] for r in lagged]  # -o lag=1 is the same model
    assert cover_same < 0.2 and bias_same < -0.2  # the contemporaneous treatment misses the effect
