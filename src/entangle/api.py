"""The public Python API: the verbs of a session, from files to estimates (see docs/api.md).

``import entangle as en`` gives them all (loaded on first use, so the import is quick). Each is the
function the command line calls, or a thin keyword front to it:

- ``en.load_registry(path=None)`` -> ``Registry`` (the bundled Mali theatre without a path)
- ``en.read(source, path)`` -> ``LoadResult``: a file through its source's loader, nothing written
- ``en.ingest(source, path, store=None)`` -> ``LoadResult``: into the DuckDB store (``entangle ingest``)
- ``en.panel_from_files(events=[("acled", path)], deployments=[("geopko", path)], unit=...)`` -> Arrow
  table (``entangle panel --events ... --deployments ...``); ``en.panel_from_store`` reads the store
- ``en.fit(panel, design=..., outcome=..., treatment=...)`` -> ``Result`` (``entangle estimate``);
  results show as tables in a notebook and a terminal

(``en.panel`` and ``en.estimate`` are the subpackages ``entangle.panel`` and ``entangle.estimate``,
hence the verbs' names.)
- ``en.load_study(path)``, ``en.run_study(study, out)`` -> ``RunResult`` (``entangle run``)
- mechanisms (HRDDP monitor, distance profiles, site openings; issue 11): listed in
  ``entangle.__init__`` beside these once ``entangle.mechanisms`` exists.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from entangle.estimate.result import Result
    from entangle.pipeline import RunResult
    from entangle.registry import Registry
    from entangle.sources.base import LoadResult
    from entangle.study import Study

Files = Sequence[tuple[str, str | os.PathLike[str]]]


def _date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    from entangle.errors import PanelError

    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise PanelError("date", f"{value!r} is not a date", "use YYYY-MM-DD") from None


def read(source: str, path: str | os.PathLike[str], registry: Registry | str | None = None) -> LoadResult:
    """Read one whole file with its source's loader (ucdp, acled, geopko, radpko); nothing is stored.

    Checked as ``ingest`` checks it; events come with actors mapped, as ``ingest`` would store them.
    """
    from entangle.quick import FileInput, read_one

    registry = registry if _is_registry(registry) else load_registry(registry)
    return read_one(FileInput(source, Path(path)), registry)


def ingest(
    source: str,
    path: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    registry: Registry | str | None = None,
    **options: Any,
) -> LoadResult:
    """Load one file into the store (default ``$ENTANGLE_STORE``) in one transaction, as
    ``entangle ingest`` does; ``options``: ``mapping``, ``max_reject_share``, ``encoding``."""
    from entangle.sources.ingest import ingest as ingest_into
    from entangle.store import open_store

    with open_store(store) as db:
        return ingest_into(db, source, path, registry=registry, **options)


def panel_from_files(
    events: Files,
    deployments: Files = (),
    *,
    unit: str = "priogrid",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    period: str = "month",
    radii_km: Sequence[float] = (25.0, 50.0),
    imprecision: str = "drop",
    extent: Sequence[str] = (),
    registry: Registry | str | None = None,
    out: str | os.PathLike[str] | None = None,
    store: str | os.PathLike[str] | None = None,
) -> pa.Table:
    """The unit x period panel straight from files, as ``entangle panel --events ... --deployments``.

    ``events``/``deployments``: ``(source, path)`` pairs. ``start``/``end`` default to the theatre's
    window. With ``out`` the panel is also written to Parquet; with ``store`` the files are also
    loaded into that store. The table's schema metadata ``entangle`` holds the panel's metadata.
    """
    import json

    from entangle.geo.assign import ImprecisionRule
    from entangle.panel.build import PanelSpec
    from entangle.quick import panel_from_files as build

    registry = registry if _is_registry(registry) else load_registry(registry)
    theatre = registry.theatre
    spec = PanelSpec(
        start=_date(start) or theatre.start,
        end=_date(end) or theatre.end,
        unit=unit,
        period=period,
        radii_km=tuple(float(r) for r in radii_km),
        imprecision=ImprecisionRule(imprecision),
        extent=tuple(extent),
    )
    table, meta = build(
        events, spec, deployments, registry=registry, store=store, write_store=store is not None
    )
    if out is not None:
        import pyarrow.parquet as pq

        from entangle.atomic import atomic_path

        with atomic_path(out) as tmp:
            pq.write_table(table.replace_schema_metadata({"entangle": json.dumps(meta)}), tmp)
    return table


def fit(
    panel: pa.Table | pd.DataFrame | str | os.PathLike[str],
    design: str,
    outcome: str,
    treatment: str,
    **options: Any,
) -> Result:
    """One model on a panel (an Arrow table from ``panel_from_files``, a pandas frame or a Parquet path), as
    ``entangle estimate`` fits it; ``options`` as in ``entangle.estimate.estimate``."""
    from entangle.estimate.api import estimate as fit
    from entangle.estimate.api import estimate_file

    if isinstance(panel, (str, os.PathLike)):
        return estimate_file(panel, design=design, outcome=outcome, treatment=treatment, **options)
    metadata = None
    if hasattr(panel, "schema") and hasattr(panel, "to_pandas"):  # an Arrow table
        from entangle.panel.metadata import panel_metadata

        metadata = panel_metadata(panel) or None
        panel = panel.to_pandas(date_as_object=False)
    return fit(panel, design, outcome, treatment, metadata=metadata, **options)


def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """A theatre's registry (the bundled Mali theatre without a path)."""
    from entangle.registry import load_registry as load

    return load(path)


def load_study(path: str | os.PathLike[str] | None = None) -> Study:
    """A study file (the bundled Mali study without a path), validated."""
    from entangle.study import load_study as load

    return load(path)


def run_study(study: Study | str | os.PathLike[str] | None, out: str | os.PathLike[str]) -> RunResult:
    """The whole flow for a study (a ``Study`` or its path), as ``entangle run``; outputs in ``out``."""
    from entangle.pipeline import run_study as run

    if study is None or isinstance(study, (str, os.PathLike)):
        study = load_study(study)
    return run(study, out)


def _is_registry(value: Any) -> bool:
    from entangle.registry import Registry

    return isinstance(value, Registry)
