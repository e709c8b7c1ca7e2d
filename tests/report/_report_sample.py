"""A small hand-made regime complex and panel (SYNTHETIC) for the report tests."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

D = dt.date
SRC = [{"ref": "S/RES/0000 (synthetic)", "date": "2013-04-25"}]


def sample_panel() -> pa.Table:
    """2 PRIO-GRID cells × 24 months (2013–2014); fatalities chosen so totals are easy by hand."""
    rows = []
    for gid, lat, lon in ((150000, 14.25, -3.75), (150001, 14.25, -3.25)):
        for k in range(24):
            period = D(2013 + k // 12, k % 12 + 1, 1)
            jihadist = 3 if (gid == 150000 and k % 6 == 0) else 0  # 4 months × 3 = 12 in cell 150000
            state = 2 if (gid == 150001 and k >= 12) else 0  # 12 months × 2 = 24 in cell 150001 (2014)
            rows.append(
                {
                    "unit_id": gid,
                    "period": period,
                    "unit_lat": lat,
                    "unit_lon": lon,
                    "events": int(jihadist > 0) + int(state > 0),
                    "fatalities": jihadist + state,
                    "civilian_fatalities": jihadist + state,
                    "civilian_fatalities_jihadist": jihadist,
                    "civilian_fatalities_state_and_allied": state,
                    "copresence_50km": int(gid == 150000 and k >= 12),  # 12 months in cell 150000
                    "entanglement_50km": 2.0 if (gid == 150000 and k >= 12) else 0.0,
                }
            )
    return pa.Table.from_pylist(rows)


def sample_records() -> dict:
    interventions = [
        {
            "id": "pko",
            "name": "Peace Mission",
            "kind": "peacekeeping",
            "organization": "UN",
            "start": D(2013, 7, 1),
            "end": None,
            "sources": SRC,
        },
        {
            "id": "ct",
            "name": "CT Operation",
            "kind": "counterterrorism",
            "organization": "France",
            "start": D(2013, 1, 11),
            "end": D(2014, 7, 31),
            "sources": SRC,
        },
        {
            "id": "army",
            "name": "National Army",
            "kind": "state_forces",
            "organization": "State",
            "start": D(2012, 1, 1),
            "end": None,
            "sources": SRC,
        },
    ]
    mandates = [
        {
            "intervention_id": "pko",
            "document": "S/RES/0001 (2013)",
            "adopted": D(2013, 4, 25),
            "in_force_from": D(2013, 7, 1),
            "in_force_to": D(2014, 6, 30),
            "provisions": ["protection_of_civilians", "support_to_partner"],
            "sources": SRC,
        },
        {
            "intervention_id": "pko",
            "document": "S/RES/0002 (2014)",
            "adopted": D(2014, 6, 25),
            "in_force_from": D(2014, 7, 1),
            "in_force_to": None,
            "provisions": ["protection_of_civilians", "counterterrorism"],
            "sources": SRC,
        },
    ]
    ties = [
        {
            "id": "t1",
            "source_id": "ct",
            "target_id": "pko",
            "type": "authorization",
            "start": D(2013, 7, 1),
            "end": None,
            "weight": 1.0,
            "directed": True,
            "sources": SRC,
        },
        {
            "id": "t2",
            "source_id": "pko",
            "target_id": "army",
            "type": "logistical_support",
            "start": D(2014, 1, 1),
            "end": None,
            "weight": 0.5,
            "directed": True,
            "sources": SRC,
        },
    ]
    sites = [
        {
            "id": "s1",
            "intervention_id": "pko",
            "name": "Base A",
            "lat": 14.3,
            "lon": -3.7,
            "start": D(2013, 7, 1),
            "end": None,
            "troops": 900,
            "source": "registry",
            "sources": SRC,
        },
        {
            "id": "s2",
            "intervention_id": "ct",
            "name": "Camp B",
            "lat": 14.2,
            "lon": -3.3,
            "start": D(2013, 2, 1),
            "end": D(2014, 7, 31),
            "troops": None,
            "source": "registry",
            "sources": SRC,
        },
    ]
    return {"interventions": interventions, "mandates": mandates, "ties": ties, "sites": sites}


def sample_result(design: str = "twfe") -> dict:
    if design == "event-study":
        ests = [
            {
                "term": f"e={k}",
                "estimate": 0.1 * k,
                "std_error": 0.05,
                "ci_low": 0.1 * k - 0.1,
                "ci_high": 0.1 * k + 0.1,
                "p_value": 0.5,
            }
            for k in range(-3, 4)
            if k != -1
        ]
    else:
        ests = [
            {
                "term": "copresence_50km",
                "estimate": 1.5,
                "std_error": 0.5,
                "ci_low": 0.52,
                "ci_high": 2.48,
                "p_value": 0.003,
            }
        ]
    return {
        "design": design,
        "outcome": "civilian_fatalities",
        "treatment": "copresence_50km",
        "inference": "cluster",
        "n_obs": 48,
        "n_units": 2,
        "estimates": ests,
        "formula": "y ~ x | fe",
        "panel_hash": "ab" * 32,
        "warnings": ["only 2 clusters: clustered errors are unreliable"],
    }
