"""read_radpko on hand-made monthly and yearly base files in the RADPKO layout."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from deploy_fixtures import RADPKO_M_HEADER, RADPKO_M_ROWS, RADPKO_Y_HEADER, RADPKO_Y_ROWS, registry, write

from entangle.errors import InputError
from entangle.sources.radpko import read_radpko


@pytest.fixture
def monthly(tmp_path):
    return read_radpko(write(tmp_path / "radpko_bases_cc.csv", RADPKO_M_HEADER, RADPKO_M_ROWS), registry())


def test_monthly_rows_accounted_for(monthly):
    assert (monthly.rows_in, monthly.rows_loaded, monthly.rows_rejected) == (6, 4, 2)
    assert monthly.source_version == "RADPKO base-level monthly"
    reasons = {r["line"]: (r["column"], r["reason"]) for r in monthly.rejects.to_pylist()}
    assert reasons == {
        5: ("latitude", "no coordinates, and no registry site of that name"),
        7: ("date", "date '2016-02-30' is not a valid date"),
    }


def test_monthly_values(monthly):
    rows = {r["line"]: r for r in monthly.table.to_pylist()}
    feb = rows[2]
    assert feb["troops"] == 1400  # untrp, not pko_deployed (1500)
    assert (feb["start"], feb["end"], feb["period"]) == (dt.date(2016, 2, 1), dt.date(2016, 2, 29), "month")
    assert (feb["intervention_id"], feb["registry_site_id"]) == ("minusma", "minusma_gao")
    assert feb["site_id"] == "radpko:minusma:gao:2016-02"
    assert json.loads(feb["attributes"])["cc"] == "Niger|Chad"
    assert rows[3]["site_id"] == "radpko:minusma:gao:2016-03" and rows[3]["troops"] == 1410
    # a base without coordinates, known to the registry by its French name
    timbuktu = rows[4]
    assert timbuktu["registry_site_id"] == "minusma_timbuktu" and (timbuktu["lat"], timbuktu["lon"]) == (
        16.8,
        -3.0,
    )
    juba = rows[6]
    assert juba["intervention_id"] is None and juba["troops"] is None and juba["troops_raw"] == "NA"
    assert "1 untrp cells were not numeric ('NA' 1): troops NULL, text kept in troops_raw" in monthly.notes


def test_yearly_file_is_detected_and_means_rounded(tmp_path):
    result = read_radpko(
        write(tmp_path / "radpko_bases_cc_y.csv", RADPKO_Y_HEADER, RADPKO_Y_ROWS), registry()
    )
    assert result.source_version == "RADPKO base-level yearly"
    first, second = result.table.to_pylist()
    assert (first["troops"], first["troops_raw"]) == (1406, "1405.6")
    assert second["troops"] == 1500
    assert (first["start"], first["end"], first["period"]) == (
        dt.date(2016, 1, 1),
        dt.date(2016, 12, 31),
        "year",
    )
    assert first["site_id"] == "radpko:minusma:gao:2016"


def test_period_can_be_forced(tmp_path):
    path = write(tmp_path / "y.csv", RADPKO_Y_HEADER, RADPKO_Y_ROWS)
    forced = read_radpko(path, registry(), period="month")
    assert [r["end"] for r in forced.table.to_pylist()] == [dt.date(2016, 1, 31), dt.date(2017, 1, 31)]


def test_interface_download_with_id_column_and_no_coordinates(tmp_path):
    header = "id,mission,country,date,year,pko_deployed,untrp"
    rows = ["Gao,MINUSMA,Mali,2017-05-01,2017,900,800", "Kidal,MINUSMA,Mali,2017-05-01,2017,100,90"]
    result = read_radpko(write(tmp_path / "radpko.csv", header, rows), registry(), period="month")
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    (gao,) = result.table.to_pylist()
    assert (gao["lat"], gao["lon"], gao["troops"]) == (16.3, 0.0, 800)
    assert "the file has no latitude/longitude: coordinates come from matched registry sites" in result.notes


def test_missing_columns(tmp_path):
    path = write(tmp_path / "r.csv", "mission,date,untrp", ["MINUSMA,2016-01-01,5"])
    with pytest.raises(InputError) as caught:
        read_radpko(path, registry())
    assert caught.value.what == "missing column(s) base (or id)" and caught.value.where == f"{path}:1"
