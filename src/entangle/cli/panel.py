"""CLI command: ``entangle panel`` — build the unit × period panel from the store and the registry.

Settings come from ``--study FILE`` when given; each flag overrides the study's value. Without a
study, ``--from``/``--to`` default to the registry theatre's window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from enum import StrEnum
from pathlib import Path

import typer

from entangle.errors import PanelError


class Period(StrEnum):
    month = "month"
    quarter = "quarter"
    year = "year"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class Rule(StrEnum):
    drop = "drop"
    point = "point"
    spread = "spread"


def _date(value: str | None, flag: str, last: bool = False) -> dt.date | None:
    from entangle.panel.periods import parse_bound

    return None if value is None else parse_bound(value, flag, last)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("panel")
    def panel(
        study: Path | None = typer.Option(None, "--study", help="Study file (TOML); flags override it."),
        unit: str | None = typer.Option(None, "--unit", help="priogrid | admin:FILE:IDCOL | h3:RES"),
        period: Period | None = typer.Option(None, "--period", help="month | quarter | year"),
        start: str | None = typer.Option(
            None, "--from", help="First day: YYYY-MM-DD, or YYYY-MM / YYYY for its first day."
        ),
        end: str | None = typer.Option(
            None, "--to", help="Last day: YYYY-MM-DD, or YYYY-MM / YYYY for its last day."
        ),
        out: Path = typer.Option(Path("panel.parquet"), "--out", help="Parquet file to write."),
        store: Path | None = typer.Option(
            None,
            "--store",
            help="The DuckDB store to read (default: $ENTANGLE_STORE); with --events, also load the "
            "files into it.",
        ),
        events: list[str] | None = typer.Option(
            None, "--events", help="SOURCE:FILE (acled, ucdp): build from this file, not the store (repeat)."
        ),
        deployments: list[str] | None = typer.Option(
            None, "--deployments", help="SOURCE:FILE (geopko, radpko) with --events: read for the theatre."
        ),
        registry: Path | None = typer.Option(
            None, "--registry", help="Theatre directory (default: bundled)."
        ),
        engine: Engine = typer.Option(Engine.duckdb, "--engine", help="duckdb | spark"),
        radius: list[float] | None = typer.Option(None, "--radius", help="Exposure radius in km (repeat)."),
        extent: list[str] | None = typer.Option(None, "--extent", help="ISO3 country outline (repeat)."),
        imprecision: Rule | None = typer.Option(None, "--imprecision", help="drop | point | spread"),
        source: list[str] | None = typer.Option(
            None, "--source", help="Use only events from this source (repeat; default: all in the store)."
        ),
        spread_over: str | None = typer.Option(
            None, "--spread-over", help="FILE:IDCOL admin polygons for --imprecision spread on grid/H3 units."
        ),
        exclude_site_type: list[str] | None = typer.Option(
            None, "--exclude-site-type", help="Leave sites of this type out of exposures (repeat; e.g. hq)."
        ),
    ) -> None:
        """Build the dense unit × period panel (outcomes, exposures, entanglement, spatial lags).

        From the store, or straight from files in one go with --events (and --deployments).
        """
        from entangle.atomic import check_writable_file
        from entangle.geo.assign import ImprecisionRule
        from entangle.panel.build import PanelSpec

        loaded = None
        if study is not None:  # imported only here: the study schema takes a tenth of a second to build
            from entangle.study import load_study

            loaded = load_study(study)
        if loaded is not None:
            spec = PanelSpec.from_study(loaded)
            registry = registry or loaded.registry
        else:
            from entangle.registry import load_registry

            theatre = load_registry(registry).theatre
            spec = PanelSpec(start=theatre.start, end=theatre.end)
        rule = spec.imprecision
        if imprecision is not None:
            rule = ImprecisionRule(
                imprecision.value,
                rule.ucdp_max_where_prec,
                rule.acled_max_geo_precision,
                rule.max_date_precision_days,
            )
        spec = dataclasses.replace(
            spec,
            start=_date(start, "--from") or spec.start,
            end=_date(end, "--to", last=True) or spec.end,
            unit=unit or spec.unit,
            period=period.value if period else spec.period,
            radii_km=tuple(radius) if radius else spec.radii_km,
            imprecision=rule,
            extent=tuple(extent) if extent else spec.extent,
            spread_over=spread_over or spec.spread_over,
            sources=tuple(source) if source else spec.sources,
            exclude_site_types=tuple(exclude_site_type) if exclude_site_type else spec.exclude_site_types,
        )
        spec.validate()
        check_writable_file(out, "panel file (--out)")
        if deployments and not events:
            raise PanelError("--deployments", "only with --events", "give --events SOURCE:FILE too")
        if events:
            from entangle.quick import DEPLOYMENT_SOURCES, EVENT_SOURCES, FileInput, panel_from_files

            _, meta = panel_from_files(
                [FileInput.parse(e, EVENT_SOURCES, "--events") for e in events],
                spec,
                [FileInput.parse(d, DEPLOYMENT_SOURCES, "--deployments") for d in deployments or []],
                out=out,
                registry=registry,
                store=store,
                write_store=store is not None,
                engine=engine.value,
            )
            print(json.dumps({"out": str(out), "rows": meta["rows"], "counts": meta["counts"]}))
            return
        from rich.console import Console
        from rich.progress import Progress

        from entangle.panel.io import panel_from_store

        console = Console(stderr=True)
        # No live display when stderr is not a terminal: logs and error lines stay clean.
        with Progress(console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("panel", total=None)
            meta = panel_from_store(
                store,
                registry,
                spec,
                out,
                engine.value,
                loaded,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        print(json.dumps({"out": str(out), "rows": meta["rows"], "counts": meta["counts"]}))
