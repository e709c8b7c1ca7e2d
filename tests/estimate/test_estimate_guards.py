"""Guards: every input that used to crash a dependency or run without limit is one line and exit 2."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from entangle.simulate import SimulationSpec, simulate_panel

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    frame, _ = simulate_panel(SimulationSpec(units=36, periods=8, seed=2))
    return frame.assign(control=np.random.default_rng(0).normal(size=len(frame)))


def _write(frame: pd.DataFrame, tmp_path) -> str:
    path = tmp_path / "p.parquet"
    frame.to_parquet(path)
    return str(path)


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    return lines[0]


def _inf_rows(frame: pd.DataFrame, column: str, rows: int, value: float = np.inf) -> pd.DataFrame:
    out = frame.astype({column: float})
    out.loc[out.index[:rows], column] = value
    return out


@pytest.mark.parametrize(
    ("mutate", "args", "expect"),
    [
        # an all-infinite outcome used to abort inside pyfixest's Rust demeaner (exit 134)
        (lambda f: f.assign(**{Y: np.inf}), [], f"--outcome {Y}: 288 infinite values"),
        (lambda f: _inf_rows(f, Y, 3, -np.inf), [], f"--outcome {Y}: 3 infinite values"),
        (lambda f: _inf_rows(f, Y, 5, 1e308), [], f"--outcome {Y}: 5 values beyond ±1e+100"),
        (lambda f: _inf_rows(f, Y, 2, -1e308), [], f"--outcome {Y}: 2 values beyond ±1e+100"),
        (
            lambda f: _inf_rows(f, "control", 4),
            ["--controls", "control"],
            "--controls control: 4 infinite values",
        ),
        (lambda f: _inf_rows(f, D, 1), [], f"--treatment {D}: 1 infinite values"),
        # a term that makes infinities: log1p(-1) = -inf
        (
            lambda f: _inf_rows(f.assign(control=f["control"].abs()), "control", 6, -1.0),
            ["--controls", "log1p(control)"],
            "--controls log1p(control): 6 infinite values",
        ),
        (lambda f: f, ["--treatment", Y], f"--outcome {Y}: is also the treatment"),
        (lambda f: f, ["--controls", Y], f"--outcome {Y}: is also a control"),
        (lambda f: f, ["--controls", f"control,{D}"], f"--controls {D}: is the treatment"),
        (
            lambda f: f,
            ["-o", "ri_draws=1000000000", "--inference", "ri"],
            "ri_draws: 1000000000 draws is above",
        ),
        (lambda f: f, ["-o", "lag=100000"], "--option lag: 100000 is outside 0..120 periods"),
        (lambda f: f, ["--treatment", f"l({D}, 8)"], "shift of 8 periods but the panel has 8"),
        (lambda f: f, ["--treatment", f"l({D}, 500)"], "shift 500 is outside 0..120"),
        (lambda f: f, ["--treatment", f"lag({D})"], "unknown function lag()"),
        (lambda f: f, ["--outcome", f"log1p({Y}"], f"term 'log1p({Y}': missing ')'"),
        (lambda f: f.assign(**{Y: f[Y] - 100}), ["--family", "poisson"], "negative values; a Poisson model"),
        (
            lambda f: f,
            ["--family", "poisson", "--inference", "conley"],
            "supports cluster inference, not conley",
        ),
        (lambda f: f, ["--family", "probit"], "--family: unknown family 'probit'"),
        (
            lambda f: f.assign(**{Y: f[Y].abs().where(f["unit_id"] < f["unit_id"].min() + 5, 0.0)}),
            ["--family", "poisson"],
            f"--outcome {Y}: only 5 clusters keep a non-zero outcome after Poisson separation",
        ),
        (lambda f: f, ["--controls", "log1p(control)"], "log1p() is undefined for 52 values below -1"),
    ],
)
def test_guard_is_one_line_exit_2(cli, tmp_path, base, mutate, args, expect):
    path = _write(mutate(base), tmp_path)
    code, _, err = cli("estimate", path, "--design", "twfe", "--outcome", Y, "--treatment", D, *args)
    assert code == 2, err
    assert expect in _one_error_line(err)


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["-o", "leads=100000"], "--option leads: 100000 is outside 0..120 periods"),
        (["-o", "lags=100000"], "--option lags: 100000 is outside 0..120 periods"),
        (["-o", "leads=8"], "--option leads: 8 periods but the panel has 8 (use leads < 8)"),
        (["-o", "lags=9"], "--option lags: 9 periods but the panel has 8"),
    ],
)
def test_event_windows_are_bounded(cli, tmp_path, base, args, expect):
    path = _write(base, tmp_path)
    code, _, err = cli("estimate", path, "--design", "event-study", "--outcome", Y, "--treatment", D, *args)
    assert code == 2, err
    assert expect in _one_error_line(err)


def test_bad_term_in_a_study_fails_validation_naming_the_model(cli, tmp_path, base):
    study = tmp_path / "s.toml"
    study.write_text(
        f'[study]\nname = "s"\nfrom = 2012-01-01\nto = 2012-12-31\n\n[[study.models]]\n'
        f'design = "twfe"\noutcome = "{Y}"\ntreatment = "lg1p({D})"\n'
    )
    code, _, err = cli("estimate", _write(base, tmp_path), "--study", study)
    assert code == 2
    line = _one_error_line(err)
    assert "study.models[0]" in line and "unknown function lg1p() (did you mean log1p()?)" in line


def test_a_study_model_that_cannot_be_estimated_is_listed_and_the_others_run(cli, tmp_path, base):
    frame = _inf_rows(base, "control", 3)
    study = tmp_path / "s.toml"
    study.write_text(
        f"""[study]
name = "s"
from = 2012-01-01
to = 2012-12-31

[[study.models]]
design = "twfe"
outcome = "{Y}"
treatment = "{D}"
controls = ["control"]

[[study.models]]
design = "twfe"
outcome = "{Y}"
treatment = "l({D}, 1)"
"""
    )
    code, out, err = cli("estimate", _write(frame, tmp_path), "--study", study, "--format", "json")
    assert code == 0, err
    first, second = json.loads(out)
    assert first["estimates"] == []
    assert first["warnings"] == [
        "not estimated: --controls control: 3 infinite values (replace them "
        "(e.g. missing) or transform the column (log1p, asinh))"
    ]
    assert second["estimates"] and second["treatment"] == f"l({D}, 1)"
    assert "not estimated: --controls control: 3 infinite values" in err


def test_missing_values_are_dropped_with_a_count_per_column(tmp_path, base):
    from entangle.estimate import estimate

    frame = base.copy()
    frame.loc[frame.index[:5], "control"] = np.nan
    result = estimate(frame, "twfe", Y, D, controls=["control", f"l({D}, 1)"])
    # 36 first-period rows lack a lag; the 5 missing controls are in units 0..4's first period too
    lag_missing = int(frame["period"].eq(frame["period"].min()).sum())
    first_rows = frame.index[:5].isin(frame.index[frame["period"].eq(frame["period"].min())]).sum()
    dropped = lag_missing + 5 - first_rows
    assert result.n_obs == len(frame) - dropped
    assert f"dropped {dropped} rows with missing values in the model's columns" in result.warnings[0]
    assert f"control 5, l({D}, 1) {lag_missing}" in result.warnings[0]
