"""CLI commands: ``entangle ingest``, ``entangle store info``, ``entangle actors unmapped``.

Each is one call into ``entangle.sources.ingest`` or ``entangle.store``; heavy modules are imported
inside the commands so ``entangle --help`` stays fast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

STORE_OPTION = typer.Option(
    None, "--store", help="Store file (default: $ENTANGLE_STORE or the user data dir)."
)


class Format(StrEnum):
    table = "table"
    json = "json"


def ingest_command(
    source: str = typer.Argument(..., help="ucdp, acled, geopko, radpko or csv."),
    file: Path = typer.Argument(..., help="The file to load (CSV, zipped CSV or API JSON page)."),
    store: Path | None = STORE_OPTION,
    map_: list[str] = typer.Option(
        [], "--map", help="csv only: canonical=column, e.g. --map date=event_date (repeatable)."
    ),
    registry: Path | None = typer.Option(
        None, "--registry", help="Theatre directory (default: bundled Mali)."
    ),
    max_reject_share: float = typer.Option(
        0.1, "--max-reject-share", help="Abort when more than this share of rows is bad."
    ),
    encoding: str = typer.Option(
        "auto", "--encoding", help="Text encoding (auto: UTF-8, else Windows-1252)."
    ),
) -> None:
    """Load an event or deployment file into the store (transactional; a file already loaded is skipped)."""
    from rich.console import Console

    from entangle.sources.ingest import ALREADY_LOADED, ingest
    from entangle.store import open_store

    # A spinner on stderr while the file is read, checked and written (shown on terminals only).
    with open_store(store) as db, Console(stderr=True).status(f"loading {file.name} into {db.path.name}"):
        result = ingest(
            db,
            source,
            file,
            registry=registry,
            mapping=map_ or None,
            max_reject_share=max_reject_share,
            encoding=encoding,
        )
        where = db.path
    if ALREADY_LOADED in result.notes:
        print(f"{file}: {ALREADY_LOADED} ({where})")
        return
    print(
        f"{file}: {result.rows_in} rows in, {result.rows_loaded} loaded, {result.rows_rejected} rejected "
        f"-> {where}"
    )
    for note in result.notes:
        print(f"  note: {note}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("ingest")(ingest_command)

    store_app = typer.Typer(help="Inspect the DuckDB store.", no_args_is_help=True)
    actors_app = typer.Typer(help="Actor mapping: which raw actor names have no rule.", no_args_is_help=True)
    app.add_typer(store_app, name="store")
    app.add_typer(actors_app, name="actors")

    @store_app.command("info")
    def store_info(
        store: Path | None = STORE_OPTION,
        format_: Format = typer.Option(Format.table, "--format", help="table or json."),
    ) -> None:
        """Row counts per table and per loaded file."""
        from entangle.store import default_store_path, open_store

        with open_store(store or default_store_path(), read_only=True) as db:
            info, where = db.info(), db.path
        if format_ is Format.json:
            print(json.dumps(info, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        console = Console()
        tables = Table("table", "rows", title=f"store {where}")
        for name, count in info["tables"].items():
            tables.add_row(name, str(count))
        console.print(tables)
        files = Table("source", "path", "rows in", "loaded", "rejected", "loaded at", "sha256")
        for entry in info["sources"]:
            files.add_row(
                entry["source"],
                entry["path"],
                str(entry["rows_in"]),
                str(entry["rows_loaded"]),
                str(entry["rows_rejected"]),
                entry["loaded_at"],
                entry["sha256"][:12],
            )
        console.print(files)

    @actors_app.command("unmapped")
    def actors_unmapped(
        store: Path | None = STORE_OPTION,
        source: str | None = typer.Option(None, "--source", help="Only this source (ucdp, acled, csv...)."),
        min_events: int = typer.Option(1, "--min-events", help="Only actors in at least this many events."),
        format_: Format = typer.Option(Format.table, "--format", help="table or json."),
    ) -> None:
        """Actor names no rule maps, with their event and fatality counts (most frequent first)."""
        from entangle.store import default_store_path, open_store

        with open_store(store or default_store_path(), read_only=True) as db:
            rows = db.unmapped_actors(source=source, min_events=min_events)
        if format_ is Format.json:
            print(json.dumps(rows, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table("source", "actor", "events", "fatalities", title=f"{len(rows)} unmapped actor names")
        for row in rows:
            table.add_row(row["source"], row["actor"], str(row["events"]), str(row["fatalities"]))
        Console().print(table)
