"""The bundled replication study (docs/replication.md) validates and its models run on the shared data."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from entangle.estimate.terms import parse
from entangle.study import load_study

STUDY = "src/entangle/studies/protection_through_presence.toml"
PANEL_COLUMN = re.compile(
    r"civilian_fatalities_(rebel|jihadist|militia|state_and_allied)"
    r"|splag_civilian_fatalities_(rebel|jihadist|militia|state_and_allied)"
    r"|troops_peacekeeping_(25|36)km|nb_troops_peacekeeping|events_political_violence"
)


def test_study_validates_and_names_panel_columns(shared_data, monkeypatch):
    monkeypatch.setenv("ENTANGLE_DATA", str(shared_data))
    study = load_study(STUDY)
    assert [m.family for m in study.models] == [
        "poisson",
        "linear",
        "poisson",
        "linear",
        "poisson",
        "poisson",
    ]
    assert study.exposure.radii_km == [25.0, 36.0]
    for model in study.models:
        for name in (model.outcome, model.treatment, *model.controls):
            assert all(PANEL_COLUMN.fullmatch(c) for c in parse(name).columns()), name
        assert parse(model.treatment).shifts() == [1]


@pytest.mark.slow
def test_linear_model_equals_pyfixest_on_hand_made_lags(shared_data, monkeypatch, tmp_path, cli):
    import pyfixest as pf

    monkeypatch.setenv("ENTANGLE_DATA", str(shared_data))
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")
    code, _, err = cli("run", STUDY, "--out", tmp_path / "out")
    assert code == 0, err
    results = json.loads((tmp_path / "out" / "estimates.json").read_text())
    assert len(results) == 6 and all(r["estimates"] for r in results)
    # model 2 by hand: lags with pandas groupby on the sorted panel, then pyfixest directly
    panel = pd.read_parquet(tmp_path / "out" / "panel.parquet").sort_values(["unit_id", "period"])
    by_unit = panel.groupby("unit_id")
    y = panel["civilian_fatalities_rebel"] + panel["civilian_fatalities_jihadist"]
    splag = panel["splag_civilian_fatalities_rebel"] + panel["splag_civilian_fatalities_jihadist"]
    frame = pd.DataFrame(
        {
            "unit_id": panel["unit_id"],
            "period": panel["period"],
            "y": y,
            "d": np.log1p(by_unit["troops_peacekeeping_36km"].shift(1)),
            "nb": np.log1p(by_unit["nb_troops_peacekeeping"].shift(1)),
            "ylag": y.groupby(panel["unit_id"]).shift(1),
            "splag": splag.groupby(panel["unit_id"]).shift(1),
            "pv": by_unit["events_political_violence"].shift(1),
        }
    ).dropna()
    direct = pf.feols(
        "y ~ d + nb + ylag + splag + pv | unit_id + period", data=frame, vcov={"CRV1": "unit_id"}
    )
    linear = results[1]
    assert linear["n_obs"] == len(frame)
    assert linear["estimates"][0]["estimate"] == pytest.approx(float(direct.coef()["d"]), rel=1e-8)
    assert linear["estimates"][0]["std_error"] == pytest.approx(float(direct.se()["d"]), rel=1e-6)
    assert linear["scale"]["outcome_mean"] == pytest.approx(frame["y"].mean())
