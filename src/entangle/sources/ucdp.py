"""UCDP Georeferenced Event Dataset: GED CSV files (plain or zipped, versions 19.1 onward) and UCDP
API JSON pages (``{"TotalCount", "TotalPages", "NextPageUrl", "Result": [...]}``).

Kept from the codebook: ``where_prec`` (geo precision 1-7), ``date_prec`` (1-5), ``best``/``low``/
``high`` fatalities, ``deaths_civilians``, ``type_of_violence`` (1 state-based, 2 non-state,
3 one-sided) and the side ids. Side ids are ``side_a_new_id`` (the UCDP Actor Dataset's ActorId,
present in every version from 19.1) and, when a file lacks it, ``side_a_dset_id``.

Civilian targeting (docs/sources.md): type_of_violence 3 (one-sided violence, always against
civilians) marks ``target_civilians``; ``civilian_fatalities`` is ``deaths_civilians`` for every
event, whatever its type. The perpetrator is side A.
"""

from __future__ import annotations

import re
from pathlib import Path

from entangle.sources.base import LoadResult
from entangle.sources.readers import (
    Check,
    RawTable,
    canonicalise,
    code_check,
    coordinate_checks,
    count_checks,
    is_json,
    iso3_sql,
    parse_date,
    parse_number,
    read_delimited,
    read_json_records,
    sql_quote,
    sql_str,
    value_checks,
)

# Mostly-unique or short columns, read as plain strings (the others are dictionary-encoded).
PLAIN_COLUMNS = (
    "id",
    "relid",
    "latitude",
    "longitude",
    "date_start",
    "date_end",
    "best",
    "low",
    "high",
    "deaths_civilians",
    "side_a_new_id",
    "side_b_new_id",
    "side_a_dset_id",
    "side_b_dset_id",
)
SOURCE = "ucdp"
REQUIRED = (
    "id",
    "type_of_violence",
    "side_a",
    "side_b",
    "where_prec",
    "latitude",
    "longitude",
    "country",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_civilians",
    "best",
    "low",
    "high",
)
OPTIONAL = (
    "relid",
    "side_a_new_id",
    "side_b_new_id",
    "side_a_dset_id",
    "side_b_dset_id",
    "adm_1",
    "adm_2",
)
VIOLENCE = {
    1: ("State-based conflict", "state_based"),
    2: ("Non-state conflict", "non_state"),
    3: ("One-sided violence", "one_sided"),
}
ONE_SIDED = 3
_VERSION = re.compile(r"(?:v|gedevents/)(\d+(?:[._]\d+)+)", re.IGNORECASE)
_SHORT_VERSION = re.compile(r"ged(\d{2})(\d)(?!\d)", re.IGNORECASE)  # ged191-csv.zip, ged231.csv


def _version(path: Path, next_url: str | None = None) -> str | None:
    """'GED 22.1' from a file name (GEDEvent_v22_1.csv, ged221-csv.zip) or an API URL .../gedevents/22.1"""
    for text in (path.name, next_url or ""):
        found = _VERSION.search(text)
        if found:
            return "GED " + found.group(1).replace("_", ".")
        short = _SHORT_VERSION.search(text)
        if short:
            return f"GED {short.group(1)}.{short.group(2)}"
    return None


def _side_id(raw: RawTable, side: str) -> str:
    names = raw.table.column_names
    options = [f"{side}_new_id", f"{side}_dset_id"]
    present = [parse_number(sql_quote(c), "BIGINT") for c in options if c in names]
    if not present:
        return "CAST(NULL AS VARCHAR)"
    return f"CAST(coalesce({', '.join(present)}) AS VARCHAR)"


def _col(raw: RawTable, name: str) -> str:
    return sql_quote(name) if name in raw.table.column_names else "CAST(NULL AS VARCHAR)"


def events_from_raw(raw: RawTable, malformed: list[tuple[int, str]], version: str | None) -> LoadResult:
    """Validate and convert GED records (as strings) to canonical events and rejects."""
    # GED CSVs write '2017-07-31 00:00:00.000', the API '2017-07-31T00:00:00': the day is the first 10.
    typed = {
        "source_id": f"CAST({parse_number('id', 'BIGINT')} AS VARCHAR)",
        "id": "id",
        "type_of_violence": "type_of_violence",
        "tv": parse_number("type_of_violence", "SMALLINT"),
        "side_a": "side_a",
        "side_b": "side_b",
        "side_a_id": _side_id(raw, "side_a"),
        "side_b_id": _side_id(raw, "side_b"),
        "date_start": "date_start",
        "date_end": "date_end",
        "ds": parse_date("left(trim(date_start), 10)", ["%Y-%m-%d"]),
        "de": parse_date("left(trim(date_end), 10)", ["%Y-%m-%d"]),
        "date_prec": "date_prec",
        "dp": parse_number("date_prec", "SMALLINT"),
        "where_prec": "where_prec",
        "wp": parse_number("where_prec", "SMALLINT"),
        "latitude": "latitude",
        "longitude": "longitude",
        "lat": parse_number("latitude", "DOUBLE"),
        "lon": parse_number("longitude", "DOUBLE"),
        "country_iso3": iso3_sql(raw.table, "country"),
        "adm_1": _col(raw, "adm_1"),
        "adm_2": _col(raw, "adm_2"),
        "best": "best",
        "low": "low",
        "high": "high",
        "deaths_civilians": "deaths_civilians",
        "n_best": parse_number("best", "INTEGER"),
        "n_low": parse_number("low", "INTEGER"),
        "n_high": parse_number("high", "INTEGER"),
        "n_civ": parse_number("deaths_civilians", "INTEGER"),
    }
    checks = [
        *value_checks("id", "source_id", "id", what="event id"),
        *value_checks("type_of_violence", "tv", "type_of_violence", what="type of violence"),
        code_check("type_of_violence", "tv", (1, 2, 3), "type_of_violence"),
        Check("side_a", "side_a IS NULL OR side_a = ''", "'missing side_a'"),
        *value_checks("date_start", "ds", "date_start", what="date"),
        *value_checks("date_end", "de", "date_end", what="date"),
        Check("date_end", "de < ds", "'date_end ' || de || ' is before date_start ' || ds"),
        *value_checks("date_prec", "dp", "date_prec", what="date precision"),
        code_check("date_prec", "dp", (1, 2, 3, 4, 5), "date_prec"),
        *value_checks("where_prec", "wp", "where_prec", what="geo precision"),
        code_check("where_prec", "wp", (1, 2, 3, 4, 5, 6, 7), "where_prec"),
        *coordinate_checks("latitude", "longitude"),
        *count_checks("best", "n_best", "best fatality estimate"),
        *count_checks("low", "n_low", "low fatality estimate"),
        *count_checks("high", "n_high", "high fatality estimate"),
        *count_checks("deaths_civilians", "n_civ", "civilian deaths"),
        Check(
            "best",
            "n_best < n_low OR n_best > n_high",
            "'best estimate ' || n_best || ' outside [low ' || n_low || ', high ' || n_high || ']'",
        ),
    ]
    names = " ".join(f"WHEN {k} THEN {sql_str(v[0])}" for k, v in VIOLENCE.items())
    codes = " ".join(f"WHEN {k} THEN {sql_str(v[1])}" for k, v in VIOLENCE.items())
    output = {
        "event_id": "'ucdp:' || source_id",
        "source": "'ucdp'",
        "source_id": "source_id",
        "source_version": sql_str(version) if version else "CAST(NULL AS VARCHAR)",
        "date_start": "ds",
        "date_end": "de",
        "date_precision": "dp",
        "lat": "lat",
        "lon": "lon",
        "geo_precision": "wp",
        "country_iso3": "country_iso3",
        "admin1": "adm_1",
        "admin2": "adm_2",
        "event_type": f"CASE tv {names} END",
        "violence_type": f"CASE tv {codes} END",
        "actor1": "side_a",
        "actor2": "side_b",
        "target_civilians": f"tv = {ONE_SIDED}",
        "fatalities_best": "n_best",
        "fatalities_low": "n_low",
        "fatalities_high": "n_high",
        "civilian_fatalities": "n_civ",
        "civilian_targeting": f"tv = {ONE_SIDED}",
        "sub_event_type": "CAST(NULL AS VARCHAR)",
        "actor1_id": "side_a_id",
        "actor2_id": "side_b_id",
        "assoc_actor1": "CAST(NULL AS VARCHAR)",
        "assoc_actor2": "CAST(NULL AS VARCHAR)",
        "line": "_line",
    }
    rows, rejects = canonicalise(
        raw, typed=typed, checks=checks, output=output, id_label="id", malformed=malformed
    )
    return LoadResult(
        source=SOURCE,
        kind="events",
        table=rows,
        rejects=rejects,
        rows_in=raw.table.num_rows + len(malformed),
        source_version=version,
        notes=raw.notes,
    )


def read_ucdp(path: str | Path, encoding: str = "auto") -> LoadResult:
    """Read a GED CSV (plain or zipped) or a UCDP API JSON page."""
    path = Path(path)
    if is_json(path):
        raw, meta = read_json_records(
            path, records_key="Result", required=REQUIRED, optional=OPTIONAL, what="UCDP"
        )
        return events_from_raw(
            raw, [], _version(path, meta.get("NextPageUrl") or meta.get("PreviousPageUrl"))
        )
    raw, malformed = read_delimited(
        path,
        required=REQUIRED,
        optional=OPTIONAL,
        what="UCDP GED",
        encoding=encoding,
        plain=PLAIN_COLUMNS,
    )
    return events_from_raw(raw, malformed, _version(path))
