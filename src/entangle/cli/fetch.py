"""CLI commands: ``entangle fetch ucdp`` and ``entangle fetch acled`` (download into the cache)."""

from __future__ import annotations

import json

import typer

CACHE_HELP = "Cache directory (default: $ENTANGLE_CACHE, else the user cache dir)."
fetch_app = typer.Typer(help="Download event data into the local cache.", no_args_is_help=True)


@fetch_app.command("ucdp")
def ucdp(
    version: str = typer.Option(None, "--version", help="UCDP GED version, e.g. 24.1 (default: 25.1)."),
    cache: str = typer.Option(None, "--cache", help=CACHE_HELP),
    force: bool = typer.Option(False, "--force", help="Download again even when a good copy is cached."),
) -> None:
    """Download the UCDP GED CSV zip; print its path and sha256 as JSON."""
    from entangle.sources.fetch import fetch_ucdp

    print(json.dumps(fetch_ucdp(version, cache=cache, force=force).as_dict()))


@fetch_app.command("acled")
def acled(
    country: str = typer.Option(..., "--country", help="Country as ACLED names it, e.g. Mali."),
    start: str = typer.Option(..., "--from", help="First event date, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last event date, YYYY-MM-DD."),
    cache: str = typer.Option(None, "--cache", help=CACHE_HELP),
) -> None:
    """Download ACLED events through the API (credentials from ACLED_EMAIL/ACLED_PASSWORD)."""
    from entangle.sources.fetch import fetch_acled

    print(json.dumps(fetch_acled(country, start, end, cache=cache).as_dict()))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(fetch_app, name="fetch")
