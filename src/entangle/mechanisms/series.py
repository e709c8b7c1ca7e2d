"""Monthly series from a panel: attacks on peacekeepers, civilian harm near peacekeeping sites, and
the entanglement exposure, side by side (one row per period)."""

from __future__ import annotations

import pandas as pd

from entangle.errors import InputError
from entangle.measures import radius_label


def monthly_series(panel: pd.DataFrame, radius_km: float) -> pd.DataFrame:
    """Per period: ``attacks_on_peacekeepers`` (all units), ``civilian_fatalities_near_pk`` and
    ``civilian_events_near_pk`` (units with a peacekeeping site within ``radius_km``; events only
    when the panel has ``civilian_events``), ``units_entangled`` (units with entanglement > 0) and
    ``entanglement_mean`` (mean entanglement index over units)."""
    lab = radius_label(radius_km)
    present, ent = f"present_peacekeeping_{lab}km", f"entanglement_{lab}km"
    needed = ["period", "attacks_on_peacekeepers", "civilian_fatalities", present, ent]
    missing = [c for c in needed if c not in panel.columns]
    if missing:
        raise InputError(
            "panel", f"missing column(s) {', '.join(missing)}", f"build it with radius {radius_km:g} km"
        )
    near = panel[present] > 0
    frame = pd.DataFrame(
        {
            "period": pd.to_datetime(panel["period"]),
            "attacks_on_peacekeepers": panel["attacks_on_peacekeepers"],
            "civilian_fatalities_near_pk": panel["civilian_fatalities"].where(near, 0.0),
            "units_entangled": (panel[ent] > 0).astype(int),
            "entanglement_mean": panel[ent],
        }
    )
    if "civilian_events" in panel.columns:
        frame["civilian_events_near_pk"] = panel["civilian_events"].where(near, 0.0)
    sums = frame.groupby("period").agg(
        {c: ("mean" if c == "entanglement_mean" else "sum") for c in frame.columns if c != "period"}
    )
    return sums.reset_index()
