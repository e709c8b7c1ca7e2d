"""Every mechanism output of a study in one call (the pipeline's mechanisms stage, the report)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from entangle.errors import EntangleError
from entangle.mechanisms import SITE_DESIGNS
from entangle.mechanisms.hrddp import Thresholds, monitor
from entangle.mechanisms.inputs import site_frame
from entangle.mechanisms.profile import distance_profile, select_sites, site_changes, site_spells
from entangle.mechanisms.series import monthly_series
from entangle.mechanisms.sites import estimate_site_design
from entangle.registry import Registry

if TYPE_CHECKING:
    from entangle.study import Study


def check_study(study: Study, registry: Registry) -> None:
    """Names a study's mechanisms use must exist in the registry (an ``InputError`` otherwise)."""
    empty = pd.DataFrame(columns=["intervention_id", "kind"])
    select_sites(empty, study.mechanisms.profile_of, registry, "study.mechanisms.profile_of")
    for k, model in enumerate(study.models):
        if model.design in SITE_DESIGNS:
            select_sites(empty, model.intervention or model.kind, registry, f"study.models[{k}]")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def site_designs(study: Study, registry: Registry, sites: pd.DataFrame, panel: pd.DataFrame, meta: dict):
    """The study's site-opening/closure models, estimated (one ``Result`` each)."""
    geoms = unit_ids = None
    if study.unit.startswith("admin:"):
        from entangle.geo.units import make_units

        units = make_units(study.unit)
        geoms, unit_ids = units.geometries, list(units.ids)
    out = []
    for model in study.models:
        if model.design not in SITE_DESIGNS:
            continue
        of = model.intervention or model.kind
        spells = site_spells(select_sites(sites, of, registry))
        result = estimate_site_design(
            panel,
            spells,
            model.design,
            model.outcome,
            of,
            float(model.radius_km),
            dict(model.options),
            geoms,
            unit_ids,
            meta,
        )
        out.append(result)
    return out


def study_mechanisms(
    study: Study,
    registry: Registry,
    events: pa.Table,
    loaded_sites: pd.DataFrame | None,
    panel: pd.DataFrame | None,
    panel_meta: dict | None = None,
) -> dict[str, Any]:
    """The HRDDP monitor, the distance profile, site changes, site designs and the monthly series."""
    from entangle.panel.build import PanelSpec

    check_study(study, registry)
    settings = study.mechanisms
    sites = site_frame(registry, loaded_sites, tuple(getattr(study.exposure, "exclude_site_types", ())))
    thresholds = Thresholds(settings.scale_deaths, settings.frequency_events, settings.window_months)
    hrddp = monitor(events.to_pandas(), sites, registry, study.start, study.end, thresholds)
    out: dict[str, Any] = {
        "settings": settings.model_dump(mode="json"),
        "hrddp": hrddp.to_dict(),
        "profile": [],
        "changes": [],
        "designs": [],
        "series": [],
        "notes": [],
    }
    if events.num_rows == 0:
        out["notes"].append("no event data: the distance profile, site designs and series need events")
        return out
    spec = PanelSpec.from_study(study)
    edges = settings.bands_km
    out["profile"] = _records(distance_profile(events, sites, registry, spec, settings.profile_of, edges))
    out["changes"] = _records(site_changes(events, sites, registry, spec, settings.profile_of, edges))
    if panel is not None:
        radius = min(study.exposure.radii_km)
        out["series"] = _records(monthly_series(panel, radius).assign(period=lambda f: f["period"].dt.date))
        out["series_radius_km"] = radius
        for result in _designs_or_notes(study, registry, sites, panel, panel_meta or {}, out["notes"]):
            out["designs"].append(result.to_dict())
    return out


def _designs_or_notes(study, registry, sites, panel, meta, notes):
    try:
        return site_designs(study, registry, sites, panel, meta)
    except EntangleError as exc:  # e.g. no unit sees a site close in the study window
        notes.append(f"site design not estimated: {exc}")
        return []
