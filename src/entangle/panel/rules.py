"""The rules that change a panel's numbers, read back from its metadata (for provenance.json and the
report): the imprecision rule, the deployment time rule, the admin exposure rule, the civilian-harm
definition, the site types left out, and the onset provenance."""

from __future__ import annotations

from typing import Any

RULE_KEYS = (
    "imprecision",
    "deployments",
    "exposure_from",
    "exclude_site_types",
    "civilian",
    "interventions",
    "pairs",
)

_DEPLOYMENTS = {
    "carry_forward": "a deployment map's row holds until that mission's next map, at most {gap} months",
    "map_month": "a deployment map's row counts in its own month only",
    "interpolate": (
        "a deployment map's row holds until that mission's next map (at most {gap} months), with troops "
        "linear between two maps of the same location"
    ),
}
_CIVILIAN = {
    "targeting": "events that target civilians (ACLED violence against civilians or civilian targeting; "
    "UCDP one-sided violence)",
    "any_civilian_victim": "every event the source codes with civilian victims",
}
_FROM = {
    "boundary": "the unit's boundary (0 inside it)",
    "polygon": "the unit's boundary (0 inside it)",
    "centroid": "the unit's centre",
    "area_share": "every part of the unit (presence is the share of its area within range)",
}


def panel_rules(meta: dict[str, Any]) -> dict[str, Any]:
    """The rules stated in a panel's metadata, with the onsets' coverage start per source."""
    rules = {key: meta[key] for key in RULE_KEYS if key in meta}
    if "onsets" in meta:
        rules["coverage_start"] = meta["onsets"].get("coverage_start", {})
        rules["left_censored_units"] = {c: len(u) for c, u in meta["onsets"].get("left_censored", {}).items()}
    return rules


def rules_text(meta: dict[str, Any]) -> list[str]:
    """The same rules as plain sentences for a reader."""
    out = []
    deployments = meta.get("deployments")
    if deployments:
        rule = _DEPLOYMENTS.get(deployments["rule"], deployments["rule"])
        out.append(
            f"Deployments: {rule.format(gap=deployments['max_gap_months'])}; yearly files cover their year. "
            "A troop figure that no source gives is left blank, never counted as 0."
        )
    coverage = (meta.get("onsets") or {}).get("coverage_start") or {}
    if coverage:
        starts = ", ".join(f"{s} from {d}" for s, d in coverage.items())
        out.append(
            f"Deployment data start ({starts}): a unit first exposed in that month may have been exposed "
            "earlier, so its onset is not a deployment date (listed in the panel's metadata)."
        )
    if meta.get("civilian"):
        out.append(f"Civilian harm counts {_CIVILIAN.get(meta['civilian'], meta['civilian'])}.")
    if meta.get("exposure_from"):
        out.append(f"Distances are measured from {_FROM.get(meta['exposure_from'], meta['exposure_from'])}.")
    if meta.get("exclude_site_types"):
        out.append(f"Sites left out of exposures: {', '.join(meta['exclude_site_types'])}.")
    return out
