"""Any other event file, through an explicit column mapping (``--map date=event_date --map lat=y``).

The mapping names, for each canonical field, the file's column holding it. ``date`` (or
``date_start``), ``lat`` and ``lon`` are required; everything else is optional. Without an ``event_id``
column the record's line number is its id, so reloading an edited copy of the file is refused as
duplicate ids: map an id column whenever the file has one. Dates are ISO (2020-03-31), day-first
(31/03/2020) or '31 March 2020'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from entangle.errors import InputError
from entangle.sources.base import LoadResult
from entangle.sources.readers import (
    Check,
    canonicalise,
    coordinate_checks,
    count_checks,
    is_json,
    parse_date,
    parse_number,
    read_delimited,
    snake,
    sql_quote,
    sql_str,
    value_checks,
)

REQUIRED_FIELDS = ("date_start", "lat", "lon")
FIELDS = {
    "event_id": "the event's id in the file",
    "date_start": "event date (alias: date)",
    "date_end": "last day, when the event spans several",
    "date_precision": "the source's date precision code",
    "lat": "latitude (WGS84)",
    "lon": "longitude (WGS84)",
    "geo_precision": "the source's location precision code",
    "country_iso3": "ISO 3166-1 alpha-3 country code",
    "admin1": "first-level admin unit",
    "admin2": "second-level admin unit",
    "event_type": "event type",
    "sub_event_type": "sub-event type",
    "violence_type": "violence type (snake-cased)",
    "actor1": "perpetrator / side A",
    "actor2": "target / side B",
    "fatalities": "best fatality estimate (alias: fatalities_best)",
    "fatalities_low": "low estimate",
    "fatalities_high": "high estimate",
    "civilian_fatalities": "civilian deaths",
    "target_civilians": "true/false, yes/no, 1/0",
}
ALIASES = {"date": "date_start", "fatalities_best": "fatalities", "latitude": "lat", "longitude": "lon"}
# Mostly-unique or short fields, read as plain strings (the others are dictionary-encoded).
PLAIN_FIELDS = (
    "event_id",
    "date_start",
    "date_end",
    "lat",
    "lon",
    "fatalities",
    "fatalities_low",
    "fatalities_high",
)
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d %B %Y", "%d-%m-%Y")
TRUE = ("true", "t", "yes", "y", "1")
FALSE = ("false", "f", "no", "n", "0")


def parse_mapping(pairs: Mapping[str, str] | list[str]) -> dict[str, str]:
    """``{"date": "event_date"}`` or ``["date=event_date", ...]`` -> canonical field -> file column."""
    items = pairs.items() if isinstance(pairs, Mapping) else []
    if not isinstance(pairs, Mapping):
        parsed = []
        for pair in pairs:
            if "=" not in pair:
                raise InputError("--map", f"{pair!r} is not canon=column", "e.g. --map date=event_date")
            key, _, value = pair.partition("=")
            parsed.append((key, value))
        items = parsed
    mapping: dict[str, str] = {}
    for key, value in items:
        canon = ALIASES.get(key.strip().lower(), key.strip().lower())
        if canon not in FIELDS:
            raise InputError("--map", f"unknown field {key!r}", "fields: " + ", ".join(FIELDS))
        if not value.strip():
            raise InputError("--map", f"no column given for {key!r}", f"write {key}=<column name>")
        mapping[canon] = value.strip().lower()
    missing = [f for f in REQUIRED_FIELDS if f not in mapping]
    if missing:
        raise InputError("--map", f"no column mapped for {', '.join(missing)}", "e.g. --map date=event_date")
    return mapping


def source_name(path: Path) -> str:
    """``csv:<file stem>`` in lower snake case: the ``source`` of these events."""
    stem = re.sub(r"[^a-z0-9]+", "_", path.stem.lower()).strip("_") or "file"
    return f"csv:{stem}"


def read_csv(path: str | Path, mapping: Mapping[str, str] | list[str], encoding: str = "auto") -> LoadResult:
    """Read a delimited event file whose columns are named by ``mapping``."""
    path = Path(path)
    fields = parse_mapping(mapping)
    if is_json(path):
        raise InputError(
            str(path), "the csv loader reads delimited text, not JSON", "convert it to CSV first"
        )
    raw, malformed = read_delimited(
        path,
        required=list(dict.fromkeys(fields.values())),
        what="mapped",
        encoding=encoding,
        plain=[fields[f] for f in PLAIN_FIELDS if f in fields],
    )
    source = source_name(path)

    def col(field: str) -> str:
        return sql_quote(fields[field]) if field in fields else "CAST(NULL AS VARCHAR)"

    typed = {
        "source_id": f"trim({col('event_id')})" if "event_id" in fields else "CAST(_line AS VARCHAR)",
        "ds": parse_date(col("date_start"), DATE_FORMATS),
        "de": parse_date(col("date_end"), DATE_FORMATS) if "date_end" in fields else "NULL",
        "lat": parse_number(col("lat"), "DOUBLE"),
        "lon": parse_number(col("lon"), "DOUBLE"),
        "dp": parse_number(col("date_precision"), "SMALLINT"),
        "gp": parse_number(col("geo_precision"), "SMALLINT"),
        "n_best": parse_number(col("fatalities"), "INTEGER"),
        "n_low": parse_number(col("fatalities_low"), "INTEGER"),
        "n_high": parse_number(col("fatalities_high"), "INTEGER"),
        "n_civ": parse_number(col("civilian_fatalities"), "INTEGER"),
        "tc": (
            f"CASE WHEN lower({col('target_civilians')}) IN {TRUE} THEN true "
            f"WHEN lower({col('target_civilians')}) IN {FALSE} THEN false END"
        ),
        **{f: col(f) for f in ("country_iso3", "admin1", "admin2", "event_type", "sub_event_type")},
        **{f: col(f) for f in ("actor1", "actor2")},
        "violence_type": snake(col("violence_type")),
        **{f"raw_{f}": col(f) for f in fields},
    }
    checks: list[Check] = []
    if "event_id" in fields:
        checks.append(Check(fields["event_id"], "source_id IS NULL OR source_id = ''", "'missing event id'"))
    checks += value_checks(fields["date_start"], "ds", "raw_date_start", what="date")
    if "date_end" in fields:
        checks += value_checks(fields["date_end"], "de", "raw_date_end", what="date")
        checks.append(
            Check(fields["date_end"], "de < ds", "'end date ' || de || ' is before start date ' || ds")
        )
    checks += _renamed(
        coordinate_checks("raw_lat", "raw_lon"), {"raw_lat": fields["lat"], "raw_lon": fields["lon"]}
    )
    for field, typed_name in (
        ("fatalities", "n_best"),
        ("fatalities_low", "n_low"),
        ("fatalities_high", "n_high"),
        ("civilian_fatalities", "n_civ"),
    ):
        if field in fields:
            checks += _renamed(
                count_checks(f"raw_{field}", typed_name, field.replace("_", " ")),
                {f"raw_{field}": fields[field]},
            )
    if "target_civilians" in fields:
        raw_tc = "raw_target_civilians"
        checks.append(
            Check(
                fields["target_civilians"],
                f"{raw_tc} IS NOT NULL AND tc IS NULL",
                f"'not true/false: ' || {raw_tc}",
            )
        )
    output = {
        "event_id": f"{sql_str(source + ':')} || source_id",
        "source": sql_str(source),
        "source_id": "source_id",
        "source_version": sql_str(path.name),
        "date_start": "ds",
        "date_end": "coalesce(de, ds)",
        "date_precision": "dp",
        "lat": "lat",
        "lon": "lon",
        "geo_precision": "gp",
        "country_iso3": "upper(country_iso3)",
        "admin1": "admin1",
        "admin2": "admin2",
        "event_type": "event_type",
        "violence_type": "violence_type",
        "actor1": "actor1",
        "actor2": "actor2",
        "target_civilians": "tc",
        "fatalities_best": "n_best",
        "fatalities_low": "n_low",
        "fatalities_high": "n_high",
        "civilian_fatalities": "n_civ",
        "civilian_targeting": "tc",
        "sub_event_type": "sub_event_type",
        "actor1_id": "CAST(NULL AS VARCHAR)",
        "actor2_id": "CAST(NULL AS VARCHAR)",
        "assoc_actor1": "CAST(NULL AS VARCHAR)",
        "assoc_actor2": "CAST(NULL AS VARCHAR)",
        "line": "_line",
    }
    rows, rejects = canonicalise(
        raw, typed=typed, checks=checks, output=output, id_label=fields.get("event_id"), malformed=malformed
    )
    return LoadResult(
        source=source,
        kind="events",
        table=rows,
        rejects=rejects,
        rows_in=raw.table.num_rows + len(malformed),
        source_version=path.name,
        notes=(*raw.notes, "mapping " + ", ".join(f"{k}={v}" for k, v in fields.items())),
    )


def _renamed(checks: list[Check], names: dict[str, str]) -> list[Check]:
    """Checks written against ``raw_<field>`` columns, reported under the file's own column names."""
    return [Check(names.get(c.column, c.column), c.bad, c.reason) for c in checks]
