"""Which columns a study's panel will have, known before it is built: study models and grids are
checked against them before the first stage runs, so a typo is reported in seconds, naming the key.

The grammar follows the column contract (docs/architecture.md). Names that depend on the data (the
per-type counts ``events_<type>`` and ``fatalities_<type>``) are accepted in any spelling; every
other family is checked exactly: kinds against the registry, radii against the study.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from entangle.geo.assign import CATEGORIES
from entangle.measures import BASE_KINDS, exposure_columns, radius_label

KEYS = ("unit_id", "period", "unit_lat", "unit_lon")
OUTCOMES = ("events", "fatalities", "civilian_fatalities", "attacks_on_peacekeepers")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def column_names(expression: str) -> list[str]:
    """The column names in a model term such as ``log1p(l(troops_peacekeeping_50km, 1))``: every
    identifier that is not a function name (followed by ``(``)."""
    names = []
    for match in _IDENT.finditer(expression):
        rest = expression[match.end() :].lstrip()
        if not rest.startswith("("):
            names.append(match.group())
    return names


def known_columns(kinds: Iterable[str], radii: Iterable[float]) -> list[str]:
    """Every column whose name does not depend on the data, in panel order."""
    kinds = list(dict.fromkeys([*BASE_KINDS, *kinds]))
    radii = list(radii)
    fixed = [*KEYS, *OUTCOMES]
    fixed += [f"civilian_fatalities_{c}" for c in CATEGORIES] + [f"civilian_events_{c}" for c in CATEGORIES]
    fixed += exposure_columns(kinds, radii)
    fixed += [f"nb_present_{k}" for k in kinds] + [f"nb_troops_{k}" for k in kinds]
    for r in radii:
        lab = radius_label(r)
        fixed += [f"copresence_{a}__{b}_{lab}km" for a in kinds for b in kinds if a != b]
    return fixed


def unknown_column(name: str, known: set[str]) -> bool:
    """True when ``name`` can be no column of the panel."""
    if name in known or re.fullmatch(r"(events|fatalities)_[a-z0-9_]+", name):
        return False
    if name.startswith("splag_"):
        return unknown_column(name[len("splag_") :], known)
    return True
