"""The hrddp/profile commands on the shared extract, the monthly series, and the report section."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from entangle.mechanisms.series import monthly_series
from entangle.report.mechanisms import mechanisms_section


@pytest.fixture
def study(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("ENTANGLE_DATA", str(shared_data))
    text = (
        '[study]\nname = "acled only"\ntheatre = "mali"\nfrom = 2012-01-01\nto = 2020-10-31\n'
        f'unit = "admin:{shared_data}/gadm_mali/gadm_MLI_adm2.geojson:GID_2"\n'
        '[[study.sources.events]]\nsource = "acled"\n'
        f'path = "{shared_data}/acled_mali_extract/Processed_Acled_Mali.csv"\n'
    )
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


def test_hrddp_command_formats(cli, study, acled_store, tmp_path):
    code, out, err = cli("hrddp", study, "--store", acled_store, "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["thresholds"]["scale_deaths"] == 10 and "scale" in payload["thresholds"]["meaning"]
    fama = [r for r in payload["records"] if r["tie_id"] == "minusma_fama_logistical_support"]
    assert len(fama) == 106  # Jan 2012 .. Oct 2020
    # the study's files loaded afresh give the same figures as the store
    code, fresh, err = cli("hrddp", study, "--format", "json")
    assert code == 0, err
    assert json.loads(fresh)["records"] == payload["records"]
    target = tmp_path / "monitor.csv"
    code, _, err = cli(
        "hrddp", study, "--store", acled_store, "--format", "csv", "--scale-deaths", "20", "--out", target
    )
    assert code == 0 and "wrote" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    june = next(
        r for r in rows if r["tie_id"] == "minusma_fama_logistical_support" and r["period"] == "2020-06"
    )
    assert june["largest_event_fatalities"] == "26" and "scale" in june["flags"]
    code, table, _ = cli("hrddp", study, "--store", acled_store)
    assert code == 0 and "Binedama" in table and ">= 10 civilian deaths" in table


def test_profile_command(cli, study, acled_store):
    code, out, err = cli("profile", study, "--store", acled_store, "--format", "json", "--bands", "0,50")
    assert code == 0, err
    rows = pd.DataFrame(json.loads(out))
    assert set(rows["band"]) == {"0-50 km", "> 50 km", "no active site"}
    code, _, err = cli("profile", study, "--store", acled_store, "--of", "blue_helmets")
    assert code == 2 and err.startswith("error: --of:") and err.count("\n") == 1
    code, out, err = cli("profile", study, "--store", acled_store, "--changes")
    assert code == 0, err
    assert "closure" in out and "opening" in out


def test_monthly_series_by_hand():
    panel = pd.DataFrame(
        {
            "unit_id": ["a", "b", "a", "b"],
            "period": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-02-01", "2020-02-01"]),
            "attacks_on_peacekeepers": [1.0, 2.0, 0.0, 3.0],
            "civilian_fatalities": [5.0, 7.0, 4.0, 1.0],
            "present_peacekeeping_25km": [1, 0, 1, 1],
            "entanglement_25km": [0.0, 2.0, 1.0, 3.0],
        }
    )
    series = monthly_series(panel, 25)
    assert series["attacks_on_peacekeepers"].tolist() == [3.0, 3.0]
    assert series["civilian_fatalities_near_pk"].tolist() == [5.0, 5.0]
    assert series["units_entangled"].tolist() == [1, 2]
    assert series["entanglement_mean"].tolist() == [1.0, 2.0]
    with pytest.raises(Exception, match="missing column"):
        monthly_series(panel, 50)


def test_report_section():
    assert mechanisms_section({}) == ""
    mech = {
        "settings": {"profile_of": "peacekeeping"},
        "hrddp": {
            "policy": "HRDDP",
            "thresholds": {"meaning": {"scale": "one event with >= 10", "frequency": ">= 3 in 3"}},
            "note": "",
            "ties": [
                {
                    "tie_id": "t",
                    "provider": "pk",
                    "recipient": "state",
                    "tie_type": "logistical_support",
                    "start": "2020-01-01",
                    "end": None,
                    "conditioned": "hrddp",
                    "hrddp_months": 6,
                    **{
                        p: {
                            "months": 12,
                            "events": 3,
                            "civilian_fatalities": 13,
                            "civilian_fatalities_per_month": 1.08,
                            "assoc_events": 1,
                            "flagged_months": 2,
                        }
                        for p in ("before", "during", "after")
                    },
                }
            ],
            "incidents": [
                {
                    "event_id": "acled:X1",
                    "date": "2020-03-05",
                    "location": "Village <b>",
                    "recipient": "state",
                    "fatalities": 12,
                    "nearest_provider_site": "Capital",
                    "nearest_provider_km": 108.6,
                    "source_version": "ACLED export",
                }
            ],
        },
        "profile": [{"year": 2020, "band": "0-10 km", "civilian_fatalities": 3.0, "events": 2.0}],
        "changes": [],
        "designs": [],
        "series": [
            {
                "period": "2020-01-01",
                "attacks_on_peacekeepers": 1,
                "civilian_fatalities_near_pk": 2,
                "units_entangled": 3,
            }
        ],
        "series_radius_km": 25.0,
        "notes": [],
    }
    html = mechanisms_section(mech)
    assert html.startswith('<section id="ties">') and "What the ties did" in html
    assert "Village &lt;b&gt;" in html  # escaped
    assert "acled:X1" in html and "108.6 km" in html and "6 of the months" in html
