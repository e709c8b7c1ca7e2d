"""Turn the layers' outputs (registry, panel, store tables) into the plain records the report shows.

Each function takes data and returns data; the pipeline calls them and fills ``ReportData``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pyarrow as pa
import pyarrow.compute as pc

CATEGORY_PREFIX = "civilian_fatalities_"
CELL_HALF = 0.25  # half a PRIO-GRID cell, degrees


def registry_records(registry) -> dict[str, list[dict]]:
    """Interventions, mandates, ties and sites of a ``Registry`` as dicts (dates stay dates)."""

    def dump(item) -> dict:
        row = item.model_dump()
        row["sources"] = [s.model_dump(mode="json", exclude_none=True) for s in item.sources]
        return row

    sites = []
    for site in registry.sites:
        row = dump(site)
        row["source"] = "registry"
        sites.append(row)
    return {
        "interventions": [dump(i) for i in registry.interventions],
        "mandates": [dump(m) for m in registry.mandates],
        "ties": [dump(t) for t in registry.ties],
        "sites": sites,
    }


def loaded_sites(sites: pa.Table | None) -> list[dict]:
    """Deployment-file sites matched to a registry intervention, one per place.

    Deployment files repeat a location on every map or year they cover, and cover other missions
    too; the map needs each place once, with its first and last date and its largest troop count.
    """
    if sites is None or sites.num_rows == 0:
        return []
    places: dict[tuple, dict] = {}
    for row in sites.to_pylist():
        if not row.get("intervention_id") or row.get("lat") is None or row.get("lon") is None:
            continue
        key = row.get("registry_site_id") or (
            row["intervention_id"],
            round(row["lat"], 2),
            round(row["lon"], 2),
        )
        place = places.get(key)
        if place is None:
            places[key] = {
                "id": row.get("site_id"),
                "intervention_id": row["intervention_id"],
                "name": row.get("name") or row.get("site_id"),
                "lat": row["lat"],
                "lon": row["lon"],
                "start": row.get("start"),
                "end": row.get("end"),
                "troops": row.get("troops"),
                "source": row.get("source"),
                "sources": [],
                "registry_site_id": row.get("registry_site_id"),
            }
            continue
        for field, pick in (("start", min), ("end", max), ("troops", max)):
            values = [v for v in (place[field], row.get(field)) if v is not None]
            place[field] = pick(values) if values else None
    return list(places.values())


def merge_sites(registry_sites: list[dict], loaded: list[dict]) -> list[dict]:
    """Registry sites, with troop counts from deployment files that matched them; unmatched places added."""
    by_id = {site["id"]: dict(site) for site in registry_sites}
    extra = []
    for place in loaded:
        site = by_id.get(place.get("registry_site_id"))
        if site is None:
            extra.append(place)
            continue
        troops = [t for t in (site.get("troops"), place.get("troops")) if t is not None]
        site["troops"] = max(troops) if troops else None
        site["source"] = f"registry; troops from {place['source']}"
    return list(by_id.values()) + extra


def harm_series(panel: pa.Table) -> list[dict]:
    """Monthly civilian fatalities by perpetrator category, summed over units."""
    columns = [c for c in panel.column_names if c.startswith(CATEGORY_PREFIX)]
    if not columns:
        return []
    grouped = panel.group_by("period").aggregate([(c, "sum") for c in columns])
    out = []
    for row in grouped.to_pylist():
        for col in columns:
            value = row[f"{col}_sum"] or 0
            if value:
                out.append(
                    {
                        "period": _as_date(row["period"]),
                        "category": col[len(CATEGORY_PREFIX) :],
                        "civilian_fatalities": value,
                    }
                )
    return sorted(out, key=lambda r: (r["period"], r["category"]))


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def panel_summary(panel: pa.Table) -> dict:
    def total(col: str) -> int:
        return int(pc.sum(panel[col]).as_py() or 0) if col in panel.column_names else 0

    return {
        "rows": panel.num_rows,
        "units": len(pc.unique(panel["unit_id"])),
        "periods": len(pc.unique(panel["period"])),
        "events": total("events"),
        "fatalities": total("fatalities"),
        "civilian_fatalities": total("civilian_fatalities"),
    }


def headline_facts(panel: pa.Table, radii_km: list[float]) -> list[str]:
    """Plain descriptive facts for the summary: who harmed civilians, when, and where forces met."""
    facts: list[str] = []
    if "civilian_fatalities" not in panel.column_names:
        return exposure_facts(panel, radii_km)
    total = int(pc.sum(panel["civilian_fatalities"]).as_py() or 0)
    if total <= 0:
        return ["No civilian fatalities were recorded in the units and months studied."]
    shares = []
    for col in panel.column_names:
        if col.startswith(CATEGORY_PREFIX):
            value = int(pc.sum(panel[col]).as_py() or 0)
            if value:
                shares.append((value, col[len(CATEGORY_PREFIX) :].replace("_", " ")))
    shares.sort(reverse=True)
    parts = ", ".join(f"{name} {value / total:.0%}" for value, name in shares[:3])
    facts.append(f"{total:,} civilian fatalities in all; by perpetrator: {parts}.")
    months = panel.group_by("period").aggregate([("civilian_fatalities", "sum")]).to_pylist()
    # the earliest of equally deadly months, so the sentence does not depend on row order
    worst = max(months, key=lambda r: (r["civilian_fatalities_sum"] or 0, -_as_date(r["period"]).toordinal()))
    facts.append(
        f"The deadliest month for civilians was {_as_date(worst['period']):%B %Y} "
        f"({int(worst['civilian_fatalities_sum']):,} civilian fatalities)."
    )
    radius = _radius_label(max(radii_km))
    column = f"copresence_{radius}km"
    if column in panel.column_names:
        together = pc.equal(panel[column], 1)
        share_rows = pc.mean(pc.cast(together, pa.float64())).as_py() or 0.0
        harm_there = int(pc.sum(pc.filter(panel["civilian_fatalities"], together)).as_py() or 0)
        facts.append(
            f"Peacekeeping and counterterrorism sites were both within {radius} km in {share_rows:.1%} of "
            f"unit-months, which saw {harm_there / total:.1%} of civilian fatalities."
        )
    return facts


def exposure_facts(panel: pa.Table, radii_km: list[float]) -> list[str]:
    """Where forces met, from a panel of exposures alone (no events needed)."""
    radius = _radius_label(max(radii_km))
    column = f"copresence_{radius}km"
    if column not in panel.column_names or panel.num_rows == 0:
        return []
    together = pc.equal(panel[column], 1)
    share_rows = pc.mean(pc.cast(together, pa.float64())).as_py() or 0.0
    units = len(pc.unique(panel["unit_id"]))
    met = len(pc.unique(pc.filter(panel["unit_id"], together)))
    return [
        f"Peacekeeping and counterterrorism sites were both within {radius} km in {share_rows:.1%} of "
        f"unit-months; {met:,} of {units:,} units saw it at least once."
    ]


def exposure_caveats(sites: list[dict], deployment_files: bool) -> list[str]:
    """What the exposure columns cannot say, given the sites they were measured from."""
    where = (
        "the registry's sites and the deployment files loaded"
        if deployment_files
        else "the registry's sites (main bases, with opening and closing dates)"
    )
    notes = [
        f"Exposure is measured from {where}: patrols, temporary posts and air operations are not sites, "
        "so exposure away from bases is understated."
    ]
    unknown = sum(1 for site in sites if not site.get("troops"))
    if unknown:
        notes.append(
            f"{unknown} of {len(sites)} sites have no troop number in any source; the troops_* columns "
            "of panel.parquet count only the sites that do, so a 0 there can mean unknown, not no troops."
        )
    return notes


def _by_unit_year(panel: pa.Table, column: str, how: str) -> tuple[dict, dict]:
    years = pc.year(panel["period"])
    table = pa.table({"unit_id": pc.cast(panel["unit_id"], pa.string()), "year": years, "v": panel[column]})
    per_year: dict[int, dict[str, float]] = defaultdict(dict)
    for row in table.group_by(["unit_id", "year"]).aggregate([("v", how)]).to_pylist():
        value = row[f"v_{how}"]
        if value:
            per_year[int(row["year"])][row["unit_id"]] = round(float(value), 4)
    totals = {}
    for row in table.group_by("unit_id").aggregate([("v", how)]).to_pylist():
        value = row[f"v_{how}"]
        if value:
            totals[row["unit_id"]] = round(float(value), 4)
    return dict(per_year), totals


def _measured_from(panel: pa.Table) -> str:
    """Words for what "within r km" is measured from, read from the panel's metadata."""
    meta = json.loads((panel.schema.metadata or {}).get(b"entangle", b"{}"))
    return {
        "polygon": " of the unit's boundary (or inside the unit)",
        "boundary": " of the unit's boundary (or inside the unit)",
        "centroid": " of the unit's centre",
        "area_share": " (as the share of the unit's area within that distance)",
    }.get(meta.get("exposure_from"), "")


def map_layers(panel: pa.Table, radii_km: list[float]) -> list[dict]:
    """Civilian harm per unit and entanglement exposure per unit, for the whole period and per year."""
    layers = []
    of_unit = _measured_from(panel)
    if "civilian_fatalities" in panel.column_names:
        years, total = _by_unit_year(panel, "civilian_fatalities", "sum")
        layers.append(
            {
                "id": "harm",
                "column": "civilian_fatalities",
                "title": "Civilian harm per unit",
                "unit": "civilian fatalities",
                "note": "Civilian fatalities recorded in each unit (sum over the period or the chosen year). "
                "Counts, not rates: larger or more populous units collect more.",
                "years": years,
                "total": total,
            }
        )
    radius = _radius_label(max(radii_km))
    copresence = f"copresence_{radius}km"
    if copresence in panel.column_names:
        years, total = _by_unit_year(panel, copresence, "sum")
        layers.append(
            {
                "id": "copresence",
                "column": copresence,
                "title": "Entanglement exposure: months of peacekeeping–counterterrorism co-presence "
                f"within {radius} km",
                "unit": "months of co-presence",
                "note": "Number of months in which both a peacekeeping and a counterterrorism site were "
                f"active within {radius} km{of_unit}.",
                "years": years,
                "total": total,
            }
        )
    index = f"entanglement_{radius}km"
    if index in panel.column_names:
        years, total = _by_unit_year(panel, index, "mean")
        layers.append(
            {
                "id": "entanglement",
                "column": index,
                "title": f"Entanglement index within {radius} km (mean per month)",
                "unit": "mean entanglement index",
                "note": "For each month, the sum of the weights of the ties active between every pair of "
                f"interventions with an active site within {radius} km{of_unit} (0 where no tied pair is "
                "present), averaged over the months of the period or the chosen year.",
                "years": years,
                "total": total,
            }
        )
    return layers


def _radius_label(radius: float) -> str:
    return f"{radius:g}".replace(".", "p")  # the panel's column label (entangle.measures.radius_label)


def unit_shapes(panel: pa.Table, unit_spec: str) -> list[dict]:
    """Vector shapes of the panel's units: PRIO-GRID boxes, H3 hexagons or simplified admin polygons."""
    ids = pc.unique(panel["unit_id"]).to_pylist()
    if unit_spec == "priogrid":
        firsts = panel.group_by("unit_id").aggregate([("unit_lat", "min"), ("unit_lon", "min")]).to_pylist()
        shapes = []
        for row in firsts:
            lat, lon = row["unit_lat_min"], row["unit_lon_min"]
            ring = [
                (lon - CELL_HALF, lat - CELL_HALF),
                (lon + CELL_HALF, lat - CELL_HALF),
                (lon + CELL_HALF, lat + CELL_HALF),
                (lon - CELL_HALF, lat + CELL_HALF),
            ]
            shapes.append(
                {"unit_id": str(row["unit_id"]), "label": f"cell {row['unit_id']}", "rings": [ring]}
            )
        return shapes
    if unit_spec.startswith("h3:"):
        import h3

        return [
            {
                "unit_id": str(cell),
                "label": f"hexagon {cell}",
                "rings": [[(lon, lat) for lat, lon in h3.cell_to_boundary(str(cell))]],
            }
            for cell in ids
        ]
    from entangle.geo.units import parse_unit, read_polygons

    _, path, column = parse_unit(unit_spec)
    poly_ids, geoms = read_polygons(path, column)
    names = _unit_names(path, column)
    wanted = {str(i) for i in ids}
    return [
        {
            "unit_id": uid,
            "label": f"{names[uid]} ({uid})" if names.get(uid) else uid,
            "rings": geometry_rings(geom.simplify(0.01, preserve_topology=True)),
        }
        for uid, geom in zip(poly_ids, geoms, strict=True)
        if uid in wanted
    ]


NAME_COLUMNS = ("NAME_2", "NAME_1", "shapeName", "ADM2_EN", "ADM1_EN", "name", "NAME")


def _unit_names(path: str, id_column: str) -> dict[str, str]:
    """Human names of admin units, from the first usual name column the file has (else none)."""
    import pyogrio

    frame = pyogrio.read_dataframe(path, read_geometry=False)
    column = next((c for c in NAME_COLUMNS if c in frame.columns and c != id_column), None)
    if column is None:
        return {}
    return dict(zip(frame[id_column].astype(str), frame[column].astype(str), strict=True))


def unit_display(unit_spec: str) -> str:
    """The unit string without the directory of an admin file (reports should not leak paths)."""
    if unit_spec.startswith("admin:"):
        path, column = unit_spec[len("admin:") :].rsplit(":", 1)
        return f"admin:{path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{column}"
    return unit_spec


def geometry_rings(geom) -> list[list[tuple[float, float]]]:
    """Exterior rings of a shapely (Multi)Polygon as lists of (lon, lat)."""
    if geom is None or geom.is_empty:
        return []
    polys = getattr(geom, "geoms", [geom])
    return [[(round(x, 4), round(y, 4)) for x, y in poly.exterior.coords] for poly in polys]


def rejects_summary(rejects: pa.Table | None, provenance: pa.Table | None) -> list[dict]:
    """Rejected rows counted per source file and reason."""
    if rejects is None or rejects.num_rows == 0:
        return []
    names = {}
    if provenance is not None and "sha256" in provenance.column_names:
        for row in provenance.to_pylist():
            names[row["sha256"]] = f"{row.get('source')}: {str(row.get('path', '')).rsplit('/', 1)[-1]}"
    key = "sha256" if "sha256" in rejects.column_names else None
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for row in rejects.select([c for c in (key, "reason") if c]).to_pylist():
        counts[(names.get(row.get(key), row.get(key) or ""), row["reason"])] += 1
    return [
        {"source": s, "reason": r, "rows": n} for (s, r), n in sorted(counts.items(), key=lambda kv: -kv[1])
    ]


def provenance_records(provenance: pa.Table | None) -> list[dict]:
    if provenance is None:
        return []
    out = []
    for row in provenance.to_pylist():
        row = {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in row.items()}
        row["file"] = str(row.get("path", "")).rsplit("/", 1)[-1]
        row.setdefault("version", row.get("source_version") or row.get("loader_version"))
        out.append(row)
    return out


def jsonable(value):
    """Dates to ISO strings, recursively, for JSON outputs."""
    return json.loads(
        json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    )
