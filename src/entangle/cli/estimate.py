"""CLI commands: estimate, simulate, power."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from entangle.errors import EstimateError


def _options(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise EstimateError(f"--option {pair}", "expected NAME=VALUE", "e.g. --option leads=4")
        out[key.strip()] = value.strip()
    return out


def _print_table(results: list) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for result in results:
        family = result.options.get("family", "linear")
        table = Table(
            title=f"{result.design}: {result.outcome} ~ {result.treatment} ({result.inference}, {family})"
        )
        irr = result.extra.get("poisson", {})
        columns = ["term", "estimate", "std.error", "95% CI", "p"] + (
            ["IRR [95% CI]", "% change"] if irr else []
        )
        for column in columns:
            table.add_column(column, justify="left" if column == "term" else "right")
        for e in result.estimates:
            row = [e.term, f"{e.estimate:.4g}", f"{e.std_error:.3g}", f"[{e.ci_low:.3g}, {e.ci_high:.3g}]"]
            row.append(f"{e.p_value:.3g}")
            if e.term in irr:
                r = irr[e.term]
                row += [
                    f"{r['irr']:.3g} [{r['irr_ci_low']:.3g}, {r['irr_ci_high']:.3g}]",
                    f"{r['pct_change']:+.1f}%",
                ]
            table.add_row(*row)
        console.print(table)
        console.print(
            f"n = {result.n_obs} obs, {result.n_units} units, {result.n_clusters} clusters; {result.formula}"
        )
        if result.scale.get("term") is not None:
            console.print(_scale_line(result.scale))
        if "pretrend" in result.extra:
            pre = result.extra["pretrend"]
            console.print(f"pre-trend test: chi2({pre['df']}) = {pre['stat']:.3g}, p = {pre['p_value']:.3g}")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _scale_line(scale: dict) -> str:
    """Outcome mean, effect as % of it, and the MDE (80% power, 5% two-sided): the effect's scale."""
    pre = scale.get("outcome_mean_treated_pre")
    pre_text = "n/a" if pre is None else f"{pre:.3g}"
    return (
        f"scale ({scale['term']}): outcome mean {scale['outcome_mean']:.3g} (treated units before treatment "
        f"{pre_text}); effect {_pct(scale.get('effect_pct_of_mean'))} of the mean; MDE (80% power, 5%) "
        f"{scale['mde']:.3g} = {_pct(scale.get('mde_pct_of_mean')).lstrip('+')} of the mean"
    )


def _warn(results: list) -> None:
    for result in results:
        for message in result.warnings:
            print(
                f"warning: {result.design} {result.outcome} ~ {result.treatment}: {message}", file=sys.stderr
            )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""

    @app.command("estimate")
    def estimate_cmd(
        panel: Path = typer.Argument(None, help="Panel Parquet file (one row per unit × period)."),
        design: str = typer.Option(None, "--design", help="twfe | event-study | did | dose | spillover"),
        outcome: str = typer.Option(None, "--outcome", help="Outcome column or term, e.g. any(x)."),
        treatment: str = typer.Option(
            None, "--treatment", help="Treatment column or term, e.g. log1p(l(troops_peacekeeping_50km, 1))."
        ),
        unit: str = typer.Option("unit_id", "--unit", help="Unit id column."),
        time: str = typer.Option("period", "--time", help="Period column."),
        cluster: str = typer.Option(None, "--cluster", help="Cluster column (default: the unit)."),
        controls: str = typer.Option("", "--controls", help="Comma-separated control columns or terms."),
        inference: str = typer.Option("cluster", "--inference", help="cluster | conley | ri"),
        family: str = typer.Option("linear", "--family", help="linear | poisson (PPML, for counts)"),
        option: list[str] = typer.Option([], "--option", "-o", help="Design option NAME=VALUE (repeatable)."),
        study: Path = typer.Option(None, "--study", help="Run the models and grid a study file lists."),
        dask: str = typer.Option(None, "--dask", help="Dask scheduler address for study grids."),
        fmt: str = typer.Option("table", "--format", help="table | json"),
        out: Path = typer.Option(None, "--out", help="Also write the JSON list of results to this file."),
    ) -> None:
        """Estimate a design on a panel, or every model of a study (--study)."""
        from entangle.estimate.api import estimate_file
        from entangle.estimate.grid import estimate_study
        from entangle.estimate.terms import split_list

        if fmt not in ("table", "json"):
            raise EstimateError("--format", f"unknown format {fmt!r}", "table or json")
        if panel is None:
            raise EstimateError("estimate", "no panel file given", "entangle estimate PANEL.parquet ...")
        if study is not None:
            from entangle.study import load_study

            results = estimate_study(load_study(study), panel, dask=dask)
        else:
            missing = [
                n
                for n, v in (("--design", design), ("--outcome", outcome), ("--treatment", treatment))
                if not v
            ]
            if missing:
                raise EstimateError("estimate", f"missing {', '.join(missing)}", "or give --study FILE")
            results = [
                estimate_file(
                    panel,
                    design=design,
                    outcome=outcome,
                    treatment=treatment,
                    unit=unit,
                    time=time,
                    cluster=cluster,
                    controls=tuple(split_list(controls)),
                    inference=inference,
                    family=family,
                    progress=True,
                    **_options(option),
                )
            ]
        _warn(results)
        payload = [r.to_dict() for r in results]
        if out is not None:
            from entangle.atomic import write_text

            write_text(out, json.dumps(payload, indent=2) + "\n")
        if fmt == "json":
            print(json.dumps(payload))
        else:
            _print_table(results)

    @app.command("simulate")
    def simulate_cmd(
        out: Path = typer.Option(..., "--out", help="Parquet file to write."),
        units: int = typer.Option(400, "--units"),
        periods: int = typer.Option(48, "--periods"),
        design: str = typer.Option("staggered", "--design", help="staggered | dose | spillover"),
        effect: float = typer.Option(1.0, "--effect", help="Effect at onset (per unit of dose for dose)."),
        heterogeneity: float = typer.Option(0.0, "--heterogeneity", help="Spread of effects across cohorts."),
        dynamic: float = typer.Option(0.0, "--dynamic", help="Change of the effect per period since onset."),
        cohorts: int = typer.Option(4, "--cohorts"),
        never_share: float = typer.Option(0.4, "--never-share", help="Share of never-treated units."),
        noise_sd: float = typer.Option(1.0, "--noise-sd"),
        spatial_sd: float = typer.Option(0.7, "--spatial-sd", help="SD of the spatially correlated noise."),
        spacing_deg: float = typer.Option(0.25, "--spacing-deg", help="Grid spacing of units in degrees."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Write a synthetic panel with known effects (labelled synthetic in its metadata)."""
        from entangle.simulate import SimulationSpec, simulate_panel, write_panel

        spec = SimulationSpec(
            units=units,
            periods=periods,
            design=design,
            effect=effect,
            heterogeneity=heterogeneity,
            dynamic=dynamic,
            cohorts=cohorts,
            never_share=never_share,
            noise_sd=noise_sd,
            spatial_sd=spatial_sd,
            spacing_deg=spacing_deg,
            seed=seed,
        )
        frame, meta = simulate_panel(spec)
        write_panel(frame, meta, out)
        truth = {k: v for k, v in meta["truth"].items() if k != "event"}
        print(
            json.dumps(
                {
                    "out": str(out),
                    "rows": len(frame),
                    "outcome": meta["outcome"],
                    "treatment": meta["treatment"],
                    "truth": truth,
                }
            )
        )

    @app.command("power")
    def power_cmd(
        panel: Path = typer.Argument(None, help="Panel Parquet file (omit with --method simulate)."),
        design: str = typer.Option("twfe", "--design"),
        outcome: str = typer.Option(None, "--outcome"),
        treatment: str = typer.Option(None, "--treatment"),
        unit: str = typer.Option("unit_id", "--unit"),
        time: str = typer.Option("period", "--time"),
        method: str = typer.Option("analytic", "--method", help="analytic | placebo | simulate"),
        power: float = typer.Option(0.8, "--power"),
        alpha: float = typer.Option(0.05, "--alpha"),
        units: int = typer.Option(400, "--units", help="simulate: number of units"),
        periods: int = typer.Option(48, "--periods", help="simulate: number of periods"),
        sim_design: str = typer.Option(
            "staggered", "--sim-design", help="simulate: staggered | dose | spillover"
        ),
        draws: int = typer.Option(200, "--draws", help="simulate: number of synthetic panels"),
        seed: int = typer.Option(0, "--seed"),
        option: list[str] = typer.Option([], "--option", "-o", help="Design option NAME=VALUE."),
    ) -> None:
        """Minimum detectable effect (default 80% power, 5% two-sided) of a design."""
        from entangle.estimate.power import METHODS, mde_by_simulation, mde_for_panel

        if method not in METHODS:
            raise EstimateError("--method", f"unknown method {method!r}", ", ".join(METHODS))
        if method == "simulate":
            from entangle.simulate import SimulationSpec

            spec = SimulationSpec(units=units, periods=periods, design=sim_design, seed=seed)
            report = mde_by_simulation(spec, design, draws, power, alpha, progress=True, **_options(option))
        else:
            from entangle.estimate.data import read_panel

            if panel is None or not outcome or not treatment:
                raise EstimateError(
                    "power", "needs PANEL, --outcome and --treatment", "or use --method simulate"
                )
            frame, meta = read_panel(panel)
            report = mde_for_panel(
                frame,
                design,
                outcome,
                treatment,
                method,
                power,
                alpha,
                unit=unit,
                time=time,
                metadata=meta,
                **_options(option),
            )
        print(json.dumps(report))
