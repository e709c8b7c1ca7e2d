"""Bad input: one clear line naming file, line and column, exit 2, and the store exactly as before.

Every case runs against a store that already holds a good load, and checks the row counts and the
recorded sha256s did not move. Individually bad rows are rejected with a reason and the load goes
on, unless their share exceeds --max-reject-share.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest

from entangle.errors import StoreError
from entangle.sources.base import LoadResult
from entangle.sources.ucdp import read_ucdp
from entangle.store import TABLES, open_store

FIXTURES = Path(__file__).parent / "fixtures"
ACLED = FIXTURES / "acled_old_schema.csv"


def _records(path: Path = ACLED) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_text()))
    return list(reader.fieldnames), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict], delimiter: str = ",") -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fields, delimiter=delimiter, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _twenty(tmp_path: Path, name: str = "twenty.csv", **changes: dict) -> tuple[Path, list[str], list[dict]]:
    """20 distinct events cloned from the fixture (ids MLI8000..MLI8019); ``changes`` by index."""
    fields, rows = _records()
    many = []
    for i in range(20):
        row = dict(rows[i % len(rows)], event_id_cnty=f"MLI{8000 + i}")
        row.update(changes.get(str(i), {}))
        many.append(row)
    return _write(tmp_path / name, fields, many), fields, many


def _snapshot(store: Path) -> tuple[dict, list]:
    with open_store(store, read_only=True) as db:
        counts = {name: db.count(name) for name in TABLES}
        shas = sorted(e["sha256"] for e in db.info()["sources"])
    return counts, shas


@pytest.fixture
def store(tmp_path, cli) -> Path:
    path = tmp_path / "store.duckdb"
    code, _, err = cli("ingest", "ucdp", FIXTURES / "ucdp_ged_v22_1.csv", "--store", path)
    assert code == 0, err
    return path


def _fails(cli, store: Path, *args) -> str:
    """Run an ingest that must fail; return its one error line; check the store did not change."""
    before = _snapshot(store)
    code, out, err = cli("ingest", *args, "--store", store)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    assert _snapshot(store) == before
    return lines[0]


def test_missing_column(tmp_path, cli, store):
    fields, rows = _records()
    path = _write(tmp_path / "no_lat.csv", [f for f in fields if f != "latitude"], rows)
    line = _fails(cli, store, "acled", path)
    assert f"{path}:1: missing column 'latitude'" in line


def test_renamed_column(tmp_path, cli, store):
    fields, rows = _records()
    renamed = [{("event_dates" if k == "event_date" else k): v for k, v in r.items()} for r in rows]
    path = _write(
        tmp_path / "renamed.csv", [("event_dates" if f == "event_date" else f) for f in fields], renamed
    )
    line = _fails(cli, store, "acled", path)
    assert f"{path}:1: missing column 'event_date' (did you mean 'event_dates'?)" in line


def test_unparseable_dates_over_threshold(tmp_path, cli, store):
    fields, rows = _records()
    path = _write(tmp_path / "dates.csv", fields, [dict(r, event_date="31/31/2019") for r in rows])
    line = _fails(cli, store, "acled", path)
    assert f"{path}:2: column 'event_date': unparseable date '31/31/2019'" in line
    assert "9 of 9 rows (100%)" in line


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"event_date": "yesterday"}, "event_date", "unparseable date 'yesterday'"),
        ({"latitude": "123.5", "longitude": "100.5"}, "latitude", "latitude 123.5 out of range [-90, 90]"),
        (
            {"latitude": "120.5", "longitude": "14.2"},
            "latitude",
            "latitude 120.5 out of range [-90, 90] (latitude and longitude swapped?)",
        ),
        ({"longitude": "-190"}, "longitude", "longitude -190.0 out of range [-180, 180]"),
        ({"fatalities": "-3"}, "fatalities", "negative fatalities -3"),
        ({"fatalities": "many"}, "fatalities", "unparseable fatalities 'many'"),
        ({"geo_precision": "9"}, "geo_precision", "geo precision 9 is not one of 1, 2, 3"),
        ({"event_id_cnty": "MLI8000"}, "event_id_cnty", "duplicate id MLI8000, first at line 2"),
    ],
)
def test_individually_bad_row_is_rejected(tmp_path, cli, store, change, column, reason):
    path, _, _ = _twenty(tmp_path, **{"5": change})  # record 6 = line 7
    code, out, err = cli("ingest", "acled", path, "--store", store)
    assert code == 0, err
    assert "20 rows in, 19 loaded, 1 rejected" in out
    with open_store(store, read_only=True) as db:
        rejects = db.con.execute(
            'SELECT line, "column", reason, raw FROM rejects WHERE sha256 IN '
            "(SELECT sha256 FROM provenance WHERE path LIKE '%twenty.csv')"
        ).fetchall()
        loaded = db.con.execute("SELECT count(*) FROM events WHERE source = 'acled'").fetchone()[0]
    assert loaded == 19
    assert [(r[0], r[1], r[2]) for r in rejects] == [(7, column, reason)]
    assert rejects[0][3] is not None and '"event_id_cnty"' in rejects[0][3]


def test_reject_share_threshold_is_configurable(tmp_path, cli, store):
    bad = {str(i): {"fatalities": "-1"} for i in range(3)}  # 3 of 20 = 15%
    path, _, _ = _twenty(tmp_path, **bad)
    line = _fails(cli, store, "acled", path)
    assert f"{path}:2: column 'fatalities': negative fatalities -1; 3 of 20 rows (15%)" in line
    code, out, _ = cli("ingest", "acled", path, "--store", store, "--max-reject-share", "0.2")
    assert code == 0 and "20 rows in, 17 loaded, 3 rejected" in out


def test_empty_file(tmp_path, cli, store):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert f"{path}:1: the file is empty" in _fails(cli, store, "acled", path)


def test_header_only(tmp_path, cli, store):
    fields, _ = _records()
    path = _write(tmp_path / "header.csv", fields, [])
    assert f"{path}:2: no data rows after the header" in _fails(cli, store, "acled", path)


def test_binary_file(tmp_path, cli, store):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert f"{path}:1: binary content" in _fails(cli, store, "acled", path)


def test_spreadsheet_instead_of_csv(tmp_path, cli, store):
    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
    assert "expected exactly one .csv/.txt/.tsv file in the zip archive, found none" in _fails(
        cli, store, "acled", path
    )


def test_wrong_encoding(tmp_path, cli, store):
    fields, rows = _records()
    path = _write(tmp_path / "enc.csv", fields, rows)
    data = path.read_bytes().replace(b"Mali,Gao,", b"Mali,G\x81o,", 1)  # admin1 of line 2
    path.write_bytes(data)
    assert f"{path}:2: byte 0x81 is neither UTF-8 nor Windows-1252 text" in _fails(cli, store, "acled", path)


def test_windows_1252_file_loads_with_a_note(tmp_path, cli, store):
    fields, rows = _records()
    rows[0]["admin1"] = "Ségou"
    path = tmp_path / "cp1252.csv"
    _write(path, fields, rows)
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    code, out, err = cli("ingest", "acled", path, "--store", store)
    assert code == 0, err
    assert "read as Windows-1252" in out


def test_unknown_delimiter(tmp_path, cli, store):
    fields, rows = _records()
    path = _write(tmp_path / "colon.csv", fields, rows, delimiter=":")
    assert f"{path}:1: cannot find a delimiter" in _fails(cli, store, "acled", path)


def test_wrong_field_count_is_rejected_with_its_line(tmp_path, cli, store):
    path, _, _ = _twenty(tmp_path)
    lines = path.read_text().splitlines()
    lines[4] = ",".join(lines[4].split(",")[:-2])  # line 5 loses two fields
    path.write_text("\n".join(lines) + "\n")
    code, out, err = cli("ingest", "acled", path, "--store", store)
    assert code == 0, err
    assert "20 rows in, 19 loaded, 1 rejected" in out
    with open_store(store, read_only=True) as db:
        got = db.con.execute("SELECT line, reason FROM rejects WHERE reason LIKE 'expected%'").fetchall()
        lines_loaded = db.con.execute(
            "SELECT min(line), max(line) FROM events WHERE source = 'acled'"
        ).fetchone()
    assert got == [(5, "expected 30 fields, found 28")]
    assert lines_loaded == (2, 21)


def test_unknown_source_and_missing_file(tmp_path, cli, store):
    assert "unknown source 'gdelt'" in _fails(cli, store, "gdelt", ACLED)
    assert f"{tmp_path / 'nope.csv'}: no such file" in _fails(cli, store, "acled", tmp_path / "nope.csv")


def test_failed_write_rolls_back(store):
    """A failure in the middle of the transaction (after the events insert) leaves no trace."""
    good = read_ucdp(FIXTURES / "ucdp_ged_v22_1.csv")
    renumbered = good.table.set_column(
        0, "event_id", pa.array([f"ucdp:x{i}" for i in range(good.table.num_rows)])
    )
    broken_rejects = pa.table(
        {"line": pa.array(["not a line"]), "column": ["x"], "reason": ["y"], "raw": [None]},
        schema=pa.schema(
            [("line", pa.string()), ("column", pa.string()), ("reason", pa.string()), ("raw", pa.string())]
        ),
    )
    result = LoadResult(source="ucdp", kind="events", table=renumbered, rejects=broken_rejects, rows_in=6)
    before = _snapshot(store)
    with open_store(store) as db, pytest.raises(StoreError, match="store unchanged"):
        db.write(result, "synthetic.csv", "f" * 64)
    assert _snapshot(store) == before


def test_loading_twice_changes_nothing(cli, store):
    before = _snapshot(store)
    code, out, _ = cli("ingest", "ucdp", FIXTURES / "ucdp_ged_v22_1.csv", "--store", store)
    assert code == 0 and "already in the store; nothing changed" in out
    assert _snapshot(store) == before
