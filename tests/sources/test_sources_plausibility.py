"""Plausibility at ingest: impossible dates rejected, points outside the theatre counted, swapped
latitude/longitude named in the error (entangle.sources.plausibility)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from entangle.errors import InputError
from entangle.sources.ingest import ingest
from entangle.sources.plausibility import check_plausibility
from entangle.store import open_store


def _sample(shared_data, tmp_path, n=300, edit=None):
    """The first ``n`` Mali rows of the real ACLED extract, written to a temporary file (never kept)."""
    frame = pd.read_csv(shared_data / "acled_mali_extract" / "Processed_Acled_Mali.csv").head(n)
    if edit is not None:
        frame = edit(frame.copy())
    path = tmp_path / "acled.csv"
    frame.to_csv(path, index=False)
    return path, frame


def _counts(store):
    return store.con.execute("SELECT count(*) FROM events").fetchone()[0]


@pytest.mark.shared
def test_swapped_coordinates_refused_with_hint(shared_data, tmp_path):
    def swap(frame):
        frame[["latitude", "longitude"]] = frame[["longitude", "latitude"]].to_numpy()
        return frame

    path, frame = _sample(shared_data, tmp_path, edit=swap)
    # independently: how many swapped points leave Mali's bounding box (lat 10-25.1, lon -12.3-4.3)
    outside = ~(frame.latitude.between(10.1, 25.1) & frame.longitude.between(-12.3, 4.3))
    assert outside.sum() == 300
    with open_store(tmp_path / "s.duckdb") as store:
        with pytest.raises(InputError) as err:
            ingest(store, "acled", path)
        assert _counts(store) == 0
    text = str(err.value)
    assert "outside the theatre's extent (MLI, buffered 0.5°)" in text
    assert (
        "latitude and longitude look swapped: swapping them puts 300 of the 300 rows outside inside" in text
    )
    assert "300 of 300 rows (100%) are bad" in text


@pytest.mark.shared
def test_placeholder_dates_are_rejects_and_a_few_far_points_are_kept(shared_data, tmp_path):
    def edit(frame):
        frame.loc[0, "event_date"] = "9999-12-31"
        frame.loc[1, "event_date"] = "0001-01-01"
        frame.loc[2, ["latitude", "longitude"]] = [48.85, 2.35]  # Paris, in a Mali file
        return frame

    path, _ = _sample(shared_data, tmp_path, n=100, edit=edit)
    with open_store(tmp_path / "s.duckdb") as store:
        result = ingest(store, "acled", path)
        assert _counts(store) == 98  # 100 rows less the two impossible dates
        reasons = store.con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    assert reasons[0][0] == 2 and "9999-12-31 is more than a year after today" in reasons[0][1]
    assert reasons[1][0] == 3 and "0001-01-01 is before 1989" in reasons[1][1]
    assert any(n.startswith("1 rows outside the theatre's extent") and "kept" in n for n in result.notes)


def test_rows_of_other_countries_are_not_checked():
    import pyarrow as pa

    from entangle.sources.base import LoadResult

    table = pa.table(
        {
            "lat": [48.85, 48.85, 16.27],
            "lon": [2.35, 2.35, -0.04],
            "country_iso3": ["FRA", "MLI", "MLI"],
            "date_start": pa.array([dt.date(2015, 1, 1)] * 3, pa.date32()),
            "line": [2, 3, 4],
        }
    )
    result = check_plausibility(LoadResult("csv", "events", table, rows_in=3), ["MLI"], 0.1)
    # only the MLI row in Paris is outside (1 of 3 = 33% > 10%): rejected; the French row is fine
    assert result.table.column("line").to_pylist() == [2, 4]
    assert result.rejects.column("line").to_pylist() == [3]
