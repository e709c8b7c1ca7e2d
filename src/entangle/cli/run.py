"""CLI command: ``entangle run [STUDY] [--out DIR]``, the whole flow in one call."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("run")
    def run(
        study: Path | None = typer.Argument(None, help="Study file (TOML); default: the bundled Mali study."),
        out: Path = typer.Option(Path("out"), "--out", "-o", help="Output directory."),
    ) -> None:
        """Run a study: registry, sources, store, panel, estimates and report, cached stage by stage."""
        from entangle.atomic import check_writable_dir
        from entangle.pipeline import run_cache_dir, run_study
        from entangle.study import load_study

        loaded = load_study(study)
        check_writable_dir(out)
        check_writable_dir(run_cache_dir(), "cache directory (ENTANGLE_CACHE)")
        run_study(loaded, out)
