"""Site opening and closure designs: staggered treatments from dated sites, estimated as event studies.

Treatment for unit u (absorbing, the form ``estimate/did.py`` reads):

- ``site-opening``: 1 from the first period in which a site of the chosen intervention (or kind)
  is active within ``radius_km`` of u; 0 before. Units with a site from the first period have no
  pre-period (the Callaway-Sant'Anna estimator leaves them out); units never reached are the
  never-treated comparison.
- ``site-closure``: only units that had such a site within ``radius_km`` at some time enter. 1
  from the first period in which no site is left within ``radius_km`` after there had been one;
  units still covered at the end are the never-treated comparison.

Sites are spells (``profile.site_spells``: snapshots of one place joined, registry and deployment
files together). "Within r km of the unit" follows the panel: from the polygon for admin units
(0 inside, km to the boundary outside), from the centroid otherwise. ``min_km`` makes the zone a
ring (min_km, radius_km]: a site that opens just outside the near zone, for displacement; units in
the inner disc then leave the design. ``buffer_km`` (> radius_km) leaves out untreated units that
ever had a site within ``buffer_km``: if harm is displaced from near a camp to the next band, those
units are not a clean comparison (the displacement world in tests/mechanisms shows the bias).
Estimation is ``entangle.estimate.estimate(design="did", event=True)``: Callaway-Sant'Anna
(``estimator=cs``, default) or the imputation estimator (``estimator=imputation``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from entangle.errors import EstimateError
from entangle.geo.distance import great_circle_km
from entangle.measures import radius_label

CHANGES = {"site-opening": "opening", "site-closure": "closure"}
SITE_OPTIONS = ("min_km", "buffer_km")  # options of the site designs themselves; the rest go to did


def unit_site_km(unit_lat: np.ndarray, unit_lon: np.ndarray, spells: pd.DataFrame, geoms=None) -> np.ndarray:
    """(units × spells) km: from each polygon when ``geoms`` is given, else from each centroid."""
    if geoms is not None:
        from entangle.geo.polygon_distance import polygon_point_km

        return polygon_point_km(geoms, spells["lat"].to_numpy(float), spells["lon"].to_numpy(float))
    n, m = len(unit_lat), len(spells)
    return great_circle_km(
        np.repeat(unit_lat, m),
        np.repeat(unit_lon, m),
        np.tile(spells["lat"].to_numpy(float), n),
        np.tile(spells["lon"].to_numpy(float), n),
    ).reshape(n, m)


def coverage(
    site_km: np.ndarray,
    spells: pd.DataFrame,
    starts: np.ndarray,
    ends: np.ndarray,
    radius_km: float,
    min_km: float = 0.0,
) -> np.ndarray:
    """(units × periods) True where a spell within (min_km, radius_km] is active in the period."""
    near = (site_km <= radius_km * (1 + 1e-12)) & ((site_km > min_km) if min_km > 0 else True)
    s0 = spells["start"].to_numpy(dtype="datetime64[D]")
    s1 = spells["end"].to_numpy(dtype="datetime64[D]")
    active = (s0[:, None] <= ends[None, :]) & (np.isnat(s1)[:, None] | (s1[:, None] >= starts[None, :]))
    return (near.astype(np.int32) @ active.astype(np.int32)) > 0


def treatment(covered: np.ndarray, change: str) -> tuple[np.ndarray, np.ndarray]:
    """(units × periods) absorbing 0/1 treatment and the units that enter the design."""
    if change == "opening":
        return np.maximum.accumulate(covered, axis=1).astype(np.int8), np.ones(len(covered), dtype=bool)
    ever = covered.any(axis=1)
    seen = np.maximum.accumulate(covered, axis=1)
    closed = seen & ~covered
    return np.maximum.accumulate(closed, axis=1).astype(np.int8), ever


def treatment_column(change: str, of: str, radius_km: float) -> str:
    return f"site_{change}_{of}_{radius_label(radius_km)}km"


def add_treatment(
    frame: pd.DataFrame,
    spells: pd.DataFrame,
    change: str,
    of: str,
    radius_km: float,
    min_km: float = 0.0,
    geoms=None,
    unit_order=None,
    buffer_km: float = 0.0,
) -> tuple[pd.DataFrame, str]:
    """The panel rows that enter the design, with the treatment column added (name returned).

    ``frame`` needs unit_id, period, unit_lat, unit_lon; ``geoms`` (admin polygons) come in the
    order of ``unit_order`` (unit ids) when given.
    """
    units = frame.drop_duplicates("unit_id").sort_values("unit_id")
    if geoms is not None and unit_order is not None:
        position = {u: k for k, u in enumerate(unit_order)}
        geoms = np.asarray(geoms)[[position[u] for u in units["unit_id"]]]
    periods = np.sort(pd.to_datetime(frame["period"].unique()).to_numpy().astype("datetime64[D]"))
    ends = np.append(periods[1:] - np.timedelta64(1, "D"), _period_end(periods[-1], periods))
    km = unit_site_km(units["unit_lat"].to_numpy(float), units["unit_lon"].to_numpy(float), spells, geoms)
    covered = coverage(km, spells, periods, ends, radius_km, min_km)
    d, enters = treatment(covered, change)
    if min_km > 0:  # a ring design: units in the inner disc are neither treated nor comparable
        enters &= ~coverage(km, spells, periods, ends, min_km).any(axis=1)
    if buffer_km > radius_km:  # untreated units near a site may feel displaced harm: leave them out
        enters &= d.any(axis=1) | ~coverage(km, spells, periods, ends, buffer_km).any(axis=1)
    column = treatment_column(change, of, radius_km)
    table = pd.DataFrame(
        {
            "unit_id": np.repeat(units["unit_id"].to_numpy(), len(periods)),
            "period": np.tile(periods, len(units)),
            column: d.ravel(),
            "_enters": np.repeat(enters, len(periods)),
        }
    )
    merged = frame.assign(period=pd.to_datetime(frame["period"]).to_numpy().astype("datetime64[D]")).merge(
        table, on=["unit_id", "period"], how="left"
    )
    merged = merged[merged["_enters"]].drop(columns="_enters")
    return merged, column


def _period_end(last: np.datetime64, periods: np.ndarray) -> np.datetime64:
    step = periods[1] - periods[0] if len(periods) > 1 else np.timedelta64(30, "D")
    months = max(1, round(step.astype(int) / 30.4))
    return (last.astype("datetime64[M]") + np.timedelta64(months, "M")).astype(
        "datetime64[D]"
    ) - np.timedelta64(1, "D")


def estimate_site_design(
    frame: pd.DataFrame,
    spells: pd.DataFrame,
    design: str,
    outcome: str,
    of: str,
    radius_km: float,
    options: dict[str, Any] | None = None,
    geoms=None,
    unit_order=None,
    metadata: dict | None = None,
):
    """Estimate a ``site-opening`` or ``site-closure`` design; a ``Result`` with event-time terms."""
    from entangle.estimate.api import estimate

    if design not in CHANGES:
        raise EstimateError("--design", f"unknown site design {design!r}", "site-opening or site-closure")
    options = dict(options or {})
    min_km = float(options.pop("min_km", 0.0))  # SITE_OPTIONS
    buffer_km = float(options.pop("buffer_km", 0.0))
    data, column = add_treatment(
        frame, spells, CHANGES[design], of, radius_km, min_km, geoms, unit_order, buffer_km
    )
    treated_units = data.loc[data[column] > 0, "unit_id"].nunique()
    if treated_units == 0:
        raise EstimateError(
            f"{design} of {of} within {radius_km:g} km",
            "no unit sees a site " + ("open" if design == "site-opening" else "close") + " in the study",
            "choose another radius, intervention or period",
        )
    result = estimate(data, "did", outcome, column, metadata=metadata, **({"event": True} | options))
    # the scale of an effect: the treated units' mean outcome before their treatment began
    treated = data.groupby("unit_id")[column].transform("max") > 0
    before = data.loc[treated & (data[column] == 0), outcome]
    result.extra["site_design"] = {
        "design": design,
        "of": of,
        "radius_km": radius_km,
        "min_km": min_km,
        "buffer_km": buffer_km,
        "treated_units": int(treated_units),
        "units": int(data["unit_id"].nunique()),
        "spells": len(spells),
        "treated_mean_before": float(before.mean()) if len(before) else None,
    }
    result.design = design
    return result
