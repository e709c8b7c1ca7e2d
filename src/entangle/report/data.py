"""Everything the report shows, as plain data: the pipeline fills it, tests can build it by hand.

Dates are ``datetime.date``; records are dicts with the canonical column names of
docs/architecture.md, so the report never reaches back into the store, the panel or the estimators.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ReportData:
    study: dict  # name, theatre, start, end, unit, period, hash, path, radii_km
    theatre: dict  # id, name, country_iso3
    interventions: list[dict]  # id, name, kind, organization, start, end, sources
    mandates: list[
        dict
    ]  # intervention_id, document, adopted, in_force_from, in_force_to, provisions, sources
    ties: list[dict]  # id, source_id, target_id, type, start, end, weight, directed, sources
    sites: list[dict]  # id, intervention_id, name, lat, lon, start, end, troops, source, sources
    metrics: list[dict] = field(default_factory=list)  # period + numeric network metrics
    harm: list[dict] = field(default_factory=list)  # period, category, civilian_fatalities (monthly)
    units: list[dict] = field(default_factory=list)  # unit_id, label, rings [[(lon, lat), ...], ...]
    layers: list[dict] = field(
        default_factory=list
    )  # id, title, unit, note, total {unit: v}, years {y: {unit: v}}
    outline: list = field(default_factory=list)  # country outline rings [(lon, lat), ...]
    estimates: list[dict] = field(default_factory=list)  # Result objects as JSON; grid cells: "grid": true
    sources: list[dict] = field(default_factory=list)  # provenance rows
    rejects: list[dict] = field(default_factory=list)  # source, reason, rows
    unmapped: list[dict] = field(default_factory=list)  # source, actor, events, fatalities
    imprecision: str = ""  # the imprecise-event rule, in words
    panel: dict = field(default_factory=dict)  # rows, units, periods, events, fatalities, civilian_fatalities
    facts: list[str] = field(default_factory=list)  # descriptive facts for the summary
    exposure_notes: list[str] = field(default_factory=list)  # caveats on the exposure measures
    notices: list[str] = field(default_factory=list)  # plain statements shown at the top (e.g. no event data)
    synthetic: bool = False
    versions: dict = field(default_factory=dict)
    network_years: list[int] = field(default_factory=list)  # years printed; on screen any year
    # harm beside exposure (report/assemble.py: unit_table, bivariate_choice, harm_event_tips)
    unit_rows: list[dict] = field(default_factory=list)  # units ranked by civilian fatalities
    bivariate: dict = field(default_factory=dict)  # column, harm {unit: v}, exposure {unit: v}, classes, cuts
    harm_events: dict = field(default_factory=dict)  # "YYYY-MM-DD|category" -> events, top [(id, actor, n)]
    places: list[dict] = field(default_factory=list)  # town labels: name, lat, lon
    accounting: list[dict] = field(default_factory=list)  # key, what, count (events and sites, by rule)
    rules: list[dict] = field(default_factory=list)  # rule, text: the panel's rules in force
    mechanisms: dict = field(default_factory=dict)  # entangle.mechanisms.api.study_mechanisms output

    def name_of(self, intervention_id: str | None) -> str:
        for item in self.interventions:
            if item["id"] == intervention_id:
                return item["name"]
        return intervention_id or ""

    def has_events(self) -> bool:
        return bool(self.panel.get("events")) or bool(self.harm)
