"""The report stage of ``entangle run``: read the earlier stages' artifacts, fill ``ReportData``,
write ``report.html`` and ``brief.html``.

``pipeline.py`` only conducts (keys, caches, publishing); everything the report needs to say
about the study (the imprecision rule in words, the network years, the outline, the versions)
lives here. Mechanisms (issue 11) hook in by filling ``ReportData.mechanisms`` (the output of
``entangle.mechanisms.api.study_mechanisms``); build.py renders it as the section "What the ties
did" and lists the HRDDP monitor's flagged support ties in the brief.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from entangle import __version__
from entangle.errors import EntangleError
from entangle.panel.metadata import panel_metadata
from entangle.report.data import ReportData


def network_years(study, count: int = 4) -> list[int]:
    """Years printed as network panels: the study's chosen years, else ``count`` evenly spaced
    (on screen a control shows any year)."""
    if study.report.network_years:
        return sorted(set(study.report.network_years))
    first, last = study.start.year, study.end.year
    if last - first + 1 <= count:
        return list(range(first, last + 1))
    step = (last - first) / (count - 1)
    return sorted({round(first + k * step) for k in range(count)})


def imprecision_text(study) -> str:
    rule = study.imprecision
    what = {
        "drop": "are left out of the panel",
        "point": "are kept at the reported point",
        "spread": "are spread evenly over the admin unit they name",
    }[rule.rule]
    return (
        f"events located less precisely than UCDP where_prec {rule.ucdp_max_where_prec} or ACLED "
        f"geo_precision {rule.acled_max_geo_precision}, or dated to a window longer than "
        f"{rule.max_date_precision_days} days, "
        f"{what} (rule '{rule.rule}')."
    )


def country_outline(extent: list[str]) -> list:
    """The study extent's country outline (a fallback when there are no unit shapes)."""
    from entangle.geo.outlines import outline
    from entangle.report.assemble import geometry_rings

    try:
        return geometry_rings(outline(extent))
    except EntangleError:
        return []


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"entangle": __version__, "python": sys.version.split()[0]}
    for name in ("duckdb", "pyarrow", "pyfixest", "differences", "networkx"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def civilian_events(study, registry, events, extent: list[str]) -> list[dict]:
    """Events with civilian fatalities that the panel counted, each with the unit and period it was
    assigned to (the same assignment and imprecision rule as the panel), for tooltips and tables."""
    import pyarrow.compute as pc

    from entangle.geo.assign import assign_events
    from entangle.geo.outlines import outline
    from entangle.geo.units import make_units, parse_unit
    from entangle.panel.civilians import apply_civilian_definition
    from entangle.panel.periods import period_starts

    if events is None or events.num_rows == 0 or "civilian_fatalities" not in events.column_names:
        return []
    # the panel's own definition of civilian harm, so the events named add up to its counts
    events = apply_civilian_definition(events, study.outcomes.civilian)
    harm = events.filter(pc.greater(pc.fill_null(events["civilian_fatalities"], 0), 0))
    if harm.num_rows == 0:
        return []
    kind, _, _ = parse_unit(study.unit)
    units = make_units(study.unit, None if kind == "admin" else outline(extent))
    assigned, _ = assign_events(harm, units, study.start, study.end, study.period, study.imprecision)
    rows = harm.select(
        [
            c
            for c in (
                "event_id",
                "date_start",
                "actor1",
                "actor2",
                "perpetrator_category",
                "civilian_fatalities",
            )
            if c in harm.column_names
        ]
    ).to_pylist()
    starts = period_starts(study.start, study.end, study.period).astype(dt.date)
    out = []
    seen: set[tuple[int, str]] = set()
    for unit_idx, period_idx, row_idx in zip(
        assigned["unit_idx"].to_pylist(),
        assigned["period_idx"].to_pylist(),
        assigned["event_row"].to_pylist(),
        strict=True,
    ):
        unit = str(units.ids[unit_idx])
        if (row_idx, unit) in seen:  # an event spread over periods is listed once per unit
            continue
        seen.add((row_idx, unit))
        out.append({**rows[row_idx], "unit_id": unit, "period": starts[period_idx]})
    return out


def report_data(
    study, registry, reg_dir: Path, src_dir: Path, panel_dir, est_dir: Path, notices
) -> ReportData:
    """Everything the report shows, from the stage folders of one run."""
    import pyarrow.parquet as pq

    from entangle.panel.rules import rules_text
    from entangle.report import assemble

    records = assemble.registry_records(registry.between(study.start, study.end))
    loaded = assemble.loaded_sites(pq.read_table(src_dir / "sites.parquet"))
    records["sites"] = assemble.merge_sites(records["sites"], loaded)
    metrics = [
        {**row, "period": dt.date.fromisoformat(str(row["period"])[:10])}
        for row in json.loads((reg_dir / "metrics.json").read_text())
    ]
    metrics = [{k: v for k, v in row.items() if k not in ("period_end", "pk_mission")} for row in metrics]
    estimates = json.loads((est_dir / "estimates.json").read_text())
    provenance = pq.read_table(src_dir / "provenance.parquet")
    panel = pq.read_table(panel_dir / "panel.parquet") if panel_dir else None
    meta = panel_metadata(panel) if panel is not None else {}
    extent = study.extent or list(registry.theatre.country_iso3)
    radii = study.exposure.radii_km
    has_panel = panel is not None
    units = assemble.unit_shapes(panel, study.unit) if has_panel else []
    events = pq.read_table(src_dir / "events.parquet") if has_panel else None
    harm_events = civilian_events(study, registry, events, extent) if has_panel else []
    exposure = study.report.exposure if getattr(study.report, "exposure", None) else None
    data = ReportData(
        study={
            "name": study.name,
            "start": study.start,
            "end": study.end,
            "unit": assemble.unit_display(study.unit),
            "period": study.period,
            "hash": study.content_hash(),
            "path": str(study.path or ""),
            "radii_km": [f"{r:g}" for r in radii],
        },
        theatre={"id": registry.theatre.id, "name": registry.theatre.name, "country_iso3": extent},
        **records,
        metrics=metrics,
        harm=assemble.harm_series(panel) if has_panel else [],
        units=units,
        layers=assemble.map_layers(panel, radii) if has_panel else [],
        outline=assemble.units_outline(units) or country_outline(extent),
        estimates=estimates,
        sources=assemble.provenance_records(provenance),
        rejects=assemble.rejects_summary(pq.read_table(src_dir / "rejects.parquet"), provenance),
        unmapped=json.loads((src_dir / "unmapped.json").read_text())[:40],
        imprecision=imprecision_text(study),
        panel=assemble.panel_summary(panel) if has_panel else {},
        facts=assemble.headline_facts(panel, radii) if has_panel else [],
        exposure_notes=assemble.exposure_caveats(records["sites"], bool(study.sources.deployments))
        + rules_text(meta),
        notices=list(notices),
        synthetic=bool(meta.get("synthetic")) or any(r.get("synthetic") for r in estimates),
        versions=versions(),
        network_years=network_years(study),
        unit_rows=assemble.unit_table(
            panel,
            records["sites"],
            harm_events,
            radii,
            {u["unit_id"]: u["label"] for u in units},
        )
        if has_panel
        else [],
        harm_events=assemble.harm_event_tips(harm_events),
        accounting=assemble.accounting(meta),
        rules=assemble.panel_rules(meta),
        bivariate=assemble.bivariate_choice(panel, radii, exposure) if has_panel else {},
        places=assemble.place_labels(registry.sites),
    )
    return data


def write_outputs(data: ReportData, folder: Path) -> str:
    """Write ``report.html`` and ``brief.html`` into ``folder``; return a one-line detail."""
    from entangle.report.build import write_brief, write_report

    report = write_report(data, folder / "report.html")
    brief = write_brief(data, folder / "brief.html")
    (folder / "labels.json").write_text(json.dumps({"synthetic": data.synthetic}), encoding="utf-8")
    return f"{report.stat().st_size / 1e6:.2f} MB report, {brief.stat().st_size / 1e6:.2f} MB brief"
