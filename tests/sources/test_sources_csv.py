"""The mapped generic CSV loader: mapping, dates, delimiters, BOM, and mapping mistakes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from entangle.errors import InputError
from entangle.sources.csv import parse_mapping, read_csv

FIXTURES = Path(__file__).parent / "fixtures"
GENERIC = FIXTURES / "generic_events.csv"
MAPPING = [
    "event_id=Incident ID",
    "date=Date",
    "lat=Lat",
    "lon=Long",
    "fatalities=Killed",
    "actor1=Perpetrator",
    "actor2=Victims",
    "admin1=Region",
    "target_civilians=Civilian target",
]


def test_mapped_values():
    result = read_csv(GENERIC, MAPPING)
    assert (result.source, result.rows_in, result.rows_loaded) == ("csv:generic_events", 4, 4)
    rows = {r["source_id"]: r for r in result.table.to_pylist()}
    assert rows["G-1"]["event_id"] == "csv:generic_events:G-1"
    assert rows["G-3"]["date_start"] == dt.date(2019, 5, 2)  # 02/05/2019 is day-first
    assert rows["G-3"]["date_end"] == rows["G-3"]["date_start"]
    assert (rows["G-4"]["lat"], rows["G-4"]["lon"], rows["G-4"]["fatalities_best"]) == (14.08, -3.52, 11)
    assert [rows[k]["target_civilians"] for k in ("G-1", "G-2", "G-3", "G-4")] == [False, False, False, True]
    assert rows["G-2"]["actor2"] is None
    assert rows["G-1"]["admin1"] == "Mopti"


def test_bom_and_semicolons_give_the_same_rows(tmp_path):
    text = GENERIC.read_text()
    path = tmp_path / "generic_events.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace(",", ";").encode("utf-8"))
    plain = read_csv(GENERIC, MAPPING).table.drop_columns(["source_version"])
    other = read_csv(path, MAPPING).table.drop_columns(["source_version"])
    assert other.to_pylist() == plain.to_pylist()


def test_without_id_the_line_is_the_id():
    result = read_csv(GENERIC, ["date=Date", "lat=Lat", "lon=Long"])
    assert result.table.column("source_id").to_pylist() == ["2", "3", "4", "5"]


def test_mapping_mistakes():
    with pytest.raises(InputError, match="no column mapped for lon"):
        parse_mapping(["date=Date", "lat=Lat"])
    with pytest.raises(InputError, match="unknown field 'deaths'"):
        parse_mapping(["date=Date", "lat=Lat", "lon=Long", "deaths=Killed"])
    with pytest.raises(InputError, match="is not canon=column"):
        parse_mapping(["date"])
    with pytest.raises(InputError, match="missing column 'when'"):
        read_csv(GENERIC, ["date=When", "lat=Lat", "lon=Long"])


def test_bad_boolean_is_a_reject(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(GENERIC.read_text().replace(",yes", ",perhaps"))
    result = read_csv(path, MAPPING)
    assert result.rows_rejected == 1
    reject = result.rejects.to_pylist()[0]
    assert (reject["line"], reject["column"], reject["reason"]) == (
        5,
        "civilian target",
        "not true/false: perhaps",
    )
