"""ACLED events: CSV exports (the older schema with numeric ``inter1``/``inter2`` codes and the
current one with text interaction codes, ``civilian_targeting`` and ``disorder_type``) and API JSON
pages (``{"status", "success", "count", "data": [...]}``).

Civilian targeting (docs/sources.md): an event targets civilians when its ``event_type`` is
"Violence against civilians", or its ``civilian_targeting`` is "Civilian targeting" (current schema),
or, in the older schema that lacks that column, when civilians are actor 2 (``inter2`` = 7) of an
"Explosions/Remote violence" or "Riots" event. Its civilian fatalities are then its fatalities.
``civilian_targeting`` is the narrower coding without the older schema's actor-2 rule (the panel's
default civilian-harm definition, ``[study.outcomes] civilian = "targeting"``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from entangle.errors import InputError
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
    memory_db,
    parse_date,
    parse_number,
    read_delimited,
    read_json_records,
    snake,
    sql_quote,
    value_checks,
)

# Mostly-unique or short columns, read as plain strings (the others are dictionary-encoded).
PLAIN_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "latitude",
    "longitude",
    "geo_precision",
    "fatalities",
    "iso",
    "inter1",
    "inter2",
    "timestamp",
)
SOURCE = "acled"
REQUIRED = (
    "event_id_cnty",
    "event_date",
    "time_precision",
    "event_type",
    "actor1",
    "actor2",
    "country",
    "latitude",
    "longitude",
    "geo_precision",
    "fatalities",
)
OPTIONAL = (
    "sub_event_type",
    "assoc_actor_1",
    "assoc_actor_2",
    "inter1",
    "inter2",
    "civilian_targeting",
    "disorder_type",
    "admin1",
    "admin2",
    "iso",
    "timestamp",
)
# ISO dates in downloads and the API; '31 October 2020' and '31/10/2020' in older spreadsheet exports.
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y", "%Y-%m-%dT%H:%M:%S")
CIVILIANS_INTER = 7  # older codebook: inter code 7 = Civilians
OLD_TARGETING_TYPES = ("Explosions/Remote violence", "Riots")
# Older exports have no disorder_type; ACLED's own assignment of event types to disorder types.
DISORDER_OF_EVENT_TYPE = {
    "Battles": "political_violence",
    "Explosions/Remote violence": "political_violence",
    "Violence against civilians": "political_violence",
    "Protests": "demonstrations",
    "Riots": "demonstrations",
    "Strategic developments": "strategic_developments",
}


def _schema(raw: RawTable) -> str:
    """'current' when the file has the 2023 columns or text interaction codes, else 'old'."""
    names = raw.table.column_names
    if "civilian_targeting" in names or "disorder_type" in names:
        return "current"
    if "inter2" in names:
        sample = [v for v in raw.table.column("inter2").slice(0, 1000).to_pylist() if v]
        if sample and not all(v.strip().lstrip("-").split(".")[0].isdigit() for v in sample):
            return "current"
    return "old"


def _version(raw: RawTable) -> str:
    if "timestamp" not in raw.table.column_names:
        return f"ACLED export {raw.path.name}"
    con = memory_db()
    try:
        con.register("raw", raw.table.select(["timestamp"]))
        latest = con.execute("SELECT max(try_cast(timestamp AS BIGINT)) FROM raw").fetchone()[0]
    finally:
        con.close()
    if latest is None:
        return f"ACLED export {raw.path.name}"
    return f"ACLED export {dt.datetime.fromtimestamp(latest, dt.UTC).date().isoformat()}"


def _col(raw: RawTable, name: str) -> str:
    return sql_quote(name) if name in raw.table.column_names else "CAST(NULL AS VARCHAR)"


def _target_civilians(raw: RawTable, schema: str) -> str:
    vac = "event_type = 'Violence against civilians'"
    if "civilian_targeting" in raw.table.column_names:
        return f"({vac} OR coalesce(civilian_targeting = 'Civilian targeting', false))"
    if schema == "old" and "inter2" in raw.table.column_names:
        types = ", ".join(f"'{t}'" for t in OLD_TARGETING_TYPES)
        inter2 = parse_number("inter2", "INTEGER")
        return f"({vac} OR coalesce({inter2} = {CIVILIANS_INTER} AND event_type IN ({types}), false))"
    return f"({vac})"


def _civilian_targeting(raw: RawTable) -> str:
    """Targeting in the narrow sense: violence against civilians, or the current schema's flag
    (not the older schema's explosions and riots with civilians as actor 2)."""
    vac = "event_type = 'Violence against civilians'"
    if "civilian_targeting" in raw.table.column_names:
        return f"({vac} OR coalesce(civilian_targeting = 'Civilian targeting', false))"
    return f"({vac})"


def _violence_type(raw: RawTable) -> str:
    if "disorder_type" in raw.table.column_names:
        return snake("disorder_type")
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in DISORDER_OF_EVENT_TYPE.items())
    return f"CASE event_type {cases} END"


def events_from_raw(raw: RawTable, malformed: list[tuple[int, str]]) -> LoadResult:
    """Validate and convert ACLED records (as strings) to canonical events and rejects."""
    schema = _schema(raw)
    version = _version(raw)
    typed = {
        "source_id": "trim(event_id_cnty)",
        "event_id_cnty": "event_id_cnty",
        "event_date": "event_date",
        "d": parse_date("event_date", DATE_FORMATS),
        "time_precision": "time_precision",
        "tp": parse_number("time_precision", "SMALLINT"),
        "event_type": "event_type",
        "sub_event_type": _col(raw, "sub_event_type"),
        "violence_type": _violence_type(raw),
        "actor1": "actor1",
        "actor2": "actor2",
        "assoc_actor1": _col(raw, "assoc_actor_1"),
        "assoc_actor2": _col(raw, "assoc_actor_2"),
        "country_iso3": iso3_sql(raw.table, "country", "iso"),
        "admin1": _col(raw, "admin1"),
        "admin2": _col(raw, "admin2"),
        "latitude": "latitude",
        "longitude": "longitude",
        "lat": parse_number("latitude", "DOUBLE"),
        "lon": parse_number("longitude", "DOUBLE"),
        "geo_precision": "geo_precision",
        "gp": parse_number("geo_precision", "SMALLINT"),
        "fatalities": "fatalities",
        "deaths": parse_number("fatalities", "INTEGER"),
        "target_civilians": _target_civilians(raw, schema),
        "civilian_targeting": _civilian_targeting(raw),
    }
    checks = [
        Check("event_id_cnty", "source_id IS NULL OR source_id = ''", "'missing event id'"),
        *value_checks("event_date", "d", "event_date", what="date"),
        *value_checks("time_precision", "tp", "time_precision", what="time precision"),
        code_check("time_precision", "tp", (1, 2, 3), "time precision"),
        Check("event_type", "event_type IS NULL OR event_type = ''", "'missing event type'"),
        Check("actor1", "actor1 IS NULL OR actor1 = ''", "'missing actor1'"),
        *coordinate_checks("latitude", "longitude"),
        *value_checks("geo_precision", "gp", "geo_precision", what="geo precision"),
        code_check("geo_precision", "gp", (1, 2, 3), "geo precision"),
        *count_checks("fatalities", "deaths", "fatalities"),
    ]
    output = {
        "event_id": "'acled:' || source_id",
        "source": "'acled'",
        "source_id": "source_id",
        "source_version": f"'{version}'",
        "date_start": "d",
        "date_end": "d",
        "date_precision": "tp",
        "lat": "lat",
        "lon": "lon",
        "geo_precision": "gp",
        "country_iso3": "country_iso3",
        "admin1": "admin1",
        "admin2": "admin2",
        "event_type": "event_type",
        "violence_type": "violence_type",
        "actor1": "actor1",
        "actor2": "actor2",
        "target_civilians": "target_civilians",
        "fatalities_best": "deaths",
        "fatalities_low": "CAST(NULL AS INTEGER)",
        "fatalities_high": "CAST(NULL AS INTEGER)",
        "civilian_fatalities": "CASE WHEN target_civilians THEN deaths ELSE 0 END",
        "civilian_targeting": "civilian_targeting",
        "sub_event_type": "sub_event_type",
        "actor1_id": "CAST(NULL AS VARCHAR)",
        "actor2_id": "CAST(NULL AS VARCHAR)",
        "assoc_actor1": "assoc_actor1",
        "assoc_actor2": "assoc_actor2",
        "line": "_line",
    }
    rows, rejects = canonicalise(
        raw, typed=typed, checks=checks, output=output, id_label="event_id_cnty", malformed=malformed
    )
    notes = (*raw.notes, f"{schema} ACLED schema")
    return LoadResult(
        source=SOURCE,
        kind="events",
        table=rows,
        rejects=rejects,
        rows_in=raw.table.num_rows + len(malformed),
        source_version=version,
        notes=notes,
    )


def read_acled(path: str | Path, encoding: str = "auto") -> LoadResult:
    """Read an ACLED CSV export (either schema, plain or zipped) or an API JSON page."""
    if is_json(path):
        raw, meta = read_json_records(
            path, records_key="data", required=REQUIRED, optional=OPTIONAL, what="ACLED"
        )
        if meta.get("success") is False or meta.get("status") not in (None, 200, "200"):
            message = meta.get("error") or meta.get("messages") or meta.get("status")
            raise InputError(
                f"{path}:1", f"the ACLED API page reports a failure: {message}", "fetch it again"
            )
        return events_from_raw(raw, [])
    raw, malformed = read_delimited(
        path,
        required=REQUIRED,
        optional=OPTIONAL,
        what="ACLED",
        encoding=encoding,
        plain=PLAIN_COLUMNS,
    )
    return events_from_raw(raw, malformed)
