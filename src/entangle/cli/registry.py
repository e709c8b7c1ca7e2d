"""CLI commands: ``entangle registry validate|show|network|metrics|audit``.

Every command reads the bundled Mali theatre unless ``--registry DIR`` names another theatre
directory. The registry modules are imported inside commands so ``entangle --help`` stays fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from enum import StrEnum
from pathlib import Path

import typer

from entangle.errors import RegistryError

REGISTRY_OPTION = typer.Option(
    None, "--registry", help="Theatre directory to read (default: the bundled Mali theatre)."
)


class ShowFormat(StrEnum):
    table = "table"
    json = "json"


class GraphFormat(StrEnum):
    graphml = "graphml"
    gexf = "gexf"
    json = "json"


class MetricsFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Freq(StrEnum):
    month = "month"
    year = "year"


_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _date(text: str, option: str, *, last: bool = False) -> dt.date:
    """Parse YYYY-MM-DD, or YYYY-MM / YYYY as the first (or with ``last``, the final) day they cover."""
    match = _DATE.match(text.strip())
    try:
        if not match:
            raise ValueError("not in YYYY-MM-DD form")
        year, month, day = match.groups()
        if day:
            return dt.date(int(year), int(month), int(day))
        if month:
            first = dt.date(int(year), int(month), 1)
            following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return following - dt.timedelta(days=1) if last else first
        return dt.date(int(year), 12, 31) if last else dt.date(int(year), 1, 1)
    except ValueError as exc:
        raise RegistryError(option, f"{text!r} is not a date ({exc})", "use YYYY-MM-DD") from None


def validate(
    directory: Path | None = typer.Argument(None, help="Theatre directory (default: --registry or bundled)."),
    registry: Path | None = REGISTRY_OPTION,
) -> None:
    """Check a theatre: print a one-line summary, or every problem found (exit 2)."""
    from entangle.errors import RegistryErrors
    from entangle.registry import load_registry

    try:
        loaded = load_registry(directory or registry)
    except RegistryErrors as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        raise typer.Exit(2) from None
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    counts = ", ".join(f"{n} {name}" for name, n in loaded.counts().items())
    print(f"ok: {loaded.path}: theatre {loaded.theatre.id}: {counts}; {len(loaded.warnings)} warning(s)")


def show(
    at: str = typer.Option(..., "--at", help="Day, YYYY-MM-DD."),
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format"),
    registry: Path | None = REGISTRY_OPTION,
) -> None:
    """What was in force on a day: interventions, mandates, ties, sites."""
    from entangle.registry import load_registry
    from entangle.registry.tables import snapshot

    data = snapshot(load_registry(registry), _date(at, "--at"))
    if fmt is ShowFormat.json:
        print(json.dumps(data, ensure_ascii=False))
        return
    _print_tables(data)


def _print_tables(data: dict) -> None:
    from rich.table import Table

    console = _console()
    for section, rows in data.items():
        if section == "date":
            continue
        table = Table(title=f"{section} in force on {data['date']} ({len(rows)})")
        columns = [key for key in (rows[0] if rows else {}) if key != "sources"]
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
        console.print(table)


def network(
    at: str | None = typer.Option(None, "--at", help="One day, YYYY-MM-DD."),
    by: Freq | None = typer.Option(None, "--by", help="One graph over all periods of this length."),
    fmt: GraphFormat = typer.Option(GraphFormat.graphml, "--format"),
    out: Path | None = typer.Option(None, "--out", help="Write here (atomically) instead of stdout."),
    registry: Path | None = REGISTRY_OPTION,
) -> None:
    """The tie network on a day (--at) or over the theatre's periods (--by, a `periods` attribute)."""
    if (at is None) == (by is None):
        raise RegistryError("registry network", "give exactly one of --at DATE or --by year|month")
    from entangle.atomic import write_text
    from entangle.registry import load_registry
    from entangle.registry.network import graph_at, graph_text, timeline_graph

    loaded = load_registry(registry)
    graph = graph_at(loaded, _date(at, "--at")) if at else timeline_graph(loaded, by.value)
    text = graph_text(graph, fmt.value)
    if out is None:
        sys.stdout.write(text)
    else:
        write_text(out, text)


def metrics(
    by: Freq = typer.Option(Freq.month, "--by"),
    fmt: MetricsFormat = typer.Option(MetricsFormat.table, "--format"),
    start: str | None = typer.Option(None, "--from", help="First period (YYYY, YYYY-MM or YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--to", help="Last period (YYYY, YYYY-MM or YYYY-MM-DD)."),
    registry: Path | None = REGISTRY_OPTION,
) -> None:
    """Network metrics per month or year (nodes, ties, density, peacekeeping ties and centrality)."""
    from entangle.registry import load_registry
    from entangle.registry.network import period_metrics

    first = _date(start, "--from") if start else None
    last = _date(end, "--to", last=True) if end else None
    if first and last and first > last:
        raise RegistryError("--from", f"{start} is after --to {end}", "give --from before --to")
    rows = period_metrics(load_registry(registry), by.value, first, last)
    rows = [{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in row.items()} for row in rows]
    if fmt is MetricsFormat.json:
        print(json.dumps(rows))
    elif fmt is MetricsFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        _print_metrics(rows)


def audit(
    fmt: ShowFormat = typer.Option(ShowFormat.table, "--format"),
    registry: Path | None = REGISTRY_OPTION,
) -> None:
    """Facts to double-check: best source only press/aggregator, month/year dates, inferred spans."""
    from entangle.registry import load_registry
    from entangle.registry.audit import FINDINGS, audit

    rows = audit(load_registry(registry))
    if fmt is ShowFormat.json:
        print(json.dumps(rows, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"registry audit ({len(rows)} finding(s))")
    for column in ("table", "id", "finding", "value", "detail"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(row[c] for c in ("table", "id", "finding", "value", "detail")))
    console = _console()
    console.print(table)
    counts = {finding: sum(r["finding"] == finding for r in rows) for finding in FINDINGS}
    console.print(", ".join(f"{n} {finding}" for finding, n in counts.items()))


def _print_metrics(rows: list[dict]) -> None:
    from rich.table import Table

    table = Table()
    columns = [c for c in (rows[0] if rows else {}) if c != "period_end"]
    for column in columns:
        table.add_column(column, justify="left" if column in ("period", "pk_mission") else "right")
    for row in rows:
        table.add_row(*(_cell(row[c]) for c in columns))
    _console().print(table)


def _console():
    """A rich console; when output is piped, wide enough that tables are not squeezed to 80 columns."""
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=240)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def register(app: typer.Typer) -> None:
    """Add the ``registry`` command group to the main app."""
    group = typer.Typer(
        help="The cited registry of a theatre: check it, query it, its network.", no_args_is_help=True
    )
    group.command("validate")(validate)
    group.command("show")(show)
    group.command("network")(network)
    group.command("metrics")(metrics)
    group.command("audit")(audit)
    app.add_typer(group, name="registry")
