"""The commands end to end on simulated panels: simulate, estimate (table/json/study), power."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pyfixest as pf
import pytest

from entangle.estimate import Result

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


@pytest.fixture(scope="module")
def panel_path(tmp_path_factory):
    from entangle.cli import run_cli

    path = tmp_path_factory.mktemp("sim") / "panel.parquet"
    assert run_cli(["simulate", "--out", str(path), "--units", "64", "--periods", "12", "--seed", "4"]) == 0
    return path


def test_simulate_writes_a_labelled_synthetic_panel(cli, tmp_path):
    out = tmp_path / "s.parquet"
    code, stdout, _ = cli(
        "simulate", "--out", out, "--units", "30", "--periods", "6", "--design", "dose", "--effect", "0.01"
    )
    assert code == 0
    meta = json.loads(pq.read_schema(out).metadata[b"entangle"])
    assert meta["synthetic"] is True and meta["truth"]["slope"] == 0.01
    frame = pd.read_parquet(out)
    assert len(frame) == 180 and {
        "unit_id",
        "period",
        "unit_lat",
        "unit_lon",
        Y,
        "troops_peacekeeping_50km",
    } <= set(frame)
    assert json.loads(stdout)["rows"] == 180


def test_estimate_json_terms_and_values_match_pyfixest(cli, panel_path):
    code, out, err = cli(
        "estimate", panel_path, "--design", "twfe", "--outcome", Y, "--treatment", D, "--format", "json"
    )
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["design"] == "twfe" and result["estimates"][0]["term"] == D
    direct = pf.feols(
        f"{Y} ~ {D} | unit_id + period", data=pd.read_parquet(panel_path), vcov={"CRV1": "unit_id"}
    )
    assert result["estimates"][0]["estimate"] == pytest.approx(float(direct.coef()[D]), rel=1e-10)
    assert result["estimates"][0]["std_error"] == pytest.approx(float(direct.se()[D]), rel=1e-8)
    assert result["n_obs"] == 768 and result["n_units"] == 64 and len(result["panel_hash"]) == 64
    assert result["synthetic"] is True and "synthetic panel" in err
    for key in ("formula", "entangle_version", "warnings", "inference"):
        assert key in result
    assert Result.from_dict(result).to_dict() == result


def test_event_study_and_did_term_names(cli, panel_path):
    code, out, _ = cli(
        "estimate",
        panel_path,
        "--design",
        "event-study",
        "--outcome",
        Y,
        "--treatment",
        D,
        "-o",
        "leads=3",
        "-o",
        "lags=2",
        "--format",
        "json",
    )
    assert code == 0
    result = json.loads(out)[0]
    # default: the imputation estimator; leads from BJS's pre-trend regression, so no omitted e=-1
    assert [e["term"] for e in result["estimates"]] == ["e=-3", "e=-2", "e=-1", "e=0", "e=1", "e=2"]
    assert [e["label"] for e in result["extra"]["event_time"]] == ["−3", "−2", "−1", "0", "1", "≥2"]
    twfe = result["extra"]["comparison"]
    assert [e["term"] for e in twfe["estimates"]] == ["e=-3", "e=-2", "e=0", "e=1", "e=2"]
    assert [e["label"] for e in twfe["estimates"]] == ["≤−3", "−2", "0", "1", "≥2"]
    assert 0 <= result["extra"]["pretrend"]["p_value"] <= 1
    code, out, _ = cli(
        "estimate", panel_path, "--design", "did", "--outcome", Y, "--treatment", D, "--format", "json"
    )
    assert code == 0 and json.loads(out)[0]["estimates"][0]["term"] == "ATT"


def test_table_output_and_out_file(cli, panel_path, tmp_path):
    target = tmp_path / "est.json"
    code, out, _ = cli(
        "estimate", panel_path, "--design", "dose", "--outcome", Y, "--treatment", D, "--out", target
    )
    assert code == 0 and D in out and "95% CI" in out
    assert json.loads(target.read_text())[0]["design"] == "dose"


def test_study_runs_models_and_grid(cli, panel_path, tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(
        f"""[study]
name = "sim"
from = 2012-01-01
to = 2012-12-31

[[study.models]]
design = "twfe"
outcome = "{Y}"
treatment = "{D}"
inference = "conley"
options = {{ conley_km = 60 }}

[study.grid]
designs = ["twfe", "spillover"]
outcomes = ["{Y}"]
treatments = ["{D}", "unit_lat"]
lags = [0, 1]
"""
    )
    code, out, err = cli("estimate", panel_path, "--study", study, "--format", "json")
    assert code == 0, err
    results = json.loads(out)
    assert len(results) == 1 + 2 * 2 * 2
    assert results[0]["inference"] == "conley" and results[0]["options"]["conley_km"] == 60
    lagged = [r for r in results[1:] if r["treatment"] == f"l({D}, 1)" and r["design"] == "twfe"]
    assert lagged and lagged[0]["n_obs"] == 64 * 11
    assert f"~ l({D}, 1) |" in lagged[0]["formula"]  # the lag alias shows in the formula
    failed = [r for r in results if r["treatment"] in ("unit_lat", "l(unit_lat, 1)")]
    assert all(r["estimates"] == [] and "not estimated" in r["warnings"][0] for r in failed)


def test_power_analytic_is_2_8_clustered_se(cli, panel_path):
    code, out, _ = cli("power", panel_path, "--outcome", Y, "--treatment", D)
    assert code == 0
    report = json.loads(out)
    code, est, _ = cli(
        "estimate", panel_path, "--design", "twfe", "--outcome", Y, "--treatment", D, "--format", "json"
    )
    se = json.loads(est)[0]["estimates"][0]["std_error"]
    assert report["mde"] == pytest.approx(2.8016 * se, rel=1e-3)


def test_terms_on_the_command_line_equal_pyfixest_on_hand_made_columns(cli, panel_path, tmp_path):
    rng = np.random.default_rng(8)
    frame = pd.read_parquet(panel_path)
    frame = frame.assign(w=rng.gamma(2.0, size=len(frame)), v=rng.normal(size=len(frame)))
    path = tmp_path / "with_controls.parquet"
    frame.to_parquet(path)
    code, out, err = cli(
        "estimate",
        path,
        "--design",
        "twfe",
        "--outcome",
        f"asinh({Y})",
        "--treatment",
        f"l({D},1)",
        "--controls",
        "sum(w, v), asinh(w)",
        "-o",
        "fixef=unit_id",
        "--format",
        "json",
    )
    assert code == 0, err
    (result,) = json.loads(out)
    assert result["outcome"] == f"asinh({Y})" and result["treatment"] == f"l({D}, 1)"
    assert result["options"]["controls"] == ["sum(w, v)", "asinh(w)"]
    # pyfixest-style formula, and fixef=unit_id does not add the unit effect a second time
    assert result["formula"] == (f"asinh({Y}) ~ l({D}, 1) + sum(w, v) + asinh(w) | unit_id + period")
    frame = frame.sort_values(["unit_id", "period"])
    frame = frame.assign(
        ly=np.arcsinh(frame[Y]),
        ld=frame.groupby("unit_id")[D].shift(1),
        s=frame["w"] + frame["v"],
        a=np.arcsinh(frame["w"]),
    ).dropna(subset=["ld"])
    direct = pf.feols("ly ~ ld + s + a | unit_id + period", data=frame, vcov={"CRV1": "unit_id"})
    assert result["n_obs"] == len(frame) == 64 * 11
    assert result["estimates"][0]["estimate"] == pytest.approx(float(direct.coef()["ld"]), rel=1e-8)
    assert result["estimates"][0]["std_error"] == pytest.approx(float(direct.se()["ld"]), rel=1e-6)


def test_poisson_and_scale_in_the_table(cli, tmp_path):
    rng = np.random.default_rng(5)
    units, periods = 40, 10
    unit = np.repeat(np.arange(units), periods)
    d = (np.tile(np.arange(periods), units) >= np.where(unit % 2 == 0, 4, 99)).astype(float)
    frame = pd.DataFrame(
        {
            "unit_id": unit,
            "period": np.tile(np.arange(periods), units),
            "d": d,
            "y": rng.poisson(np.exp(0.5 + 0.4 * d)).astype(float),
        }
    )
    path = tmp_path / "counts.parquet"
    frame.to_parquet(path)
    code, out, err = cli(
        "estimate", path, "--design", "twfe", "--outcome", "y", "--treatment", "d", "--family", "poisson"
    )
    assert code == 0, err
    direct = pf.fepois("y ~ d | unit_id + period", data=frame, vcov={"CRV1": "unit_id"})
    beta = float(direct.coef()["d"])
    assert "(cluster, poisson)" in out and "IRR [95% CI]" in out
    assert f"{np.exp(beta):.3g} [" in out and f"{100 * np.expm1(beta):+.1f}%" in out
    mean = frame["y"].mean()
    assert f"scale (d): outcome mean {mean:.3g}" in out
    assert f"MDE (80% power, 5%) {2.8016 * float(direct.se()['d']):.3g}" in out
