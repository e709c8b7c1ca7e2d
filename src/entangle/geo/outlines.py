"""Country outlines shipped with entangle (Natural Earth 1:110m, public domain; see data/README.md)."""

from __future__ import annotations

import functools
import json
from importlib import resources

import shapely

from entangle.errors import PanelError


@functools.cache
def _outlines() -> dict[str, object]:
    text = (resources.files("entangle.geo") / "data" / "countries.geojson").read_text(encoding="utf-8")
    return {
        f["properties"]["iso_a3"]: shapely.geometry.shape(f["geometry"]) for f in json.loads(text)["features"]
    }


def available() -> list[str]:
    """ISO3 codes of the shipped outlines."""
    return sorted(_outlines())


def outline(iso3: list[str] | tuple[str, ...]):
    """Union of the outlines of the given countries (a shapely (Multi)Polygon in WGS84 lon/lat)."""
    if not iso3:
        raise PanelError("extent", "no country given", "name at least one ISO3 code, e.g. MLI")
    shapes = _outlines()
    unknown = [code for code in iso3 if code.upper() not in shapes]
    if unknown:
        raise PanelError(
            "extent", f"no outline for {', '.join(unknown)}", "use ISO3 codes such as MLI, NER, BFA"
        )
    return shapely.union_all([shapes[code.upper()] for code in iso3])
