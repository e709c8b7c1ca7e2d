"""Distance profiles: civilian harm by distance band from the nearest active site, per year.

The events are exactly those the panel counts, with the panel's weights (the same imprecision
rule, study window and units: ``entangle.geo.assign``), so the band totals of a year add up to the
panel's totals for that year. Each event's distance is the great-circle km from its reported point
to the nearest site of the chosen kind or intervention that is active in the event's period (the
panel's rule: a site is active in a period when its dates overlap it). Events in a period with no
active site go to the band "no active site".

``site_changes`` asks the before/after question for every site that opens or closes during the
study: civilian harm per month in each band of distance from *that* site, in the ``window_months``
before and after the change (is harm reduced near a camp, or displaced to the next band?).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from entangle.errors import InputError
from entangle.geo.assign import CATEGORIES, SpreadLayer, assign_events
from entangle.geo.distance import great_circle_km, nearest_km
from entangle.mechanisms.bands import band_index, band_labels
from entangle.panel.build import PanelSpec
from entangle.panel.periods import MONTHS_PER, period_starts
from entangle.registry import Registry

NO_SITE = "no active site"


def select_sites(sites: pd.DataFrame, of: str, registry: Registry, where: str = "profile_of") -> pd.DataFrame:
    """The sites of an intervention id or of a kind; an ``InputError`` when ``of`` is neither."""
    ids = {i.id for i in registry.interventions}
    kinds = {i.kind for i in registry.interventions}
    if of in ids:
        return sites[sites["intervention_id"] == of]
    if of in kinds:
        return sites[sites["kind"] == of]
    raise InputError(
        where,
        f"{of!r} is neither an intervention nor an intervention kind of theatre {registry.theatre.id!r}",
        f"kinds: {', '.join(sorted(kinds))}; interventions: {', '.join(sorted(ids))}",
    )


def panel_events(events: pa.Table, spec: PanelSpec, registry: Registry) -> tuple[pd.DataFrame, np.ndarray]:
    """The panel's event shares (event row, period, weight, point, harm fields) and period starts."""
    from entangle.geo.outlines import outline
    from entangle.geo.units import make_units, parse_unit, read_polygons
    from entangle.panel.civilians import apply_civilian_definition

    spec.validate()
    kind, _, _ = parse_unit(spec.unit)
    shape = None if kind == "admin" else outline(list(spec.extent) or list(registry.theatre.country_iso3))
    units = make_units(spec.unit, shape)
    layer = None
    if spec.spread_over:
        file, _, col = spec.spread_over.rpartition(":")
        layer = SpreadLayer(*read_polygons(file, col))
    # the panel's own definition of civilian harm (study.outcomes.civilian), so band totals equal its totals
    events = apply_civilian_definition(events, spec.civilian)
    assigned, _ = assign_events(events, units, spec.start, spec.end, spec.period, spec.imprecision, layer)
    rows = assigned.column("event_row").to_numpy()
    pick = events.take(pa.array(rows))
    frame = pd.DataFrame(
        {
            "event_row": rows,
            "period_idx": assigned.column("period_idx").to_numpy(),
            "w": assigned.column("w").to_numpy(),
            "lat": pick.column("lat").to_numpy(zero_copy_only=False),
            "lon": pick.column("lon").to_numpy(zero_copy_only=False),
            "target_civilians": pick.column("civilian_event").to_numpy(zero_copy_only=False) > 0,
            "civilian_fatalities": assigned.column("civilian_fatalities").to_numpy(),
            "perpetrator_category": np.array(CATEGORIES, dtype=object)[
                assigned.column("perpetrator_category").to_numpy()
            ],
        }
    )
    return frame, period_starts(spec.start, spec.end, spec.period)


def _period_bounds(starts: np.ndarray, period: str) -> tuple[np.ndarray, np.ndarray]:
    first = starts.astype("datetime64[D]")
    ends = (starts.astype("datetime64[M]") + np.timedelta64(MONTHS_PER[period], "M")).astype("datetime64[D]")
    return first, ends - np.timedelta64(1, "D")


def nearest_active_km(
    frame: pd.DataFrame, starts: np.ndarray, period: str, sites: pd.DataFrame
) -> np.ndarray:
    """For each event share, km to the nearest site active in its period (NaN: none active)."""
    first, last = _period_bounds(starts, period)
    s_start = sites["start"].to_numpy(dtype="datetime64[D]")
    s_end = sites["end"].to_numpy(dtype="datetime64[D]")
    s_lat, s_lon = sites["lat"].to_numpy(float), sites["lon"].to_numpy(float)
    km = np.full(len(frame), np.nan)
    periods = frame["period_idx"].to_numpy()
    for t in np.unique(periods):
        active = (s_start <= last[t]) & (np.isnat(s_end) | (s_end >= first[t]))
        rows = np.flatnonzero(periods == t)
        if active.any():
            km[rows], _ = nearest_km(
                frame["lat"].to_numpy()[rows], frame["lon"].to_numpy()[rows], s_lat[active], s_lon[active]
            )
    return km


def _bands(km: np.ndarray, edges: list[float]) -> np.ndarray:
    labels = np.array([*band_labels(edges), NO_SITE], dtype=object)
    index = band_index(km, edges)
    return labels[np.where(index < 0, len(labels) - 1, index)]


def distance_profile(
    events: pa.Table,
    sites: pd.DataFrame,
    registry: Registry,
    spec: PanelSpec,
    of: str = "peacekeeping",
    edges: list[float] | None = None,
) -> pd.DataFrame:
    """Civilian harm per year × band × perpetrator category: ``events`` (civilian-targeting events)
    and ``civilian_fatalities``, both weighted as in the panel. Every band appears for every year."""
    from entangle.mechanisms.bands import DEFAULT_EDGES

    edges = list(edges or DEFAULT_EDGES)
    chosen = select_sites(sites, of, registry)
    frame, starts = panel_events(events, spec, registry)
    frame["km"] = nearest_active_km(frame, starts, spec.period, chosen)
    frame["band"] = _bands(frame["km"].to_numpy(), edges)
    frame["year"] = starts.astype("datetime64[Y]").astype(int)[frame["period_idx"].to_numpy()] + 1970
    frame["events"] = frame["w"] * frame["target_civilians"].astype(float)
    frame["civilian_fatalities"] = frame["w"] * frame["civilian_fatalities"]
    years = sorted(set(starts.astype("datetime64[Y]").astype(int) + 1970))
    full = pd.MultiIndex.from_product(
        [years, [*band_labels(edges), NO_SITE], list(CATEGORIES)],
        names=["year", "band", "perpetrator_category"],
    )
    table = (
        frame.groupby(["year", "band", "perpetrator_category"])[["events", "civilian_fatalities"]]
        .sum()
        .reindex(full, fill_value=0.0)
        .reset_index()
    )
    table.insert(1, "of", of)
    return table


def site_spells(sites: pd.DataFrame, merge_km: float = 5.0, max_gap_days: int = 366) -> pd.DataFrame:
    """One row per continuous presence of an intervention at a place: snapshots (Geo-PKO maps) and
    registry sites within ``merge_km`` of each other are one place; a gap longer than
    ``max_gap_days`` between snapshots is a closure and a reopening."""
    out = []
    for intervention, group in sites.groupby("intervention_id"):
        group = group.sort_values("start")
        places: list[tuple[float, float, str]] = []
        labels = []
        for lat, lon, name in zip(group["lat"], group["lon"], group["name"], strict=True):
            if places:
                km = great_circle_km(
                    np.full(len(places), lat),
                    np.full(len(places), lon),
                    np.array([p[0] for p in places]),
                    np.array([p[1] for p in places]),
                )
                j = int(np.argmin(km))
                if km[j] <= merge_km:
                    labels.append(j)
                    continue
            places.append((lat, lon, name))
            labels.append(len(places) - 1)
        group = group.assign(place=labels)
        for place, rows in group.groupby("place"):
            lat, lon, name = places[place]
            spell_start, spell_end = None, None
            for start, end in zip(rows["start"], rows["end"], strict=True):
                if spell_start is None:
                    spell_start, spell_end = start, end
                elif pd.isna(spell_end) or (start - spell_end).days <= max_gap_days:
                    spell_end = pd.NaT if pd.isna(spell_end) or pd.isna(end) else max(spell_end, end)
                else:
                    out.append((intervention, rows["kind"].iloc[0], name, lat, lon, spell_start, spell_end))
                    spell_start, spell_end = start, end
            out.append((intervention, rows["kind"].iloc[0], name, lat, lon, spell_start, spell_end))
    return pd.DataFrame(out, columns=["intervention_id", "kind", "name", "lat", "lon", "start", "end"])


def site_changes(
    events: pa.Table,
    sites: pd.DataFrame,
    registry: Registry,
    spec: PanelSpec,
    of: str = "peacekeeping",
    edges: list[float] | None = None,
    window_months: int = 12,
) -> pd.DataFrame:
    """Per site opening/closure inside the study: civilian harm per month by band of distance from
    that site, in the ``window_months`` before and after (the change month counts as after)."""
    from entangle.mechanisms.bands import DEFAULT_EDGES

    edges = list(edges or DEFAULT_EDGES)
    spells = site_spells(select_sites(sites, of, registry))
    frame, starts = panel_events(events, spec, registry)
    month = starts.astype("datetime64[M]")[frame["period_idx"].to_numpy()]
    lo, hi = np.datetime64(spec.start, "M"), np.datetime64(spec.end, "M")
    rows = []
    labels = band_labels(edges)
    for spell in spells.itertuples():
        for change, day in (("opening", spell.start), ("closure", spell.end)):
            if pd.isna(day):
                continue
            at = np.datetime64(pd.Timestamp(day), "M") + (
                np.timedelta64(1, "M") if change == "closure" else 0
            )
            if at - window_months < lo or at + window_months - 1 > hi:
                continue  # the window does not fit in the study
            km = great_circle_km(
                frame["lat"].to_numpy(),
                frame["lon"].to_numpy(),
                np.full(len(frame), spell.lat),
                np.full(len(frame), spell.lon),
            )
            band = band_index(km, edges)
            for side, (a, b) in (("before", (at - window_months, at)), ("after", (at, at + window_months))):
                inside = (month >= a) & (month < b)
                for k, label in enumerate(labels):
                    hit = inside & (band == k)
                    w = frame["w"].to_numpy()[hit]
                    rows.append(
                        {
                            "intervention_id": spell.intervention_id,
                            "site": spell.name,
                            "change": change,
                            "month": str(at),
                            "side": side,
                            "band": label,
                            "events_per_month": float((w * frame["target_civilians"].to_numpy()[hit]).sum())
                            / window_months,
                            "civilian_fatalities_per_month": float(
                                (w * frame["civilian_fatalities"].to_numpy()[hit]).sum()
                            )
                            / window_months,
                        }
                    )
    return pd.DataFrame(
        rows,
        columns=[
            "intervention_id",
            "site",
            "change",
            "month",
            "side",
            "band",
            "events_per_month",
            "civilian_fatalities_per_month",
        ],
    )
