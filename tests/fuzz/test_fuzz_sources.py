"""Malformed files for every source: each either loads whole or is refused with one line, store unchanged.

Every mutation is applied to one valid file per source and format (ACLED CSV and API JSON, UCDP CSV and
API JSON, generic CSV, Geo-PKO, RADPKO). Mutations that make a file unusable must be refused (exit 2);
the others must satisfy the load property of ``fuzz_harness.check_load`` (loaded whole, or refused with
the store unchanged).
"""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from pathlib import Path

import pytest
from fuzz_harness import assert_accounted, assert_refused, base_files, check_load, invoke, store_state

NAMES = ("acled", "acled_json", "ucdp", "ucdp_json", "csv", "geopko", "radpko")
CSV_NAMES = tuple(n for n in NAMES if not n.endswith("_json"))


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return base_files(tmp_path_factory.mktemp("bases"))


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _replace_cell(data: bytes, column: str, value: str) -> bytes:
    """Set ``column`` of the first data record to ``value`` (CSV) or of the first JSON record."""
    text = data.decode("utf-8", errors="surrogateescape")
    if text.lstrip().startswith(("{", "[")):
        import json

        page = json.loads(text)
        records = (
            next(v for v in page.values() if isinstance(v, list) and v) if isinstance(page, dict) else page
        )
        key = next((k for k in records[0] if k.lower() == column), column)
        records[0][key] = value
        return json.dumps(page).encode()
    import csv

    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip().lower() for h in rows[0]]
    if column in header:
        rows[1][header.index(column)] = value
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="surrogateescape")


# --- byte-level mutations: name -> function(bytes) -> bytes ---------------------------------------
BYTE_MUTATIONS = {
    "truncated_10pct": lambda d: d[: len(d) // 10],
    "truncated_50pct": lambda d: d[: len(d) // 2],
    "truncated_mid_last_line": lambda d: d[:-7],
    "header_only": lambda d: _lines(d)[0],
    "empty": lambda d: b"",
    "whitespace_only": lambda d: b" \n\n\t\n",
    "nul_bytes": lambda d: d[:40] + b"\x00" * 64 + d[40:],
    "random_binary": lambda d: bytes((i * 7919 + 13) % 256 for i in range(4096)),
    "utf8_bom": lambda d: codecs.BOM_UTF8 + d,
    "utf16_le_bom": lambda d: d.decode("utf-8", errors="replace").encode("utf-16"),
    "latin1_accents": lambda d: (
        d.decode("utf-8", errors="replace").replace("e", "é").encode("latin-1", errors="replace")
    ),
    "invalid_utf8_bytes": lambda d: d.replace(b"a", b"\xc3\x28", 3),
    "crlf": lambda d: d.replace(b"\n", b"\r\n"),
    "cr_only": lambda d: d.replace(b"\n", b"\r"),
    "semicolon_delimiter": lambda d: d.replace(b",", b";"),
    "tab_delimiter": lambda d: d.replace(b",", b"\t"),
    "doubled_rows": lambda d: d + b"".join(_lines(d)[1:]),
    "extra_field_in_row": lambda d: b"".join(
        line.rstrip(b"\r\n") + b",extra\n" if i == 1 else line for i, line in enumerate(_lines(d))
    ),
    "unterminated_quote": lambda d: d[: len(d) // 2] + b'"' + d[len(d) // 2 :],
    "duplicated_header_column": lambda d: (
        _lines(d)[0].rstrip(b"\r\n")
        + b","
        + [*_lines(d)[0].split(b","), b"x", b"x"][1].strip()
        + b"\n"
        + b"".join(_lines(d)[1:])
    ),
    "huge_field_10mb": lambda d: b"".join(
        line.rstrip(b"\r\n")
        + (b",huge_note" if i == 0 else b',"' + b"x" * (10 << 20) + b'"' if i == 1 else b",")
        + b"\n"
        for i, line in enumerate(_lines(d))
    ),
    "json_deeply_nested": lambda d: b"[" * 100_000 + b"]" * 100_000,
    "json_truncated": lambda d: b'{"data": [{"a": 1',
    "json_wrong_shape": lambda d: b'{"success": true, "rows": 3}',
}

# --- cell-level mutations: (column, value) on the first record -----------------------------------
CELL_COLUMNS = {
    "acled": ("latitude", "fatalities", "event_date"),
    "acled_json": ("latitude", "fatalities", "event_date"),
    "ucdp": ("latitude", "best", "date_start"),
    "ucdp_json": ("latitude", "best", "date_start"),
    "csv": ("lat", "killed", "date"),
    "geopko": ("latitude", "no.troops", "year"),
    "radpko": ("latitude", "untrp", "date"),
}
CELL_VALUES = {
    "lat": ("nan", "inf", "1e300", "123", "0x1F"),
    "number": ("nan", "inf", "1e300", "-5"),
    "date": ("2019-02-30", "9999-12-31", "yesterday"),
}


def _cell_cases():
    for name in NAMES:
        lat, number, date = CELL_COLUMNS[name]
        for kind, column in (("lat", lat), ("number", number), ("date", date)):
            for value in CELL_VALUES[kind]:
                yield pytest.param(name, column, value, id=f"{name}-{column}={value}")


def _ingest(capsys, store, source, path, extra):
    before = store_state(store)
    result = invoke(capsys, "ingest", source, path, *extra)
    check_load(result, store, before)
    return result


@pytest.mark.parametrize("mutation", sorted(BYTE_MUTATIONS))
@pytest.mark.parametrize("name", NAMES)
def test_byte_mutation(capsys, store, tmp_path, bases, name, mutation):
    source, path, extra = bases[name]
    data = BYTE_MUTATIONS[mutation](Path(path).read_bytes())
    target = tmp_path / Path(path).name
    target.write_bytes(data)
    result = _ingest(capsys, store, source, target, extra)
    if mutation in ("empty", "whitespace_only", "header_only", "random_binary", "json_deeply_nested"):
        assert_refused(result)
    if mutation == "huge_field_10mb" and not name.endswith("_json"):
        assert result.code == 0, result.err  # one big cell is valid CSV


@pytest.mark.parametrize(("name", "column", "value"), list(_cell_cases()))
def test_bad_cell(capsys, store, tmp_path, bases, name, column, value):
    source, path, extra = bases[name]
    target = tmp_path / Path(path).name
    target.write_bytes(_replace_cell(Path(path).read_bytes(), column, value))
    # A single bad cell must become a reject (or refuse the file): never a crash.
    _ingest(capsys, store, source, target, [*extra, "--max-reject-share", "1"])


# --- archives --------------------------------------------------------------------------------------
def _zip(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return target


def _corrupt_crc(target: Path, data: bytes, name: str) -> Path:
    _zip(target, {name: data})
    raw = bytearray(target.read_bytes())
    # Flip a byte inside the compressed member data (after the 30-byte local header and the name).
    offset = 30 + len(name) + 5
    raw[offset] ^= 0xFF
    target.write_bytes(bytes(raw))
    return target


ARCHIVES = ("zero_members", "two_members", "corrupt_crc", "truncated_zip", "only_macosx", "one_member")


@pytest.mark.parametrize("archive", ARCHIVES)
@pytest.mark.parametrize("name", CSV_NAMES)
def test_archive(capsys, store, tmp_path, bases, name, archive):
    source, path, extra = bases[name]
    data = Path(path).read_bytes()
    member = Path(path).name
    target = tmp_path / (Path(path).stem + ".zip")
    if archive == "zero_members":
        _zip(target, {})
    elif archive == "two_members":
        _zip(target, {member: data, "second.csv": data})
    elif archive == "corrupt_crc":
        _corrupt_crc(target, data * 50, member)
    elif archive == "truncated_zip":
        _zip(target, {member: data})
        target.write_bytes(target.read_bytes()[:-30])
    elif archive == "only_macosx":
        _zip(target, {"__MACOSX/" + member: data})
    else:
        _zip(target, {member: data})
    result = _ingest(capsys, store, source, target, extra)
    if archive == "one_member" and source not in ("geopko", "radpko"):
        assert result.code == 0, result.err  # the deployment readers take plain CSV only
    else:
        assert_refused(result)


# --- what the path names -------------------------------------------------------------------------
SPECIALS = ("directory", "fifo", "dangling_symlink", "symlink_loop", "symlink_to_file", "missing", "no_read")


@pytest.mark.parametrize("special", SPECIALS)
@pytest.mark.parametrize("name", ("acled", "ucdp", "geopko"))
def test_special_paths(capsys, store, tmp_path, bases, name, special):
    source, path, extra = bases[name]
    target = tmp_path / "input.csv"
    if special == "directory":
        target.mkdir()
    elif special == "fifo":
        os.mkfifo(target)
    elif special == "dangling_symlink":
        target.symlink_to(tmp_path / "gone.csv")
    elif special == "symlink_loop":
        target.symlink_to(tmp_path / "input.csv")
    elif special == "symlink_to_file":
        target.symlink_to(path)
    elif special == "no_read":
        target.write_bytes(Path(path).read_bytes())
        target.chmod(0)
    result = _ingest(capsys, store, source, target, extra)
    if special == "symlink_to_file":
        assert result.code == 0, result.err
    elif special == "no_read" and os.geteuid() == 0:
        pass  # root reads any file
    else:
        assert_refused(result)


# --- the same bytes as another source, and again ----------------------------------------------------
@pytest.mark.parametrize("name", ("acled", "ucdp", "csv"))
def test_reload_and_other_source(capsys, store, bases, name):
    source, path, extra = bases[name]
    assert invoke(capsys, "ingest", source, path, *extra).code == 0
    before = store_state(store)
    again = invoke(capsys, "ingest", source, path, *extra)
    assert again.code == 0 and "already in the store" in again.out
    assert store_state(store) == before
    other = "ucdp" if source != "ucdp" else "acled"
    result = invoke(capsys, "ingest", other, path)
    assert "already in the store" not in result.out
    assert_refused(result, "missing column")
    assert store_state(store) == before
    assert_accounted(store)


# --- ingest options ------------------------------------------------------------------------------
OPTION_CASES = [
    ("encoding_klingon", "acled", ["--encoding", "klingon-8"], ("--encoding", "klingon-8")),
    ("encoding_empty", "ucdp", ["--encoding", ""], ("--encoding",)),
    ("map_for_acled", "acled", ["--map", "lat=latitude"], ("--map", "csv source only")),
    ("map_for_geopko", "geopko", ["--map", "lat=latitude"], ("--map",)),
    ("map_twice", "csv", ["--map", "lat=Lat", "--map", "lat=Long"], ("mapped twice",)),
    ("map_malformed", "csv", ["--map", "lat"], ("FIELD=COLUMN",)),
    ("map_empty_column", "csv", ["--map", "lat="], ("--map",)),
    ("map_unknown_field", "csv", ["--map", "colour=Lat"], ("unknown field",)),
    ("map_missing_column", "csv", ["--map", "date=Nope", "--map", "lat=Lat", "--map", "lon=Long"], ("Nope",)),
    ("csv_without_map", "csv", [], ("mapping",)),
    ("share_above_one", "acled", ["--max-reject-share", "2"], ("--max-reject-share",)),
    ("share_negative", "acled", ["--max-reject-share", "-0.1"], ("--max-reject-share",)),
    ("share_nan", "acled", ["--max-reject-share", "nan"], ("--max-reject-share",)),
    ("share_text", "acled", ["--max-reject-share", "most"], ("--max-reject-share",)),
    ("unknown_source", "gdelt", [], ("unknown source",)),
    ("registry_missing", "acled", ["--registry", "/nonexistent/theatre"], ("registry",)),
    ("store_is_directory", "acled", ["--store", "/"], ("/",)),
    ("store_under_file", "acled", ["--store", str(Path(__file__)) + "/s.duckdb"], ("not a directory",)),
]


@pytest.mark.parametrize(("case", "source", "extra", "words"), OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_bad_ingest_option(capsys, store, bases, case, source, extra, words):
    name = source if source in bases else "acled"
    _, path, _ = bases[name]
    before = store_state(store)
    result = invoke(capsys, "ingest", source, path, *extra)
    assert_refused(result, *words)
    assert store_state(store) == before


# --- random damage (hypothesis) ----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_random_damage(tmp_path_factory, bases, name):
    """Random byte edits (overwrite, delete, insert) anywhere in a valid file."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    source, path, extra = bases[name]
    data = Path(path).read_bytes()
    edit = st.tuples(
        st.sampled_from(["set", "delete", "insert"]),
        st.integers(0, len(data) - 1),
        st.binary(min_size=1, max_size=8),
    )

    @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(edit, min_size=1, max_size=4))
    def check(edits):
        import contextlib
        import io

        from entangle.cli import run_cli

        damaged = bytearray(data)
        for kind, at, blob in edits:
            at = min(at, len(damaged) - 1)
            if kind == "set":
                damaged[at : at + len(blob)] = blob
            elif kind == "delete":
                del damaged[at : at + len(blob)]
            else:
                damaged[at:at] = blob
        folder = tmp_path_factory.mktemp("dmg")
        target = folder / Path(path).name
        target.write_bytes(bytes(damaged))
        db = folder / "s.duckdb"
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = run_cli(["ingest", source, str(target), "--store", str(db), *extra])
        from fuzz_harness import Outcome

        check_load(Outcome(code, out.getvalue(), err.getvalue()), db, ((), ()))

    check()
