"""The multiverse (shared demeaning, FWL) gives the per-model results, spec by spec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from entangle.errors import EstimateError
from entangle.estimate import estimate
from entangle.estimate.grid import expand_grid, run_each, run_specs
from entangle.estimate.multiverse import plan_groups
from entangle.estimate.terms import materialize
from entangle.simulate import SimulationSpec, simulate_panel
from entangle.study import Grid

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


@pytest.fixture(scope="module")
def panel():
    frame, meta = simulate_panel(SimulationSpec(units=100, periods=20, seed=11))
    rng = np.random.default_rng(11)
    frame["x1"] = rng.normal(size=len(frame))
    frame["x2"] = frame.groupby("unit_id")[Y].shift(1).fillna(0) + rng.normal(size=len(frame))
    frame["x3"] = rng.poisson(2.0, len(frame)).astype(float)
    frame["y2"] = frame[Y] + 0.5 * frame["x1"] + rng.normal(size=len(frame))
    frame["troops"] = frame[D] * rng.integers(50, 800, len(frame))
    frame["region"] = frame["unit_id"] % 17
    frame.loc[rng.random(len(frame)) < 0.02, "x3"] = np.nan  # missing values: their own sample
    return frame, meta


def _random_specs(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    outcomes = [Y, "y2", "log1p(troops)"]
    treatments = {"twfe": [D, "l(present_peacekeeping_25km, 1)"], "dose": ["troops", "log1p(troops)"]}
    treatments |= {"event-study": [D], "spillover": [D]}
    controls = [[], ["x1"], ["x1", "x2"], ["x3"], ["l(x1, 1)"], ["x2", "asinh(x3)"]]
    specs = []
    while len(specs) < n:
        design = str(rng.choice(list(treatments)))
        treatment = str(rng.choice(treatments[design]))
        outcome = str(rng.choice(outcomes))
        if outcome == "log1p(troops)" and design == "dose":
            continue
        options: dict = {}
        if rng.random() < 0.4:
            options["lag"] = int(rng.integers(1, 3))
        if design == "event-study":
            options |= {
                "estimator": "twfe",
                "leads": int(rng.integers(2, 4)),
                "lags": int(rng.integers(1, 4)),
            }
            if rng.random() < 0.3:
                options |= {"reference": "pre_mean", "reference_periods": 2, "leads": 4}
        if design == "spillover":
            options |= {"r1_km": 30, "r2_km": float(rng.choice([60, 80]))}
        if design == "dose" and rng.random() < 0.3:
            options["extensive"] = True
        spec = {
            "design": design,
            "outcome": outcome,
            "treatment": treatment,
            "controls": list(controls[rng.integers(len(controls))]),
            "inference": "conley" if rng.random() < 0.15 else "cluster",
            "options": options,
            "strict": False,
        }
        if rng.random() < 0.3:
            spec["cluster"] = "region"
        specs.append(spec)
    return specs


def _per_model(frame: pd.DataFrame, spec: dict, meta: dict):
    """The reference: one ``estimate`` call, on the frame with the spec's terms as columns."""
    exprs = [spec["outcome"], spec["treatment"], *spec["controls"]]
    data, names = materialize(frame, exprs)
    return estimate(
        data,
        spec["design"],
        names[spec["outcome"]],
        names[spec["treatment"]],
        cluster=spec.get("cluster"),
        controls=[names[c] for c in spec["controls"]],
        inference=spec["inference"],
        metadata=meta,
        **spec["options"],
    )


def test_fifty_random_specs_equal_per_model_fits(panel):
    frame, meta = panel
    specs = _random_specs(50, seed=3)
    _, _, groups, alone = plan_groups(frame, specs, meta)
    assert len(alone) == 0 and len(groups) < len(specs)  # every spec took the shared path, in groups
    shared = run_specs(frame, specs, metadata=meta, progress=False)
    fitted = 0
    for spec, ours in zip(specs, shared, strict=True):
        try:
            ref = _per_model(frame, spec, meta)
        except EstimateError as exc:  # a grid cell that cannot be estimated says the same
            assert not ours.estimates and ours.warnings == [f"not estimated: {exc}"]
            continue
        fitted += 1
        assert ours.estimates, (spec, ours.warnings)
        assert [e.term for e in ours.estimates] == [e.term for e in ref.estimates]
        for a, b in zip(ours.estimates, ref.estimates, strict=True):
            # estimate and SE to 1e-8 relative; CI bounds and p-values to 1e-8 of their scale
            assert a.estimate == pytest.approx(b.estimate, rel=1e-8, abs=1e-12), spec
            assert a.std_error == pytest.approx(b.std_error, rel=1e-8), spec
            for bound in ("ci_low", "ci_high"):
                assert getattr(a, bound) == pytest.approx(
                    getattr(b, bound), abs=1e-8 * (abs(b.estimate) + b.std_error)
                )
            assert a.p_value == pytest.approx(b.p_value, abs=1e-8), spec
        assert (ours.n_obs, ours.n_units, ours.n_clusters) == (ref.n_obs, ref.n_units, ref.n_clusters)
        assert ours.warnings == ref.warnings and ours.formula == ref.formula
        assert ours.panel_hash == ref.panel_hash
        assert (ours.outcome, ours.treatment) == (ref.outcome, ref.treatment)
        assert ours.scale.keys() == ref.scale.keys()
        for key, value in ref.scale.items():
            assert ours.scale[key] == (pytest.approx(value, rel=1e-8) if isinstance(value, float) else value)
        if spec["design"] == "event-study":
            ours_test, ref_test = ours.extra["pretrend"], ref.extra["pretrend"]
            assert ours_test["terms"] == ref_test["terms"]
            assert ours_test["stat"] == pytest.approx(ref_test["stat"], rel=1e-7)
            assert ours.extra["event_time"] == ref.extra["event_time"]
    assert fitted >= 40


def test_shared_fit_equals_pyfixest_directly(panel):
    """Independent of entangle's per-model path: pyfixest's feols on the same columns."""
    import pyfixest as pf

    frame, meta = panel
    spec = {"design": "twfe", "outcome": "y2", "treatment": D, "controls": ["x1", "x2"], "cluster": "region"}
    (ours,) = run_specs(
        frame, [spec | {"inference": "cluster", "options": {}}], metadata=meta, progress=False
    )
    fit = pf.feols(f"y2 ~ {D} + x1 + x2 | unit_id + period", data=frame, vcov={"CRV1": "region"})
    tidy = fit.tidy().loc[D]
    est = ours.estimates[0]
    assert est.estimate == pytest.approx(float(tidy["Estimate"]), rel=1e-8)
    assert est.std_error == pytest.approx(float(tidy["Std. Error"]), rel=1e-8)
    assert est.ci_low == pytest.approx(float(tidy["2.5%"]), rel=1e-8)
    assert est.p_value == pytest.approx(float(tidy["Pr(>|t|)"]), rel=1e-8, abs=1e-12)


def test_designs_that_cannot_share_fall_back_and_errors_stay_cells(panel):
    frame, meta = panel
    specs = [
        {"design": "did", "outcome": Y, "treatment": D, "options": {"estimator": "imputation"}},
        {"design": "event-study", "outcome": Y, "treatment": D, "options": {"leads": 2, "lags": 2}},
        {"design": "twfe", "outcome": Y, "treatment": "x1", "options": {}, "inference": "ri"},
        {"design": "spillover", "outcome": Y, "treatment": "troops", "options": {}},  # not 0/1
        {"design": "twfe", "outcome": Y, "treatment": D, "controls": ["x1", "x1"], "options": {}},
    ]
    specs = [
        s | {"strict": False, "inference": s.get("inference", "cluster"), "controls": s.get("controls", [])}
        for s in specs
    ]
    specs[2]["options"] = {"ri_draws": 19}
    _, _, _, alone = plan_groups(frame, specs, meta)
    assert sorted(alone) == [0, 1, 2]  # did, imputation event study, RI
    ours = run_specs(frame, specs, metadata=meta, progress=False)
    loop = run_each(frame, specs, metadata=meta, progress=False)
    for a, b in zip(ours, loop, strict=True):
        assert a.warnings == b.warnings
        assert [e.estimate for e in a.estimates] == pytest.approx(
            [e.estimate for e in b.estimates], rel=1e-10
        )
    assert ours[3].warnings[0].startswith("not estimated:") and "0/1" in ours[3].warnings[0]
    assert ours[4].warnings[0].startswith("not estimated:") and "collinear" in ours[4].warnings[0]


def test_grid_dimensions_expand_and_collapse():
    grid = Grid(
        designs=["twfe", "event-study"],
        outcomes=["y"],
        treatments=["present_peacekeeping_{r}km"],
        radii=[25, 50],
        controls=[[], ["x1"]],
        lags=[0, 1],
        estimators=["imputation", "twfe"],
        samples=["exclude_censored", "keep_censored"],
    )
    specs = expand_grid(grid)
    twfe = [s for s in specs if s["design"] == "twfe"]
    study = [s for s in specs if s["design"] == "event-study"]
    # twfe has no estimator and reads no onsets: radii × controls × lags only
    assert len(twfe) == 2 * 2 * 2 and len(study) == 2 * 2 * 2 * 2 * 2
    assert {s["treatment"] for s in specs} == {
        f"{lag}present_peacekeeping_{r}km{end}" for r in (25, 50) for lag, end in (("", ""), ("l(", ", 1)"))
    }
    assert {s["options"].get("censored_onsets", "exclude") for s in study} == {"exclude", "keep"}
    assert {s["options"]["estimator"] for s in study} == {"imputation", "twfe"}
