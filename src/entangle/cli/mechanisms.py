"""CLI commands: ``entangle hrddp`` (the HRDDP monitor) and ``entangle profile`` (distance profiles)."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path

import typer


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _write(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))
        return
    from entangle.atomic import atomic_path

    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


def _csv(rows: list[dict]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _monitor_table(result) -> str:
    thresholds = result.thresholds.describe()
    lines = [f"HRDDP monitor {result.start} to {result.end}", f"flags: scale = {thresholds['scale']};"]
    lines.append(f"       frequency = {thresholds['frequency']}")
    if result.note:
        return "\n".join([*lines, result.note]) + "\n"
    head = f"{'tie':<36} {'phase':<7} {'months':>6} {'events':>6} {'deaths':>6} {'assoc':>5} {'flagged':>7}"
    lines += ["", head]
    for tie in result.ties:
        for phase in ("before", "during", "after"):
            p = tie[phase]
            lines.append(
                f"{tie['tie_id']:<36} {phase:<7} {p['months']:>6} {p['events']:>6} "
                f"{p['civilian_fatalities']:>6} {p['assoc_events']:>5} {p['flagged_months']:>7}"
            )
    lines += ["", "largest incidents while support was active:"]
    for row in result.to_dict()["incidents"]:
        lines.append(
            f"  {row['date']}  {row['recipient']:<8} {row['fatalities']:>4} dead  {row['location'] or '?'}"
            f"  ({row['event_id']}; nearest {row['provider']} site {row['nearest_provider_site']}, "
            f"{row['nearest_provider_km']} km)"
        )
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("hrddp")
    def hrddp(
        study: Path | None = typer.Argument(None, help="Study file (default: the bundled Mali study)."),
        fmt: Format = typer.Option(Format.table, "--format", help="table | json | csv"),
        out: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
        store: Path | None = typer.Option(
            None, "--store", help="Read events and sites from this store instead of the study's files."
        ),
        scale_deaths: int | None = typer.Option(None, "--scale-deaths", min=1, help="Scale flag threshold."),
        frequency_events: int | None = typer.Option(None, "--frequency-events", min=1),
        window_months: int | None = typer.Option(None, "--window-months", min=1),
    ) -> None:
        """The HRDDP monitor: harm by the forces a peacekeeping mission supports, month by month."""
        from entangle.mechanisms.api import check_study
        from entangle.mechanisms.hrddp import Thresholds, csv_rows, monitor
        from entangle.mechanisms.inputs import load_inputs, study_registry
        from entangle.study import load_study

        spec = load_study(study)
        registry = study_registry(spec)
        check_study(spec, registry)
        inputs = load_inputs(spec, store)
        settings = spec.mechanisms
        thresholds = Thresholds(
            scale_deaths or settings.scale_deaths,
            frequency_events or settings.frequency_events,
            window_months or settings.window_months,
        )
        result = monitor(inputs.events, inputs.sites, inputs.registry, spec.start, spec.end, thresholds)
        if fmt == Format.json:
            text = json.dumps(result.to_dict(), indent=2, default=str) + "\n"
        elif fmt == Format.csv:
            text = _csv(csv_rows(result))
            if not text:
                text = f"# {result.note}\n"
        else:
            text = _monitor_table(result)
        _write(text, out)

    @app.command("profile")
    def profile(
        study: Path | None = typer.Argument(None, help="Study file (default: the bundled Mali study)."),
        of: str | None = typer.Option(None, "--of", help="Intervention kind or id (default: the study's)."),
        bands: str | None = typer.Option(None, "--bands", help="Band edges in km, e.g. 0,10,25,50,100."),
        changes: bool = typer.Option(False, "--changes", help="Before/after each site opening or closure."),
        window_months: int = typer.Option(12, "--window-months", min=1, help="With --changes."),
        fmt: Format = typer.Option(Format.table, "--format", help="table | json | csv"),
        out: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
        store: Path | None = typer.Option(None, "--store", help="Read events and sites from this store."),
    ) -> None:
        """Civilian harm by distance band from the nearest active site, per year (or around site changes)."""
        from entangle.mechanisms.api import check_study
        from entangle.mechanisms.bands import parse_edges
        from entangle.mechanisms.inputs import load_inputs, study_registry
        from entangle.mechanisms.profile import distance_profile, select_sites, site_changes
        from entangle.panel.build import PanelSpec
        from entangle.study import load_study

        spec = load_study(study)
        edges = parse_edges(bands) if bands is not None else spec.mechanisms.bands_km
        target = of or spec.mechanisms.profile_of
        check_study(spec, study_registry(spec))
        inputs = load_inputs(spec, store)
        select_sites(inputs.sites, target, inputs.registry, "--of" if of else "study.mechanisms.profile_of")
        panel_spec = PanelSpec.from_study(spec)
        if changes:
            table = site_changes(
                inputs.events_table, inputs.sites, inputs.registry, panel_spec, target, edges, window_months
            )
        else:
            table = distance_profile(
                inputs.events_table, inputs.sites, inputs.registry, panel_spec, target, edges
            )
        if fmt == Format.json:
            text = table.to_json(orient="records", indent=2) + "\n"
        elif fmt == Format.csv:
            text = table.to_csv(index=False)
        else:
            keys = ["change", "side", "band"] if changes else ["year", "band"]
            values = (
                ["events_per_month", "civilian_fatalities_per_month"]
                if changes
                else ["events", "civilian_fatalities"]
            )
            summary = table.groupby(keys, sort=False)[values].agg("mean" if changes else "sum").round(2)
            text = f"civilian harm by distance from the nearest active {target} site\n{summary.to_string()}\n"
        _write(text, out)
