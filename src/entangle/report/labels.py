"""Plain-language labels for the panel's columns and the network metrics.

The report shows these to readers; the raw column name stays available as a hover title or small
code text, so an analyst can find the same number in panel.parquet. Column families follow the
contract in docs/architecture.md; a column no rule knows keeps its own name, spaced out.
"""

from __future__ import annotations

import re

KIND_WORDS = {
    "peacekeeping": "peacekeeping",
    "counterterrorism": "counterterrorism",
    "state_forces": "state-force",
    "private_military": "private-military",
    "regional": "regional-force",
    "training": "training-mission",
}
CATEGORY_WORDS = {
    "state_and_allied": "state forces and allies",
    "international": "international forces",
    "jihadist": "jihadist groups",
    "militia": "militias",
    "rebel": "rebels",
    "other": "other perpetrators",
    "unknown": "unknown perpetrators",
}
OUTCOME_WORDS = {
    "events": "Events recorded",
    "fatalities": "Fatalities (all)",
    "civilian_fatalities": "Civilian fatalities",
    "attacks_on_peacekeepers": "Attacks on peacekeepers",
}
# Network metrics (entangle.registry.network): a label and the unit its axis counts in.
METRIC_WORDS = {
    "nodes": ("Interventions present", "interventions"),
    "ties": ("Active ties", "ties"),
    "density": ("Network density", "share of possible ties, 0–1"),
    "pk_ct_ties": ("PK–counterterrorism ties", "ties"),
    "pk_state_ties": ("PK–state-force ties", "ties"),
    "pk_private_ties": ("PK–private-military ties", "ties"),
    "pk_degree": ("Ties of the PK mission", "ties (degree)"),
    "pk_betweenness": ("PK mission as broker", "betweenness, 0–1"),
}


KIND_ABBREVIATIONS = {
    "peacekeeping": "PK",
    "counterterrorism": "CT",
    "state_forces": "state forces",
    "private_military": "private military",
    "regional": "regional force",
    "training": "training mission",
}


def _abbrev(kind: str) -> str:
    return KIND_ABBREVIATIONS.get(kind, kind.replace("_", " "))


def _kind(name: str) -> str:
    return KIND_WORDS.get(name, name.replace("_", " "))


def _radius(label: str) -> str:
    return label.replace("p", ".")  # the panel writes 12.5 km as 12p5km


_RULES = (
    (
        re.compile(r"copresence_([a-z_]+?)__([a-z_]+)_(\w+)km"),
        lambda a, b, r: f"{_abbrev(a)}–{_abbrev(b)} co-presence within {_radius(r)} km",
    ),
    (re.compile(r"copresence_(\w+)km"), lambda r: f"PK–CT co-presence within {_radius(r)} km"),
    (re.compile(r"entanglement_(\w+)km"), lambda r: f"Entanglement index within {_radius(r)} km"),
    (
        re.compile(r"present_(\w+)_(\w+)km"),
        lambda k, r: f"{_kind(k).capitalize()} site within {_radius(r)} km",
    ),
    (
        re.compile(r"troops_(\w+)_(\w+)km"),
        lambda k, r: f"{_kind(k).capitalize()} troops within {_radius(r)} km",
    ),
    (re.compile(r"dist_km_(\w+)"), lambda k: f"Distance to the nearest {_kind(k)} site (km)"),
    (
        re.compile(r"civilian_events_(\w+)"),
        lambda c, m: (
            "civilian-harm events (as for civilian fatalities) whose perpetrator is one of the "
            f"{CATEGORY_WORDS.get(c, c.replace('_', ' '))}."
        ),
    ),
    (
        re.compile(r"civilian_fatalities_(\w+)"),
        lambda c: f"Civilian fatalities by {CATEGORY_WORDS.get(c, c.replace('_', ' '))}",
    ),
)


def column_label(column: str) -> str:
    """The human label of a panel column: ``copresence_50km`` → "PK–CT co-presence within 50 km"."""
    if column.startswith("splag_"):
        return f"{column_label(column[6:])} in neighbouring units (spatial lag)"
    lagged = re.fullmatch(r"l\((\w+),\s*(-?\d+)\)", column)  # a formula term: l(x, k)
    if lagged:
        k = int(lagged[2])
        return f"{column_label(lagged[1])}, {k} period{'s' if abs(k) != 1 else ''} earlier"
    if column in OUTCOME_WORDS:
        return OUTCOME_WORDS[column]
    for pattern, words in _RULES:
        match = pattern.fullmatch(column)
        if match:
            return words(*match.groups())
    return column.replace("_", " ")


def metric_label(name: str) -> tuple[str, str]:
    """A network metric's label and axis unit (unknown metrics keep their name and no unit)."""
    return METRIC_WORDS.get(name, (name.replace("_", " "), ""))


def unit_words(unit: str) -> str:
    """The study's unit of analysis in words (the spec itself is shown beside it as code)."""
    if unit == "priogrid":
        return "0.5° PRIO-GRID cells, about 55 km across"
    if unit.startswith("h3:"):
        return f"H3 hexagons, resolution {unit[3:]}"
    if unit.startswith("admin:"):
        path = unit[len("admin:") :].rsplit(":", 1)[0]
        return f"admin areas ({path.replace(chr(92), '/').rsplit('/', 1)[-1]})"
    return unit


def _within(radius: str, measured_from: str) -> str:
    where = {
        "boundary": " of the unit's boundary (a site inside the unit counts as 0 km)",
        "area_share": " of part of the unit (as the share of its area within that distance)",
        "polygon": " of the unit's boundary (a site inside the unit counts as 0 km)",
        "centroid": " of the unit's centre",
    }.get(measured_from, "")
    return f"within {_radius(radius)} km{where}"


_DEFINITIONS = (
    (
        re.compile(r"copresence_([a-z_]+?)__([a-z_]+)_(\w+)km"),
        lambda a, b, r, m: (
            f"1 in a period when at least one {_kind(a)} site and one {_kind(b)} site were both "
            f"active {_within(r, m)}, else 0. Summed over periods it counts the periods of co-presence."
        ),
    ),
    (
        re.compile(r"copresence_(\w+)km"),
        lambda r, m: (
            "1 in a period when at least one peacekeeping site and one counterterrorism site were both "
            f"active {_within(r, m)}, else 0."
        ),
    ),
    (
        re.compile(r"entanglement_(\w+)km"),
        lambda r, m: (
            "for each period, the sum of the weights of the registry ties active between every pair "
            f"of interventions that both had an active site {_within(r, m)}; "
            "0 where no tied pair was present."
        ),
    ),
    (
        re.compile(r"present_(\w+)_(\w+)km"),
        lambda k, r, m: f"1 in a period when a {_kind(k)} site was active {_within(r, m)}, else 0.",
    ),
    (
        re.compile(r"troops_(\w+)_(\w+)km"),
        lambda k, r, m: (
            f"troops at the {_kind(k)} sites active {_within(r, m)}, counting only sites whose "
            "source gives a troop number (0 can mean unknown)."
        ),
    ),
    (
        re.compile(r"dist_km_(\w+)"),
        lambda k, m: f"great-circle km from the unit to the nearest active {_kind(k)} site.",
    ),
    (
        re.compile(r"civilian_events_(\w+)"),
        lambda c, m: (
            "civilian-harm events (as for civilian fatalities) whose perpetrator is one of the "
            f"{CATEGORY_WORDS.get(c, c.replace('_', ' '))}."
        ),
    ),
    (
        re.compile(r"civilian_fatalities_(\w+)"),
        lambda c, m: (
            f"civilian fatalities (as defined above) in events whose perpetrator (actor 1, mapped by the "
            f"theatre's actor rules) is one of the {CATEGORY_WORDS.get(c, c.replace('_', ' '))}."
        ),
    ),
)
# [study.outcomes] civilian (entangle.panel.civilians): what counts as civilian harm.
CIVILIAN_DEFINITIONS = {
    "targeting": "deaths of civilians in events that target civilians, per unit and period: ACLED events of "
    "type 'Violence against civilians' or with ACLED's civilian-targeting flag (ACLED does not split "
    "fatalities by victim, so all their fatalities count), and UCDP one-sided violence (its civilian "
    "deaths). Civilians killed in battles between armed groups are not counted. Events the imprecision "
    "rule drops are not counted either.",
    "any_civilian_victim": "deaths of civilians in every event the source codes with civilian victims, "
    "per unit and period: ACLED events targeting civilians (in the older schema also explosions and "
    "riots with civilians as actor 2), and UCDP civilian deaths (deaths_civilians) in any type of "
    "violence. Events the imprecision rule drops are not counted.",
}
PLAIN_DEFINITIONS = {
    "events": "number of events the source recorded in the unit and period.",
    "fatalities": "all deaths the source recorded (best estimate), combatants and civilians.",
    "attacks_on_peacekeepers": "events in which peacekeepers were attacked.",
}


def definition(column: str, measured_from: str = "", civilian: str = "targeting") -> str:
    """What a panel column means, in one or two sentences (for the report's definitions box);
    ``civilian`` is the study's definition of civilian harm (the panel metadata's ``civilian``)."""
    if column == "civilian_fatalities":
        return CIVILIAN_DEFINITIONS.get(civilian, CIVILIAN_DEFINITIONS["targeting"])
    if column == "civilian_events":
        return "number of civilian-harm events (as civilian fatalities are defined) in the unit and period."
    if column.startswith("splag_"):
        return f"same-period mean over neighbouring units of {_lower(column_label(column[6:]))}."
    if column in PLAIN_DEFINITIONS:
        return PLAIN_DEFINITIONS[column]
    for pattern, words in _DEFINITIONS:
        match = pattern.fullmatch(column)
        if match:
            return words(*match.groups(), measured_from)
    return column_label(column) + "."


def _lower(text: str) -> str:
    return text if len(text) > 1 and text[1].isupper() else text[:1].lower() + text[1:]
