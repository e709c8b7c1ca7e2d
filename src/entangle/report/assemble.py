"""Turn the layers' outputs (registry, panel, store tables) into the plain records the report shows.

Each function takes data and returns data; the pipeline calls them and fills ``ReportData``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict

import pyarrow as pa
import pyarrow.compute as pc

from entangle.panel.metadata import panel_metadata

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
    for column, a, b in copresence_pairs(panel.column_names, radius):
        together = pc.equal(panel[column], 1)
        share_rows = pc.mean(pc.cast(together, pa.float64())).as_py() or 0.0
        harm_there = int(pc.sum(pc.filter(panel["civilian_fatalities"], together)).as_py() or 0)
        facts.append(
            f"{_pair_words(a, b)} sites were both within {radius} km in {share_rows:.1%} of "
            f"unit-periods, which saw {harm_there / total:.1%} of civilian fatalities."
        )
    return facts


def _pair_words(a: str, b: str) -> str:
    words = {
        "peacekeeping": "Peacekeeping",
        "counterterrorism": "counterterrorism",
        "state_forces": "state-force",
        "private_military": "private-military",
    }
    first, second = words.get(a, a.replace("_", " ")), words.get(b, b.replace("_", " "))
    return f"{first.capitalize()} and {second.lower() if second != 'Peacekeeping' else second}"


def exposure_facts(panel: pa.Table, radii_km: list[float]) -> list[str]:
    """Where forces met, from a panel of exposures alone (no events needed): every co-presence pair."""
    radius = _radius_label(max(radii_km))
    if panel.num_rows == 0:
        return []
    units = len(pc.unique(panel["unit_id"]))
    facts = []
    for column, a, b in copresence_pairs(panel.column_names, radius):
        together = pc.equal(panel[column], 1)
        share_rows = pc.mean(pc.cast(together, pa.float64())).as_py() or 0.0
        met = len(pc.unique(pc.filter(panel["unit_id"], together)))
        facts.append(
            f"{_pair_words(a, b)} sites were both within {radius} km in {share_rows:.1%} of "
            f"unit-periods; {met:,} of {units:,} units saw it at least once."
        )
    return facts


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
    meta = panel_metadata(panel)
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


# --- harm beside exposure -------------------------------------------------------------------------

CATEGORIES = ("state_and_allied", "international", "jihadist", "militia", "rebel", "other", "unknown")
PAIR_COLUMN = re.compile(r"copresence_([a-z_]+?)__([a-z_]+)_(\w+)km")
GENERIC_COPRESENCE = re.compile(r"copresence_(\w+)km")


def copresence_pairs(columns: list[str], radius: str) -> list[tuple[str, str, str]]:
    """(column, kind A, kind B) of every co-presence pair at one radius. The pairwise columns
    (``copresence_<A>__<B>_<r>km``) when the panel has them, else the PK–CT ``copresence_<r>km``."""
    pairs = []
    for column in columns:
        match = PAIR_COLUMN.fullmatch(column)
        if match and match[3] == radius:
            pairs.append((column, match[1], match[2]))
    if not pairs and f"copresence_{radius}km" in columns:
        pairs.append((f"copresence_{radius}km", "peacekeeping", "counterterrorism"))
    return pairs


def _sum_by_unit(panel: pa.Table, column: str, how: str = "sum") -> dict[str, float]:
    table = pa.table({"u": pc.cast(panel["unit_id"], pa.string()), "v": panel[column]})
    return {
        row["u"]: float(row[f"v_{how}"] or 0)
        for row in table.group_by("u").aggregate([("v", how)]).to_pylist()
    }


def _first_present(panel: pa.Table, radius: str) -> dict[str, tuple[dt.date, list[str]]]:
    """Each unit's first period with any intervention's site within the radius, and the kinds then."""
    columns = [c for c in panel.column_names if re.fullmatch(rf"present_([a-z_]+)_{radius}km", c)]
    if not columns:
        return {}
    rows = panel.select(["unit_id", "period", *columns]).to_pylist()
    first: dict[str, tuple[dt.date, list[str]]] = {}
    for row in sorted(rows, key=lambda r: _as_date(r["period"])):
        unit = str(row["unit_id"])
        if unit in first:
            continue
        kinds = [c[len("present_") : -len(f"_{radius}km")] for c in columns if row[c]]
        if kinds:
            first[unit] = (_as_date(row["period"]), kinds)
    return first


def _nearest_sites(lat: float, lon: float, sites: list[dict], count: int = 2) -> list[dict]:
    """The nearest site places (one per town, with the earliest opening there)."""
    import numpy as np

    from entangle.geo.distance import great_circle_km

    located = [s for s in sites if s.get("lat") is not None and s.get("lon") is not None]
    if not located:
        return []
    km = great_circle_km(
        np.full(len(located), lat),
        np.full(len(located), lon),
        np.array([s["lat"] for s in located]),
        np.array([s["lon"] for s in located]),
    )
    out: list[dict] = []
    for k in np.argsort(km, kind="stable"):
        site = located[int(k)]
        place = (round(site["lat"], 1), round(site["lon"], 1))  # bases of several forces in one town: one row
        name = re.sub(r"\s*\(.*\)$", "", site.get("name") or site.get("id") or "")
        same = next((o for o in out if o["place"] == place), None)
        start = site.get("start")
        if same is not None:
            if start and (same["start"] is None or start < same["start"]):
                same["start"] = start
            continue
        if len(out) == count:
            break
        out.append({"name": name, "km": round(float(km[k])), "start": start, "place": place})
    return [{k: v for k, v in o.items() if k != "place"} for o in out]


def unit_table(
    panel: pa.Table,
    sites: list[dict],
    harm_events: list[dict],
    radii_km: list[float],
    labels: dict[str, str] | None = None,
    limit: int = 15,
) -> list[dict]:
    """Units ranked by civilian fatalities (most first; ties by id), each with its deaths by
    perpetrator, the periods of each co-presence pair, the mean entanglement index, the nearest
    sites, the first period a site was within the largest radius, and its largest events."""
    if "civilian_fatalities" not in panel.column_names or panel.num_rows == 0:
        return []
    radius = _radius_label(max(radii_km))
    deaths = _sum_by_unit(panel, "civilian_fatalities")
    by_cat = {
        cat: _sum_by_unit(panel, f"{CATEGORY_PREFIX}{cat}")
        for cat in CATEGORIES
        if f"{CATEGORY_PREFIX}{cat}" in panel.column_names
    }
    pairs = copresence_pairs(panel.column_names, radius)
    months = {column: _sum_by_unit(panel, column) for column, _, _ in pairs}
    index_col = f"entanglement_{radius}km"
    index = _sum_by_unit(panel, index_col, "mean") if index_col in panel.column_names else {}
    first = _first_present(panel, radius)
    centres = {
        str(r["unit_id"]): (r["unit_lat_min"], r["unit_lon_min"])
        for r in panel.group_by("unit_id").aggregate([("unit_lat", "min"), ("unit_lon", "min")]).to_pylist()
    }
    events: dict[str, list[dict]] = defaultdict(list)
    for event in harm_events:
        events[event["unit_id"]].append(event)
    ranked = sorted(deaths, key=lambda u: (-deaths[u], u))[:limit]
    rows = []
    for unit in ranked:
        if deaths[unit] <= 0:
            break
        lat, lon = centres[unit]
        largest = sorted(
            events.get(unit, []), key=lambda e: (-(e["civilian_fatalities"] or 0), e["event_id"])
        )
        rows.append(
            {
                "unit_id": unit,
                "label": (labels or {}).get(unit, unit),
                "deaths": round(deaths[unit], 2),
                "by_category": {cat: round(v.get(unit, 0), 2) for cat, v in by_cat.items() if v.get(unit, 0)},
                "copresence": [
                    {"column": column, "a": a, "b": b, "periods": round(months[column].get(unit, 0))}
                    for column, a, b in pairs
                ],
                "entanglement": round(index.get(unit, 0.0), 3),
                "nearest": _nearest_sites(lat, lon, sites),
                "first_site": first.get(unit, (None, []))[0],
                "first_kinds": first.get(unit, (None, []))[1],
                "events": [
                    {
                        "event_id": e["event_id"],
                        "date": e.get("date_start"),
                        "actor": e.get("actor1") or "",
                        "target": e.get("actor2") or "",
                        "deaths": e["civilian_fatalities"],
                        "category": e.get("perpetrator_category") or "unknown",
                    }
                    for e in largest[:2]
                ],
            }
        )
    return rows


def harm_event_tips(harm_events: list[dict], top: int = 3) -> dict[str, dict]:
    """For each ``YYYY-MM-DD|category`` bar of the timeline: how many events, and the largest ones
    (event id, actor, civilian fatalities), so a hover names who did it."""
    groups: dict[str, list[dict]] = defaultdict(list)
    seen: set[str] = set()
    for event in harm_events:
        if event["event_id"] in seen:
            continue  # an event spread over units is one event
        seen.add(event["event_id"])
        category = event.get("perpetrator_category") or "unknown"
        category = category if category in CATEGORIES else "other"
        groups[f"{event['period'].isoformat()}|{category}"].append(event)
    out = {}
    for key, items in groups.items():
        items.sort(key=lambda e: (-(e["civilian_fatalities"] or 0), e["event_id"]))
        out[key] = {
            "events": len(items),
            "top": [
                (e["event_id"], e.get("actor1") or "unknown actor", e["civilian_fatalities"])
                for e in items[:top]
            ],
        }
    return out


def _classes(values: dict[str, float]) -> tuple[dict[str, int], float]:
    """0 for zero, 1 up to the median of the non-zero values, 2 above it; and that median."""
    import statistics

    positive = sorted(v for v in values.values() if v > 0)
    cut = statistics.median(positive) if positive else 0.0
    return {u: (0 if v <= 0 else 1 if v <= cut else 2) for u, v in values.items()}, cut


def bivariate_choice(panel: pa.Table, radii_km: list[float], exposure: str | None = None) -> dict:
    """Civilian harm and one exposure per unit over the whole period, each in three classes
    (none; up to the median of the units with any; above it), for the bivariate map."""
    if "civilian_fatalities" not in panel.column_names:
        return {}
    radius = _radius_label(max(radii_km))
    if exposure is None:
        pairs = copresence_pairs(panel.column_names, radius)
        pk_ct = [c for c, a, b in pairs if {a, b} == {"peacekeeping", "counterterrorism"}]
        exposure = pk_ct[0] if pk_ct else (pairs[0][0] if pairs else None)
    if exposure is None or exposure not in panel.column_names:
        return {}
    how = "mean" if exposure.startswith(("entanglement_", "dist_km_")) else "sum"
    harm = _sum_by_unit(panel, "civilian_fatalities")
    exp = _sum_by_unit(panel, exposure, how)
    harm_class, harm_cut = _classes(harm)
    exp_class, exp_cut = _classes(exp)
    return {
        "column": exposure,
        "how": how,
        "harm": harm,
        "exposure": exp,
        "classes": {u: (harm_class[u], exp_class.get(u, 0)) for u in harm},
        "harm_cut": harm_cut,
        "exposure_cut": exp_cut,
    }


def units_outline(units: list[dict]) -> list:
    """The study area's outline from its units: the dissolved unit shapes, so fills never spill
    past it."""
    if not units:
        return []
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    shapes = [Polygon(ring) for unit in units for ring in unit["rings"] if len(ring) >= 3]
    merged = unary_union([s.buffer(0) for s in shapes])
    # a hair of buffer closes slivers between simplified neighbours
    return geometry_rings(merged.buffer(0.005).buffer(-0.005).simplify(0.01))


def place_labels(registry_sites, limit: int = 14, min_gap_deg: float = 0.8) -> list[dict]:
    """Main towns to label on maps: registry site places, most sites first, none too close to a
    label already chosen (each map then drops the labels that would overlap at its size)."""
    places: dict[tuple[float, float], list[str]] = defaultdict(list)
    where: dict[tuple[float, float], tuple[float, float]] = {}
    for site in registry_sites:
        name = re.sub(r"\s*\(.*\)$", "", site.name).split(",")[-1].strip()
        key = (round(site.lat * 4) / 4, round(site.lon * 4) / 4)  # one place per quarter degree
        places[key].append(name)
        where.setdefault(key, (site.lat, site.lon))
    ranked = sorted(places.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    chosen: list[dict] = []
    for key, names in ranked:
        lat, lon = where[key]
        if any(abs(lat - c["lat"]) < min_gap_deg / 2 and abs(lon - c["lon"]) < min_gap_deg for c in chosen):
            continue
        name = min(set(names), key=lambda n: (-names.count(n), len(n)))
        chosen.append({"name": name, "lat": lat, "lon": lon, "sites": len(names)})
        if len(chosen) == limit:
            break
    return chosen


# --- accounting and rules --------------------------------------------------------------------------

COUNT_WORDS = (
    ("events_in", "events loaded"),
    ("dropped_undated", "dropped: no date"),
    ("dropped_imprecise_location", "dropped: located less precisely than the imprecision rule allows"),
    ("dropped_imprecise_date", "dropped: dated to a longer window than the imprecision rule allows"),
    ("outside_units", "outside every unit of the study area"),
    ("outside_window", "outside the study's dates"),
    ("events_assigned", "events counted in the panel"),
    ("sites_in", "deployment places loaded (registry and files)"),
    ("sites_unmatched", "places not matched to a registry intervention (not used)"),
    ("sites_unlocated", "places without coordinates (not used)"),
    ("sites_outside_lifetime", "places outside their intervention's dates (not used)"),
    ("sites_excluded_type", "places of an excluded site type (not used)"),
    ("sites_used", "deployment places used for exposure"),
)


def accounting(meta: dict) -> list[dict]:
    """What happened to every event and site, in words, from the panel's metadata counts."""
    counts = meta.get("counts") or {}
    words = dict(COUNT_WORDS)
    rows = [{"key": k, "what": words[k], "count": counts[k]} for k, _ in COUNT_WORDS if k in counts]
    rows += [
        {"key": k, "what": k.replace("_", " "), "count": v}
        for k, v in counts.items()
        if k not in words and isinstance(v, int | float)
    ]
    return rows


def _rule_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(_rule_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')}: {_rule_text(v)}" for k, v in value.items())
    return json.dumps(value, default=str)


EXPOSURE_FROM_WORDS = {
    "boundary": "distance from the unit's boundary: 0 km for a site inside the unit, else great-circle km to "
    "the nearest point of its polygon",
    "area_share": "presence is the share of the unit's area within the radius of a site (from an equal-area "
    "lattice), not a 0/1 flag",
    "polygon": "distance from the unit's boundary: 0 km for a site inside the unit, else great-circle km to "
    "the nearest point of its polygon",
    "centroid": "great-circle distance from the unit's centre",
}
RULE_KEYS = (
    ("deployments", "Deployment time rule"),
    ("exposure_from", "Admin exposure rule"),
    ("civilian", "Civilian fatalities"),
    ("civilian_definition", "Civilian fatalities"),
    ("exclude_site_types", "Excluded site types"),
    ("excluded_site_types", "Excluded site types"),
    ("onsets", "Treatment onsets"),
)
CIVILIAN_WORDS = {
    "targeting": "only events that target civilians count (ACLED 'Violence against civilians' or its "
    "civilian-targeting flag; UCDP one-sided violence)",
    "any_civilian_victim": "every event the source codes with civilian victims or civilian deaths counts",
}
DEPLOYMENT_WORDS = {
    "carry_forward": "a deployment map's row holds from its month until the month before the next map of "
    "the same series, at most {gap} months",
    "map_month": "a deployment map's row covers its own calendar month only",
    "interpolate": "presence as under carry_forward (at most {gap} months); troops linear by month between "
    "two consecutive maps of the same location",
}


def _onset_words(value: dict) -> str:
    starts = value.get("coverage_start") or {}
    censored = value.get("left_censored") or {}
    parts = [f"{source} deployment data start {day}" for source, day in sorted(starts.items())]
    counts = [f"{column} in {len(units)} unit(s)" for column, units in sorted(censored.items()) if units]
    text = "; ".join(parts) or "no coverage start recorded"
    if counts:
        text += (
            ". A unit already exposed when the data begin has no observed onset (left-censored) and is left "
            "out of onset designs: " + ", ".join(counts)
        )
    return text + "."


def panel_rules(meta: dict) -> list[dict]:
    """The rules the panel was built under, in words (from its metadata)."""
    rows, seen = [], set()
    for key, label in RULE_KEYS:
        if key not in meta or label in seen:
            continue
        seen.add(label)
        value = meta[key]
        if key == "exposure_from":
            text = EXPOSURE_FROM_WORDS.get(value, _rule_text(value))
        elif key == "deployments" and isinstance(value, dict):
            words = DEPLOYMENT_WORDS.get(value.get("rule"), "{gap}")
            text = f"'{value.get('rule')}': " + words.format(gap=value.get("max_gap_months", "?"))
        elif key == "onsets" and isinstance(value, dict):
            text = _onset_words(value)
        elif key.startswith("civilian") and isinstance(value, str):
            text = f"'{value}': {CIVILIAN_WORDS.get(value, value)}"
        else:
            text = _rule_text(value)
        rows.append(
            {"rule": label, "text": text, "key": key, "key_value": value if isinstance(value, str) else ""}
        )
    return rows
