"""read_geopko on hand-made files in each real Geo-PKO layout; expectations computed by hand."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from deploy_fixtures import (
    FRONT_HEADER,
    FRONT_ROWS,
    TCC_HEADER,
    TCC_ROWS,
    TT_HEADER,
    TT_ROWS,
    V2MAP_HEADER,
    V2MAP_ROWS,
    registry,
    v1_bytes,
    write,
)

from entangle.errors import InputError
from entangle.sources.geopko import read_geopko

KM_PER_DEGREE = math.pi / 180 * 6371.0088


def by_line(result):
    return {row["line"]: row for row in result.table.to_pylist()}


@pytest.fixture
def v1(tmp_path):
    path = tmp_path / "geopko_v1_fixture.csv"
    path.write_bytes(v1_bytes())
    return read_geopko(path, registry())


def test_v1_every_row_accounted_for(v1):
    assert v1.rows_in == 11
    assert (v1.rows_loaded, v1.rows_rejected) == (8, 3)
    assert v1.kind == "sites" and v1.source == "geopko"
    reasons = {r["line"]: (r["column"], r["reason"]) for r in v1.rejects.to_pylist()}
    assert reasons == {
        7: ("latitude", "no coordinates, and no registry site of that name"),
        9: ("latitude", "latitude/longitude out of range (swapped?)"),
        10: ("month", "month '13' is not 1-12"),
    }
    assert json.loads(v1.rejects.to_pylist()[0]["raw"])["location"] == "unclear"


def test_v1_name_alias_and_proximity_matches(v1):
    rows = by_line(v1)
    gao = rows[2]
    assert (gao["intervention_id"], gao["registry_site_id"], gao["match_method"]) == (
        "minusma",
        "minusma_gao",
        "name",
    )
    assert gao["start"] == dt.date(2015, 2, 1) and gao["end"] == dt.date(2015, 2, 28)
    assert gao["period"] == "month" and gao["troops"] == 1200
    assert gao["site_id"] == "geopko:minusma:gao:2015-02"
    assert gao["country_iso3"] == "MLI"
    # "Tombouctou (Timbuktu)": the registry knows both spellings of the one site
    assert rows[3]["registry_site_id"] == "minusma_timbuktu" and rows[3]["match_method"] == "name"
    # "Camp Nord" lies 0.09 degrees of latitude north of the Gao site: a proximity match
    camp = rows[4]
    assert (camp["registry_site_id"], camp["match_method"]) == ("minusma_gao", "proximity")
    assert camp["match_km"] == pytest.approx(0.09 * KM_PER_DEGREE, abs=1e-3)
    # 1 degree north of Gao is beyond 25 km of every site: kept, unmatched
    far = rows[5]
    assert far["intervention_id"] == "minusma" and far["registry_site_id"] is None
    # a mission the registry does not hold: kept with NULL intervention
    assert rows[6]["intervention_id"] is None and rows[6]["registry_site_id"] is None
    # the Barkhane site also named Gao is never matched to a MINUSMA row
    assert all(r["registry_site_id"] != "barkhane_gao" for r in rows.values())


def test_v1_missing_coordinates_come_from_the_named_site(v1):
    row = by_line(v1)[8]
    assert (row["lat"], row["lon"]) == (16.30, 0.00)
    assert row["troops"] == 1350 and row["troops_raw"] == "1,350"
    assert "1 rows without coordinates took their registry site's" in v1.notes


def test_v1_mixed_encoding_and_troop_text(v1):
    rows = by_line(v1)
    assert rows[11]["name"] == "Ménaka" and rows[11]["registry_site_id"] == "minusma_menaka"
    assert rows[3]["troops"] is None and rows[3]["troops_raw"] == "NA"
    ansongo = rows[12]  # its quoted comment spans two physical lines
    assert ansongo["troops"] is None and ansongo["troops_raw"] == "~300"
    notes = "\n".join(v1.notes)
    assert "1 lines were not valid UTF-8 and were decoded as cp1252" in notes
    assert "2 No.troops cells were not numeric ('NA' 1, '~300' 1)" in notes
    assert "1 per-contributor troop cells were not numeric ('unknown' 1)" in notes
    assert "1 rows of 1 missions match no registry intervention" in notes
    assert "2 rows at 2 locations match no registry site" in notes
    attributes = json.loads(rows[2]["attributes"])
    assert attributes["Source"] == "Map No. 9999 Rev.1" and attributes["contributors"] == ["Niger"]


def test_frontmap_folds_per_map_counts_into_the_yearly_mean(tmp_path):
    result = read_geopko(write(tmp_path / "FrontMap_v.2.3.csv", FRONT_HEADER, FRONT_ROWS), registry())
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    assert result.source_version == "Geo-PKO 2.3 FrontMap mission-year-location"
    (reject,) = result.rejects.to_pylist()
    assert reject["line"] == 3 and reject["reason"].startswith("folded into line 2")
    rows = by_line(result)
    gao = rows[2]
    assert gao["troops"] == 3333 and gao["troops_raw"] == "3000|4000"
    assert (gao["start"], gao["end"], gao["period"]) == (dt.date(2016, 1, 1), dt.date(2016, 12, 31), "year")
    attributes = json.loads(gao["attributes"])
    assert attributes["troops_max"] == 4000 and attributes["hq"] == "3"
    assert gao["registry_site_id"] == "minusma_gao"
    assert rows[4]["troops"] is None and rows[4]["troops_raw"] == "NA"
    assert rows[5]["intervention_id"] is None


def test_troop_type_and_contributor_summaries(tmp_path):
    types_ = read_geopko(write(tmp_path / "TTMap_v.2.3.csv", TT_HEADER, TT_ROWS), registry())
    (row,) = types_.table.to_pylist()
    assert row["troops"] is None and json.loads(row["attributes"])["eng"] == "5"
    assert "this layout carries no troop totals: troops is NULL on every row" in types_.notes
    tcc = read_geopko(write(tmp_path / "TCCMap_v.2.3.csv", TCC_HEADER, TCC_ROWS), registry())
    (row,) = tcc.table.to_pylist()
    assert json.loads(row["attributes"])["year.overview"] == "Chad (650), Niger (size unknown)"
    assert row["start"] == dt.date(2017, 1, 1)


def test_v2_map_level_layout(tmp_path):
    result = read_geopko(
        write(tmp_path / "Geo_PKO_v.2.3_location_map.csv", V2MAP_HEADER, V2MAP_ROWS), registry()
    )
    gao, menaka = result.table.to_pylist()
    assert gao["troops"] == 5000 and gao["country_iso3"] == "MLI"
    assert (gao["start"], gao["end"]) == (dt.date(2020, 2, 1), dt.date(2020, 2, 29))
    assert menaka["troops"] is None and menaka["troops_raw"] == "100-200"
    assert menaka["registry_site_id"] == "minusma_menaka"


def test_semicolon_delimited_file_reads_the_same(tmp_path):
    rows = [r.replace(",", ";") for r in FRONT_ROWS]
    result = read_geopko(
        write(tmp_path / "front_semicolon.csv", FRONT_HEADER.replace(",", ";"), rows), registry()
    )
    assert (result.rows_loaded, result.rows_rejected) == (3, 1)


def test_row_with_wrong_cell_count_is_rejected(tmp_path):
    result = read_geopko(
        write(tmp_path / "f.csv", TT_HEADER, [*TT_ROWS, "MINUSMA,2018,Gao,16.3"]), registry()
    )
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert result.rejects.to_pylist()[0]["reason"] == "4 cells where the header has 13"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"PK\x03\x04\x00\x00binary", "a binary file, not delimited text"),
        (b"mission,year,place,lat,lon\nMINUSMA,2015,Gao,16,0\n", "missing column(s)"),
    ],
)
def test_unreadable_files_raise_one_input_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_geopko(path, registry())
    assert message in caught.value.what and str(path) in caught.value.where


def test_missing_columns_name_the_closest_layout(tmp_path):
    path = write(tmp_path / "front.csv", FRONT_HEADER.replace("ave.no.troops", "mean"), FRONT_ROWS)
    with pytest.raises(InputError) as caught:
        read_geopko(path, registry())
    assert caught.value.where.endswith(":1") and caught.value.what == "missing column(s) ave.no.troops"
