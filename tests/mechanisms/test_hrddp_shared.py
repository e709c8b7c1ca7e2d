"""The HRDDP monitor on the shared ACLED extract against an independent count (pandas on the CSV).

The count is written from ACLED's own columns and the actor names: the Malian forces are ACLED's
"Military Forces of Mali" and "Police Forces of Mali" (any period suffix; not "Mutiny of ..."), the
Joint Force is "G5S: G5 Sahel Force"; civilian harm is the older codebook's civilian targeting
(Violence against civilians, or civilians as actor 2 of an explosion or riot).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from entangle.mechanisms.hrddp import RECORD_FIELDS, Thresholds, monitor
from entangle.mechanisms.inputs import read_store
from entangle.registry import load_registry

START, END = dt.date(2012, 1, 1), dt.date(2020, 10, 31)
FAMA = r"^(?:Military|Police) Forces of Mali\b"
G5 = r"^G5S: G5 Sahel Force"


@pytest.fixture(scope="module")
def result(acled_store):
    inputs = read_store(acled_store, load_registry())
    return monitor(inputs.events, inputs.sites, inputs.registry, START, END, Thresholds(10, 3, 3))


def _harm(csv: pd.DataFrame) -> pd.DataFrame:
    vac = csv["event_type"] == "Violence against civilians"
    aimed = (csv["inter2"] == 7) & csv["event_type"].isin(["Explosions/Remote violence", "Riots"])
    out = csv[vac | aimed].copy()
    out["month"] = pd.to_datetime(out["event_date"]).dt.to_period("M").astype(str)
    return out


def _independent(csv: pd.DataFrame, pattern: str) -> pd.DataFrame:
    harm = _harm(csv)
    own = harm["actor1"].str.contains(pattern, regex=True)
    assoc = ~own & harm["assoc_actor_1"].fillna("").str.split(";").map(
        lambda parts: any(pd.Series([p.strip() for p in parts]).str.contains(pattern, regex=True))
    )
    months = pd.period_range("2012-01", "2020-10", freq="M").astype(str)
    table = pd.DataFrame(index=months)
    table["events"] = harm[own].groupby("month").size()
    table["deaths"] = harm[own].groupby("month")["fatalities"].sum()
    table["max_deaths"] = harm[own].groupby("month")["fatalities"].max()
    table["assoc_events"] = harm[assoc].groupby("month").size()
    table["assoc_deaths"] = harm[assoc].groupby("month")["fatalities"].sum()
    return table.fillna(0).astype(int)


def _records(result, tie_id: str) -> pd.DataFrame:
    return pd.DataFrame([r for r in result.records if r["tie_id"] == tie_id]).set_index("period")


@pytest.mark.parametrize(
    ("tie_id", "pattern", "first_active", "last_active"),
    [
        ("minusma_fama_logistical_support", FAMA, "2017-07", "2020-10"),
        ("minusma_g5s_jf_logistical_support", G5, "2018-02", "2020-10"),
        ("minusma_g5s_jf_intelligence_sharing", G5, "2020-07", "2020-10"),
    ],
)
def test_monthly_counts_match_an_independent_count(
    result, acled_csv, tie_id, pattern, first_active, last_active
):
    got = _records(result, tie_id)
    want = _independent(acled_csv, pattern)
    assert list(got.index) == list(want.index)  # every month of the study, zeros included
    assert got["events"].tolist() == want["events"].tolist()
    assert got["civilian_fatalities"].tolist() == want["deaths"].tolist()
    assert got["assoc_events"].tolist() == want["assoc_events"].tolist()
    assert got["assoc_civilian_fatalities"].tolist() == want["assoc_deaths"].tolist()
    largest = got["largest_event"].map(lambda e: e["fatalities"] if e else 0)
    assert largest.tolist() == want["max_deaths"].tolist()
    active = [p for p, a in got["tie_active"].items() if a]
    assert (active[0], active[-1]) == (first_active, last_active)
    assert len(active) == len(pd.period_range(first_active, last_active, freq="M"))
    # flags against the stated thresholds, recomputed from the independent count
    scale = want["max_deaths"] >= 10
    frequency = want["events"].rolling(3, min_periods=1).sum() >= 3
    assert got["flags"].map(lambda f: "scale" in f).tolist() == scale.tolist()
    assert got["flags"].map(lambda f: "frequency" in f).tolist() == frequency.tolist()


def test_fama_figures_while_support_active(result, acled_csv):
    want = _independent(acled_csv, FAMA).loc["2017-07":"2020-10"]
    during = next(t for t in result.ties if t["tie_id"] == "minusma_fama_logistical_support")["during"]
    assert during["events"] == want["events"].sum() > 50
    assert during["civilian_fatalities"] == want["deaths"].sum()
    assert during["months"] == 40
    # the Joint Force does not appear as a perpetrator of civilian harm in this extract
    g5 = _independent(acled_csv, G5)
    assert g5["events"].sum() == 0 and g5["assoc_events"].sum() == 0


def test_record_fields_and_nearest_provider_site(result):
    assert all(tuple(r) == RECORD_FIELDS for r in result.records)
    registry = load_registry()
    minusma = [s for s in registry.sites if s.intervention_id == "minusma"]
    checked = 0
    for record in result.records:
        if record["tie_id"] != "minusma_fama_logistical_support" or record["largest_event"] is None:
            continue
        detail = result.details[record["largest_event"]["event_id"]]
        month = pd.Period(record["period"], "M")
        first, last = month.start_time.date(), month.end_time.date()
        active = [s for s in minusma if s.start <= last and (s.end is None or s.end >= first)]
        if not active:
            assert record["nearest_provider_site"] is None
            continue
        # haversine, written here
        lat1, lon1 = np.radians(detail["lat"]), np.radians(detail["lon"])
        km = [
            2
            * 6371.0088
            * np.arcsin(
                np.sqrt(
                    np.sin((np.radians(s.lat) - lat1) / 2) ** 2
                    + np.cos(lat1) * np.cos(np.radians(s.lat)) * np.sin((np.radians(s.lon) - lon1) / 2) ** 2
                )
            )
            for s in active
        ]
        k = int(np.argmin(km))
        assert record["nearest_provider_site"] == active[k].name
        assert record["nearest_provider_km"] == pytest.approx(km[k], abs=0.06)
        checked += 1
    assert checked >= 30


def test_largest_incidents_are_fama_while_active(result):
    rows = result.to_dict()["incidents"]
    assert rows[0]["fatalities"] >= rows[-1]["fatalities"]
    assert {r["recipient"] for r in rows} == {"fama"}
    assert all("2017-07-01" <= r["date"] <= "2020-10-31" for r in rows)


def test_conditioning_from_the_registry(result):
    ties = {t["tie_id"]: t for t in result.ties}
    g5 = ties["minusma_g5s_jf_logistical_support"]
    assert g5["conditioned"] == "hrddp" and g5["hrddp_months"] == g5["during"]["months"] == 33
    resolution = next(m for m in g5["mandates"] if m["document"] == "S/RES/2391 (2017)")
    assert resolution["support_to_recipient"] and "hrddp" in resolution["conditions"]
    assert ties["minusma_fama_logistical_support"]["conditioned"] == "human_rights"
