"""The designs on a real Mali panel: ACLED extract (read in place) through entangle's panel builder."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyfixest as pf
import pytest

from entangle.estimate import estimate
from entangle.panel import PanelSpec, build_panel, registry_sites
from entangle.registry import load_registry

pytestmark = pytest.mark.shared
Y = "civilian_fatalities"


@pytest.fixture
def mali_panel(shared_data) -> pd.DataFrame:
    return _build(shared_data)


@functools.cache
def _build(shared: Path) -> pd.DataFrame:
    frame = pd.read_csv(shared / "acled_mali_extract" / "Processed_Acled_Mali.csv")
    date = pd.to_datetime(frame["event_date"]).dt.date
    civilians = frame.event_type.eq("Violence against civilians")
    events = pa.table(
        {
            "event_id": ("acled:" + frame.data_id.astype(str)).tolist(),
            "source": ["acled"] * len(frame),
            "date_start": pa.array(date.tolist(), pa.date32()),
            "date_end": pa.array(date.tolist(), pa.date32()),
            "lat": frame.latitude.astype(float).tolist(),
            "lon": frame.longitude.astype(float).tolist(),
            "geo_precision": pa.array(frame.geo_precision.tolist(), pa.int16()),
            "violence_type": frame.event_type.tolist(),
            "perpetrator_category": ["unknown"] * len(frame),
            "target_peacekeepers": frame.actor2.fillna("").str.startswith("MINUSMA").tolist(),
            "fatalities_best": pa.array(frame.fatalities.tolist(), pa.int32()),
            "civilian_fatalities": pa.array(frame.fatalities.where(civilians, 0).tolist(), pa.int32()),
        }
    )
    registry = load_registry()
    spec = PanelSpec(start=dt.date(2012, 1, 1), end=dt.date(2020, 10, 31))
    return build_panel(events, registry_sites(registry), registry, spec).to_pandas(date_as_object=False)


def test_twfe_on_the_mali_panel_equals_pyfixest(mali_panel):
    treatment = "copresence_50km"
    ours = estimate(mali_panel, "twfe", Y, treatment)
    direct = pf.feols(f"{Y} ~ {treatment} | unit_id + period", data=mali_panel, vcov={"CRV1": "unit_id"})
    assert ours.estimates[0].estimate == pytest.approx(float(direct.coef()[treatment]), rel=1e-9)
    assert ours.estimates[0].std_error == pytest.approx(float(direct.se()[treatment]), rel=1e-8)
    assert ours.n_units == mali_panel.unit_id.nunique() and not ours.synthetic


def test_every_design_runs_on_the_mali_panel(mali_panel):
    presence = "present_peacekeeping_50km"
    results = [
        estimate(mali_panel, "event-study", Y, presence),
        estimate(mali_panel, "did", Y, presence, estimator="imputation"),
        estimate(mali_panel, "dose", Y, "entanglement_50km"),
        estimate(
            mali_panel, "spillover", Y, "present_peacekeeping_25km", r1_km=60, r2_km=120, inference="conley"
        ),
    ]
    for result in results:
        values = [e.estimate for e in result.estimates] + [e.std_error for e in result.estimates]
        assert result.estimates and np.isfinite(values).all()
        assert all(e.ci_low < e.estimate < e.ci_high for e in result.estimates)
