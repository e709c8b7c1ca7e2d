"""Read event files as they really come: zipped or plain, any common delimiter, BOMs, odd encodings.

Every reader returns a ``RawTable``: all values as strings (validation is the loader's job, done
vectorised in SQL), the header names lower-cased and stripped, and a ``_line`` column giving each
record's line in the file (the header is line 1; a record spanning several lines because of a quoted
line break counts as one line, so later numbers are record numbers). For JSON pages ``_line`` is the
1-based record number in the page.

Problems that make the whole file unreadable (missing file, empty file, binary content, an encoding
that is neither UTF-8 nor Windows-1252, missing columns) raise ``InputError`` naming file, line and
column.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import hashlib
import io
import json
import os
import shutil
import stat
import tempfile
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from entangle.errors import InputError

LINE = "_line"
SEP = "\x1f"  # separates a reject's column from its reason inside SQL
BATCH_ROWS = 100_000  # rows per Arrow batch when collecting large query results
DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 16
MAX_BLOCK = 1 << 30  # the largest CSV block tried for a file with very long records
# Windows-1252 is what spreadsheet exports on Western-locale machines write; real ACLED/Geo-PKO
# files re-saved from Excel arrive in it. It is tried only when the bytes are not valid UTF-8.
FALLBACK_ENCODING = "cp1252"


@dataclass(frozen=True)
class RawTable:
    """A file's records as strings, with their line numbers."""

    table: pa.Table
    path: Path
    encoding: str
    delimiter: str | None
    notes: tuple[str, ...] = ()


def sha256_file(path: str | Path) -> str:
    """Content hash of the file exactly as given (the zip itself for zipped files)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def snapshot(path: str | Path) -> Iterator[tuple[Path, str]]:
    """A private copy of the file and its sha256, made in one pass over one open file.

    Loaders then read the copy, so the checksum the store records is that of exactly the bytes that
    were loaded. The copy is refused when the file changed while it was copied (another process
    truncating it, or still writing it): size and modification time of the open file and of the
    path, before and after, must agree with the bytes read. The copy is removed on leaving.
    """
    path = check_file(path)
    with open(path, "rb") as source:
        before = os.fstat(source.fileno())
        if not stat.S_ISREG(before.st_mode):  # replaced by a FIFO or device since check_file
            raise InputError(str(path), "not a regular file", "give the path of a data file")
        folder = Path(tempfile.mkdtemp(prefix="entangle-snapshot-"))
        try:
            copy = folder / path.name
            digest, size = hashlib.sha256(), 0
            with open(copy, "wb") as target:
                for chunk in iter(lambda: source.read(1 << 22), b""):
                    digest.update(chunk)
                    target.write(chunk)
                    size += len(chunk)
            after, now = os.fstat(source.fileno()), os.stat(path)
            stamp = (before.st_size, before.st_mtime_ns)
            if (
                size != before.st_size
                or (after.st_size, after.st_mtime_ns) != stamp
                or (
                    now.st_ino,
                    now.st_size,
                    now.st_mtime_ns,
                )
                != (before.st_ino, *stamp)
            ):
                raise InputError(
                    str(path),
                    f"the file changed while it was read ({before.st_size} bytes at the start, "
                    f"{size} read, {now.st_size} now); nothing was loaded",
                    "wait until the program writing it has finished, then ingest it again",
                )
            if size == 0:
                raise InputError(f"{path}:1", "the file is empty", "was the download interrupted?")
            _check_archive(copy, path)
            yield copy, digest.hexdigest()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _check_archive(copy: Path, path: Path) -> None:
    """A zip archive whose members do not all pass their CRC check is refused before it is read."""
    if not zipfile.is_zipfile(copy):
        return
    try:
        with zipfile.ZipFile(copy) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise InputError(str(path), f"damaged zip archive ({exc})", "download or zip it again") from None
    if damaged is not None:
        raise InputError(
            str(path), f"damaged zip archive: member {damaged!r} fails its CRC check", "download it again"
        )


def check_file(path: str | Path) -> Path:
    """The path as a ``Path`` when it names a non-empty regular file; otherwise a clear error."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "no such file", "check the path")
    if not path.is_file():
        raise InputError(str(path), "not a regular file", "give the path of a data file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}:1", "the file is empty", "was the download interrupted?")
    return path


def _zip_member(path: Path, suffixes: Sequence[str]) -> str:
    with zipfile.ZipFile(path) as archive:
        members = [
            n
            for n in archive.namelist()
            if n.lower().endswith(tuple(suffixes)) and not n.startswith("__MACOSX")
        ]
    if len(members) != 1:
        found = ", ".join(members) or "none"
        raise InputError(
            str(path),
            f"expected exactly one {'/'.join(suffixes)} file in the zip archive, found {found}",
            "unzip it and pass the data file itself",
        )
    return members[0]


def _open(path: Path, suffixes: Sequence[str]) -> io.BufferedIOBase:
    """A binary stream of the data: the file itself, or its single data member when zipped."""
    if zipfile.is_zipfile(path):
        archive = zipfile.ZipFile(path)
        return archive.open(_zip_member(path, suffixes))
    return open(path, "rb")


def _detect_encoding(path: Path, sample: bytes, requested: str) -> str:
    if not sample.strip():
        raise InputError(f"{path}:1", "the file is empty", "was the download interrupted?")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise InputError(
            f"{path}:1",
            "binary content (NUL bytes), not delimited text",
            "is this a spreadsheet (.xlsx) or a compressed file? export it as CSV",
        )
    return "utf-8" if requested == "auto" else requested


def _first_undecodable(stream: io.BufferedIOBase, encoding: str) -> tuple[int, int] | None:
    """(line, byte) of the first byte sequence ``encoding`` cannot decode, or None when all decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    for chunk in iter(lambda: stream.read(1 << 22), b""):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return line + chunk.count(b"\n", 0, exc.start), chunk[exc.start]
        line += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line, 0
    return None


def _header(text_sample: str, path: Path) -> tuple[str, list[str]]:
    """The delimiter and raw header fields, chosen as the candidate splitting the header most."""
    first = text_sample.lstrip("\ufeff").splitlines()[0] if text_sample.strip() else ""
    best: tuple[int, str, list[str]] = (0, ",", [first])
    for delim in DELIMITERS:
        fields = next(csv.reader([first], delimiter=delim))
        if len(fields) > best[0]:
            best = (len(fields), delim, fields)
    if best[0] < 2:
        # The line itself is not quoted: the file may be anything a study names (even /etc/shadow).
        raise InputError(
            f"{path}:1",
            f"cannot find a delimiter in the header line ({len(first)} characters)",
            "expected a CSV file separated by comma, semicolon, tab or '|'",
        )
    return best[1], best[2]


def normalise_names(fields: Iterable[str], path: Path) -> list[str]:
    """Header names stripped and lower-cased; unnamed columns (a pandas index) become ``_colN``."""
    names: list[str] = []
    for i, raw in enumerate(fields):
        name = raw.strip().strip("\ufeff").lower() or f"_col{i}"
        if name in names:
            raise InputError(
                f"{path}:1", f"column {name!r} appears twice in the header", "rename one of them"
            )
        names.append(name)
    return names


def _article(word: str) -> str:
    return "an" if word[:1].upper() in "AEIO" else "a"  # "an ACLED", "a UCDP"


def require_columns(found: Sequence[str], required: Iterable[str], path: Path, what: str) -> None:
    """Raise one clear error for the first required column the header lacks."""
    for column in required:
        if column not in found:
            close = difflib.get_close_matches(column, list(found), n=1)
            if close:
                hint = f"did you mean {close[0]!r}?"
            else:  # the header itself is not shown: the file may be anything a study names
                hint = f"is this {_article(what)} {what} file? its header has {len(found)} columns"
            raise InputError(f"{path}:1", f"missing column {column!r}", hint)


def _trim_dictionaries(table: pa.Table) -> pa.Table:
    """Strip surrounding whitespace from dictionary-encoded text, once per distinct value: loaders
    then compare and keep these columns as they are (plain columns are trimmed where they are parsed)."""
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            chunks = [
                pa.DictionaryArray.from_arrays(chunk.indices, pc.utf8_trim_whitespace(chunk.dictionary))
                for chunk in table.column(i).chunks
            ]
            table = table.set_column(i, field, pa.chunked_array(chunks, field.type))
    return table


def _line_numbers(n_rows: int, skipped: Sequence[int]) -> np.ndarray:
    """Line numbers of kept records given the (sorted) line numbers of skipped malformed ones."""
    lines = np.arange(2, n_rows + len(skipped) + 2, dtype=np.int64)
    if skipped:
        lines = lines[~np.isin(lines, np.asarray(skipped, dtype=np.int64))]
    return lines


def read_delimited(
    path: str | Path,
    *,
    required: Sequence[str],
    optional: Sequence[str] = (),
    what: str = "data",
    encoding: str = "auto",
    suffixes: Sequence[str] = (".csv", ".txt", ".tsv"),
    plain: Sequence[str] = (),
) -> tuple[RawTable, list[tuple[int, str]]]:
    """Read the ``required`` and present ``optional`` columns of a delimited file as strings.

    Columns other than ``plain`` are dictionary-encoded: event files repeat the same actor names and
    types millions of times, and this keeps a 2M-row ACLED file at a fraction of its plain-string size
    in memory. ``plain`` lists the mostly-unique or short columns (ids, coordinates, numbers), for
    which a dictionary saves nothing and costs time.

    Returns the table and the malformed records (line, message) that had the wrong number of fields;
    the loader turns those into rejects.
    """
    path = check_file(path)
    with _open(path, suffixes) as stream:
        sample = stream.read(SAMPLE_BYTES)
    enc = _detect_encoding(path, sample, encoding)
    notes: list[str] = []
    try:
        text_sample = sample.decode(enc, errors="strict" if len(sample) < SAMPLE_BYTES else "ignore")
    except UnicodeDecodeError:
        text_sample = sample.decode(FALLBACK_ENCODING, errors="replace")
    delimiter, fields = _header(text_sample, path)
    if delimiter != ",":
        notes.append(f"delimiter {delimiter!r}")
    names = normalise_names(fields, path)
    require_columns(names, required, path, what)
    wanted = list(dict.fromkeys([*required, *(c for c in optional if c in names)]))

    def attempt(enc: str, threads: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        bad: list[tuple[int | None, str]] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            bad.append((row.number, f"expected {row.expected_columns} fields, found {row.actual_columns}"))
            return "skip"

        def options(block: int) -> dict:
            return {
                "read_options": pacsv.ReadOptions(
                    column_names=names, skip_rows=1, encoding=enc, use_threads=threads, block_size=block
                ),
                "parse_options": pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                "convert_options": pacsv.ConvertOptions(
                    column_types={
                        c: pa.string() if c in plain else pa.dictionary(pa.int32(), pa.string())
                        for c in wanted
                    },
                    include_columns=wanted,
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=True,
                ),
            }

        # A plain file is opened by Arrow itself (less memory in flight than through a Python file).
        zipped = zipfile.is_zipfile(path)
        block = 1 << 20
        while True:
            with _open(path, suffixes) if zipped else contextlib.nullcontext(str(path)) as stream:
                try:
                    table = pacsv.read_csv(stream, **options(block))
                    break
                except pa.ArrowInvalid as exc:
                    # A record longer than a block (one 10 MB cell) needs a bigger block.
                    if "straddl" not in str(exc) or block >= MAX_BLOCK:
                        raise
                    bad.clear()
                    block *= 8
        return table, bad

    try:
        table, bad = attempt(enc, True)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) and "utf8" not in str(exc).lower():
            raise InputError(str(path), f"cannot parse as CSV: {exc}", "check the file's format") from exc
        with _open(path, suffixes) as stream:
            where = _first_undecodable(stream, enc)
        line, byte = where or (0, 0)
        if encoding != "auto":
            raise InputError(
                f"{path}:{line}", f"byte 0x{byte:02x} is not valid {encoding}", "check --encoding"
            ) from exc
        with _open(path, suffixes) as stream:
            if _first_undecodable(stream, FALLBACK_ENCODING) is not None:
                raise InputError(
                    f"{path}:{line}",
                    f"byte 0x{byte:02x} is neither UTF-8 nor Windows-1252 text",
                    "re-save the file as UTF-8 or pass --encoding",
                ) from exc
        notes.append(f"not valid UTF-8 (first at line {line}); read as Windows-1252")
        enc = FALLBACK_ENCODING
        table, bad = attempt(enc, True)
    if bad:
        # Only a single-threaded read knows the line numbers of malformed records.
        table, bad = attempt(enc, False)
    # The Arrow pool keeps the parse buffers it freed; hand them back before validation allocates.
    pa.default_memory_pool().release_unused()
    table = _trim_dictionaries(table)
    skipped = sorted(int(n) for n, _ in bad if n is not None)
    table = table.append_column(LINE, pa.array(_line_numbers(table.num_rows, skipped)))
    malformed = [(int(n) if n is not None else 0, message) for n, message in bad]
    return RawTable(table, path, enc, delimiter, tuple(notes)), malformed


def read_json_records(
    path: str | Path, *, records_key: str, required: Sequence[str], optional: Sequence[str] = (), what: str
) -> tuple[RawTable, dict]:
    """Read an API page ``{..., records_key: [ {...}, ... ]}`` (or a bare list of records).

    Returns the records as a string table and the page's other keys (counts, status).
    """
    path = check_file(path)
    with _open(path, (".json",)) as stream:
        data = stream.read()
    if b"\x00" in data[:SAMPLE_BYTES] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{path}:1", "binary content (NUL bytes), not JSON", "is this the right file?")
    try:
        page = json.loads(
            data.decode("utf-8-sig") if not data.startswith(b"\xff\xfe") else data.decode("utf-16")
        )
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}", "not UTF-8 text", "JSON must be UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}:{exc.lineno}", f"invalid JSON: {exc.msg}", "was the download truncated?"
        ) from exc
    except RecursionError:
        raise InputError(
            f"{path}:1", "JSON nested too deeply to be an API page", "is this the right file?"
        ) from None
    if isinstance(page, list):
        records, meta = page, {}
    elif isinstance(page, dict) and isinstance(page.get(records_key), list):
        records = page[records_key]
        meta = {k: v for k, v in page.items() if k != records_key}
    else:
        keys = ", ".join(page) if isinstance(page, dict) else type(page).__name__
        raise InputError(
            f"{path}:1",
            f"expected a {what} page with a {records_key!r} list",
            f"found top-level keys: {keys}",
        )
    if not records:
        raise InputError(f"{path}:1", f"the {records_key!r} list is empty", "no records to load")
    names = normalise_names(records[0].keys(), path) if isinstance(records[0], dict) else []
    require_columns(names, required, path, what)
    wanted = list(dict.fromkeys([*required, *(c for c in optional if c in names)]))
    columns: dict[str, list[str | None]] = {c: [] for c in wanted}
    for i, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise InputError(f"{path}:{records_key}[{i}]", "record is not an object", "check the file")
        lowered = {str(k).strip().lower(): v for k, v in record.items()}
        for c in wanted:
            value = lowered.get(c)
            text = None if value is None else str(value).strip()
            columns[c].append(text or None)
    table = pa.table({c: pa.array(v, pa.string()) for c, v in columns.items()})
    table = table.append_column(LINE, pa.array(np.arange(1, len(records) + 1, dtype=np.int64)))
    return RawTable(table, path, "utf-8", None), meta


def is_json(path: str | Path) -> bool:
    """True when the file (or its zipped member) starts like JSON."""
    path = check_file(path)
    suffixes = (".json", ".csv", ".txt", ".tsv")
    try:
        with _open(path, suffixes) as stream:
            head = stream.read(64)
    except InputError:
        return False
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


@dataclass(frozen=True)
class Check:
    """A row-level validation: ``bad`` is a SQL condition over the typed columns; ``reason`` a SQL
    string expression (it may quote the offending raw value)."""

    column: str
    bad: str
    reason: str


_MEMORY_DB: list = []  # the one in-memory database the loaders' connections share
_MEMORY_DB_LOCK = threading.Lock()


def memory_db():  # -> duckdb.DuckDBPyConnection (duckdb is imported lazily)
    """A private in-memory DuckDB connection for one loader step, without progress output.

    Each is a cursor on one shared in-memory database: its registered tables and TEMP objects are
    its own and go when it is closed, and a cursor costs a tenth of a new database (3 against 30 ms
    of CPU; a small file's load opens half a dozen).
    """
    with _MEMORY_DB_LOCK:
        if not _MEMORY_DB:
            import duckdb

            base = duckdb.connect()
            # Row order never matters here (every query that needs one says ORDER BY); not keeping it
            # lets DuckDB stream large results with less memory.
            base.execute("SET preserve_insertion_order = false")
            _MEMORY_DB.append(base)
        con = _MEMORY_DB[0].cursor()
    con.execute("SET enable_progress_bar = false")
    return con


def sql_quote(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def canonicalise(
    raw: RawTable,
    *,
    typed: dict[str, str],
    checks: Sequence[Check],
    output: dict[str, str],
    id_column: str = "source_id",
    id_label: str | None = None,
    malformed: Sequence[tuple[int, str]] = (),
) -> tuple[pa.Table, pa.Table]:
    """Validate and convert ``raw`` in one vectorised SQL pass; return (rows, rejects).

    ``typed`` maps names to SQL expressions over the raw (string) columns; ``checks`` are tried in
    order and the first failing one becomes the row's reject reason; rows that pass and repeat an
    earlier row's ``id_column`` are rejected as duplicates (reported under the file's column
    ``id_label``); ``output`` maps each output column to a
    SQL expression over the typed columns. ``malformed`` records (wrong field count) become rejects.
    """

    from entangle.sources.base import REJECTS_SCHEMA

    con = memory_db()
    try:
        con.register("raw", raw.table)
        typed_sql = ", ".join(f"{expr} AS {sql_quote(name)}" for name, expr in typed.items())
        con.execute(f"CREATE TEMP VIEW typed AS SELECT {LINE}, {typed_sql} FROM raw")
        # One CASE yields 'column<US>reason', so each check is evaluated once per row. Only this
        # narrow result is materialised: copying the wide typed rows into a table costs more than
        # computing them again for the output.
        problem = " ".join(
            f"WHEN {c.bad} THEN {sql_str(c.column + SEP)} || coalesce({c.reason}, 'invalid')" for c in checks
        )
        ident = sql_quote(id_column)
        con.execute(
            f"""
            CREATE TEMP TABLE checked AS
            SELECT {LINE}, {ident}, split_part(_problem, {sql_str(SEP)}, 1) AS _col,
                   split_part(_problem, {sql_str(SEP)}, 2) AS _why
            FROM (SELECT {LINE}, {ident}, CASE {problem or "WHEN false THEN NULL"} END AS _problem FROM typed)
            """
        )
        # Repeated ids among valid rows: the first occurrence loads, later ones are rejected.
        con.execute(
            f"""
            UPDATE checked SET _col = {sql_str(id_label or id_column)},
                _why = 'duplicate id ' || checked.{ident} || ', first at line ' || dup._first
            FROM (
                SELECT {LINE}, _first FROM (
                    SELECT {LINE}, min({LINE}) OVER (PARTITION BY {ident}) AS _first FROM checked
                    WHERE _why IS NULL AND {ident} IN (
                        SELECT {ident} FROM checked WHERE _why IS NULL GROUP BY {ident} HAVING count(*) > 1))
                WHERE _first < {LINE}) dup
            WHERE checked.{LINE} = dup.{LINE}
            """
        )
        con.execute(f"CREATE TEMP TABLE bad AS SELECT {LINE}, _col, _why FROM checked WHERE _why IS NOT NULL")
        con.execute("DROP TABLE checked")
        out_sql = ", ".join(f"{expr} AS {sql_quote(name)}" for name, expr in output.items())
        result = con.sql(f"SELECT {out_sql} FROM typed ANTI JOIN bad USING ({LINE})")
        rows = compact(result.to_arrow_reader(BATCH_ROWS))
        raw_cols = [c for c in raw.table.column_names if c != LINE]
        struct = ", ".join(f"{sql_quote(c)} := raw.{sql_quote(c)}" for c in raw_cols)
        rejects = con.sql(
            f"""
            SELECT bad.{LINE} AS line, _col AS "column", _why AS reason,
                   to_json(struct_pack({struct}))::VARCHAR AS raw
            FROM bad JOIN raw USING ({LINE}) ORDER BY line
            """
        ).to_arrow_table()
    finally:
        con.close()
    if malformed:
        extra = pa.table(
            {
                "line": pa.array([n for n, _ in malformed], pa.int64()),
                "column": pa.array([None] * len(malformed), pa.string()),
                "reason": pa.array([m for _, m in malformed], pa.string()),
                "raw": pa.array([None] * len(malformed), pa.string()),
            }
        )
        rejects = pa.concat_tables([rejects.cast(REJECTS_SCHEMA), extra.cast(REJECTS_SCHEMA)])
    return rows, rejects.cast(REJECTS_SCHEMA)


def compact(reader: pa.RecordBatchReader, unique: Sequence[str] = ("event_id", "source_id")) -> pa.Table:
    """Collect a query's batches, dictionary-encoding the text columns that repeat (all but
    ``unique``) batch by batch: a 2M-row events table then takes a third to a half of its plain size,
    and the plain-string copy of the whole result never exists at once."""
    encode = [
        f.name
        for f in reader.schema
        if (pa.types.is_string(f.type) or pa.types.is_large_string(f.type)) and f.name not in unique
    ]
    schema = pa.schema(
        [
            pa.field(f.name, pa.dictionary(pa.int32(), f.type)) if f.name in encode else f
            for f in reader.schema
        ]
    )
    batches = [
        pa.RecordBatch.from_arrays(
            [
                batch.column(f.name).dictionary_encode() if f.name in encode else batch.column(f.name)
                for f in schema
            ],
            schema=schema,
        )
        for batch in reader
    ]
    return pa.Table.from_batches(batches, schema=schema)


def sql_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def quoted(expr: str) -> str:
    """SQL: the raw value shown in a reject reason, quoted and cut to 60 characters."""
    return f"coalesce('''' || left({expr}, 60) || '''', 'empty')"


def parse_date(expr: str, formats: Sequence[str]) -> str:
    """SQL: the first of ``formats`` that parses the trimmed string, as a DATE (NULL if none)."""
    fmts = ", ".join(sql_str(f) for f in formats)
    return f"CAST(try_strptime(trim({expr}), [{fmts}]) AS DATE)"


def parse_number(expr: str, sql_type: str) -> str:
    """SQL: a number in a string cell (thousands separators are not allowed; '1.0' is an integer 1)."""
    if sql_type in ("INTEGER", "BIGINT", "SMALLINT"):
        # Exports from spreadsheets write integers as '3.0'; accept them only when they are whole.
        dbl = f"try_cast(trim({expr}) AS DOUBLE)"
        return f"CASE WHEN {dbl} = round({dbl}) THEN try_cast({dbl} AS {sql_type}) END"
    return f"try_cast(trim({expr}) AS {sql_type})"


# Country names that sources spell differently from ISO 3166 (UCDP keeps historical names in
# parentheses, which are stripped before lookup).
_COUNTRY_ALIASES = {
    "russia": "RUS",
    "dr congo": "COD",
    "democratic republic of congo": "COD",
    "republic of congo": "COG",
    "ivory coast": "CIV",
    "turkey": "TUR",
    "bosnia-herzegovina": "BIH",
    "macedonia, fyr": "MKD",
    "north macedonia": "MKD",
    "kingdom of eswatini": "SWZ",
    "eswatini": "SWZ",
    "cape verde": "CPV",
    "east timor": "TLS",
    "kosovo": "XKX",
    "palestine": "PSE",
    "micronesia": "FSM",
}


def country_iso3(name: str | None, numeric: str | None = None) -> str | None:
    """ISO 3166-1 alpha-3 from a numeric code (ACLED ``iso``) or a country name; None if unknown."""
    import pycountry

    if numeric:
        code = numeric.strip().split(".")[0].zfill(3)
        found = pycountry.countries.get(numeric=code)
        if found is not None:
            return found.alpha_3
    if not name:
        return None
    clean = name.split("(")[0].strip()
    if clean.lower() in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[clean.lower()]
    try:
        return pycountry.countries.lookup(clean).alpha_3
    except LookupError:
        return None


def iso3_sql(table: pa.Table, name_col: str, numeric_col: str | None = None) -> str:
    """SQL: a CASE expression giving the ISO3 code of each row's country (computed per distinct value)."""
    cols = [name_col] + ([numeric_col] if numeric_col and numeric_col in table.column_names else [])
    con = memory_db()
    try:
        con.register("t", table.select(cols))
        pairs = (
            con.sql(f"SELECT DISTINCT {', '.join(sql_quote(c) for c in cols)} FROM t")
            .to_arrow_table()
            .to_pylist()
        )
    finally:
        con.close()
    whens = []
    for pair in pairs:
        code = country_iso3(pair.get(name_col), pair.get(numeric_col) if len(cols) > 1 else None)
        if code is None:
            continue
        cond = " AND ".join(
            f"{sql_quote(c)} IS NULL" if pair.get(c) is None else f"{sql_quote(c)} = {sql_str(pair[c])}"
            for c in cols
        )
        whens.append(f"WHEN {cond} THEN {sql_str(code)}")
    return f"CASE {' '.join(whens)} END" if whens else "CAST(NULL AS VARCHAR)"


def value_checks(column: str, typed: str, raw: str, *, what: str) -> list[Check]:
    """A missing value, then one that does not parse."""
    return [
        Check(column, f"{raw} IS NULL OR trim({raw}) = ''", sql_str(f"missing {what}")),
        Check(column, f"{typed} IS NULL", f"{sql_str(f'unparseable {what} ')} || {quoted(raw)}"),
    ]


def coordinate_checks(lat_col: str, lon_col: str) -> list[Check]:
    """Coordinates present, numeric, in range; say when they look swapped or are both zero.

    Expects typed columns ``lat``/``lon`` and raw columns named ``lat_col``/``lon_col``.
    """
    lat_raw, lon_raw = sql_quote(lat_col), sql_quote(lon_col)
    return [
        *value_checks(lat_col, "lat", lat_raw, what="latitude"),
        *value_checks(lon_col, "lon", lon_raw, what="longitude"),
        Check(lat_col, "NOT isfinite(lat)", "'latitude ' || lat || ' is not a finite number'"),
        Check(lon_col, "NOT isfinite(lon)", "'longitude ' || lon || ' is not a finite number'"),
        Check(
            lat_col,
            "abs(lat) > 90 AND abs(lon) <= 90",
            "'latitude ' || lat || ' out of range [-90, 90] (latitude and longitude swapped?)'",
        ),
        Check(lat_col, "abs(lat) > 90", "'latitude ' || lat || ' out of range [-90, 90]'"),
        Check(lon_col, "abs(lon) > 180", "'longitude ' || lon || ' out of range [-180, 180]'"),
        Check(lat_col, "lat = 0 AND lon = 0", "'latitude and longitude are both 0 (missing coordinates?)'"),
    ]


def code_check(column: str, typed: str, allowed: Sequence[int], what: str) -> Check:
    """A precision or type code outside the source's codebook."""
    codes = ", ".join(str(a) for a in allowed)
    return Check(column, f"{typed} NOT IN ({codes})", f"'{what} ' || {typed} || ' is not one of {codes}'")


def count_checks(column: str, typed: str, what: str) -> list[Check]:
    """A count (fatalities) present, a whole number, not negative."""
    raw = sql_quote(column)
    return [
        *value_checks(column, typed, raw, what=what),
        Check(column, f"{typed} < 0", f"'negative {what} ' || {typed}"),
    ]


def snake(expr: str) -> str:
    """SQL: 'Political violence; Demonstrations' -> 'political_violence_demonstrations'."""
    return f"trim(regexp_replace(lower({expr}), '[^a-z0-9]+', '_', 'g'), '_')"
