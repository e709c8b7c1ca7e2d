"""Load one file into the store: read it with its source's loader, map actors, check the reject share,
write it in one transaction.

Nothing reaches the store unless the whole file was read, the share of rejected rows is within
``max_reject_share`` and the write commits. A file whose sha256 is already in the store is not read
again: loading the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from entangle.errors import InputError
from entangle.sources.actors import ActorRules, load_actor_rules, map_actors, peacekeeping_ids
from entangle.sources.base import FOLDED, LoadResult
from entangle.sources.plausibility import check_plausibility
from entangle.sources.readers import check_file, sha256_file

if TYPE_CHECKING:
    from entangle.registry import Registry
    from entangle.store import Store

SOURCES = ("ucdp", "acled", "csv", "geopko", "radpko")
ALREADY_LOADED = "already in the store; nothing changed"


def _registry(registry: Registry | str | Path | None) -> Registry:
    from entangle.registry import Registry, load_registry

    return registry if isinstance(registry, Registry) else load_registry(registry)


def read_source(
    source: str,
    path: Path,
    registry: Registry,
    mapping: Mapping[str, str] | list[str] | None = None,
    encoding: str = "auto",
) -> LoadResult:
    """Dispatch to the source's loader (pure: nothing is written)."""
    if source == "ucdp":
        from entangle.sources.ucdp import read_ucdp

        return read_ucdp(path, encoding=encoding)
    if source == "acled":
        from entangle.sources.acled import read_acled

        return read_acled(path, encoding=encoding)
    if source == "csv":
        from entangle.sources.csv import read_csv

        if not mapping:
            raise InputError(
                "ingest csv", "no column mapping", "give --map date=<col> --map lat=<col> --map lon=<col>"
            )
        return read_csv(path, mapping, encoding=encoding)
    if source == "geopko":
        from entangle.sources.geopko import read_geopko

        return read_geopko(path, registry)
    if source == "radpko":
        from entangle.sources.radpko import read_radpko

        return read_radpko(path, registry)
    raise InputError("ingest", f"unknown source {source!r}", f"one of {', '.join(SOURCES)}")


def check_reject_share(result: LoadResult, path: Path, max_reject_share: float) -> None:
    """Abort (one line naming the first bad line and column) when too many rows were rejected."""
    if result.rows_in == 0:
        raise InputError(f"{path}:2", "no data rows after the header", "is the file truncated?")
    share = result.rows_bad / result.rows_in
    if share <= max_reject_share:
        return
    bad = result.rejects.filter(pc.invert(pc.starts_with(result.rejects["reason"], FOLDED)))
    first = bad.slice(0, 1).to_pylist()[0]
    column = f"column {first['column']!r}: " if first["column"] else ""
    raise InputError(
        f"{path}:{first['line']}",
        f"{column}{first['reason']}; {result.rows_bad} of {result.rows_in} rows "
        f"({share:.0%}) are bad, more than the allowed {max_reject_share:.0%}; nothing was loaded",
        "fix the file, or raise --max-reject-share to load the good rows",
    )


def ingest(
    store: Store,
    source: str,
    path: str | Path,
    registry: Registry | str | Path | None = None,
    mapping: Mapping[str, str] | list[str] | None = None,
    max_reject_share: float = 0.1,
    encoding: str = "auto",
    rules: ActorRules | None = None,
) -> LoadResult:
    """Read ``path`` as ``source`` and write it to ``store``; return what was stored.

    ``registry``: a loaded registry or a theatre directory (default: the bundled Mali theatre); its
    ``actors.yaml`` maps actors unless ``rules`` is given. ``mapping`` (csv only): canonical field ->
    column. When the file is already in the store the result has no rows and the note
    ``ALREADY_LOADED``.
    """
    if source not in SOURCES:
        raise InputError("ingest", f"unknown source {source!r}", f"one of {', '.join(SOURCES)}")
    if not 0 <= max_reject_share <= 1:
        raise InputError(
            "--max-reject-share", f"{max_reject_share} is not a share", "give a number in [0, 1]"
        )
    path = check_file(path)
    sha256 = sha256_file(path)
    if store.has_file(sha256):
        kind = "sites" if source in ("geopko", "radpko") else "events"
        return LoadResult(source=source, kind=kind, table=pa.table({}), notes=(ALREADY_LOADED,))
    reg = _registry(registry)
    result = read_source(source, path, reg, mapping, encoding)
    result = check_plausibility(result, list(reg.theatre.country_iso3), max_reject_share)
    check_reject_share(result, path, max_reject_share)
    actor_map = None
    if result.kind == "events":
        rules = rules or load_actor_rules(registry=reg)
        table = map_actors(result.table, result.source, rules, peacekeeping_ids(reg))
        result = replace(result, table=table)
        actor_map = rules.table()
    return store.write(result, path, sha256, actor_map=actor_map)
