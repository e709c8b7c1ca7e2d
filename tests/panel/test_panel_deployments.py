"""The deployment time rule and onset provenance, on hand-made map rows (values worked out by hand).

One peacekeeping intervention; a registry camp at Gao dated 10 February 2013 (troops unknown); three
maps of a deployment source: April 2013 (Gao 100, matched to the registry camp; Mopti 40), June 2013
(Mopti 60) and September 2013 (Gao 400; Mopti, troops unknown).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pytest

from entangle.errors import PanelError
from entangle.geo.units import priogrid_gid
from entangle.panel import PanelSpec, build_panel, registry_sites
from entangle.panel.deployments import DeploymentRule, split_by
from entangle.panel.io import stack_sites

D = dt.date
GAO, MOPTI = (16.27, -0.04), (14.30, -4.20)  # both within 25 km of their cell centre
NA = None


def _gid(lat, lon):
    return int(priogrid_gid(np.array([lat]), np.array([lon]))[0])


def _maps():
    rows = [  # month, place, troops, registry site it matched
        ((2013, 4), "Gao", GAO, 100, "reg_gao"),
        ((2013, 4), "Mopti", MOPTI, 40, None),
        ((2013, 6), "Mopti", MOPTI, 60, None),
        ((2013, 9), "Gao", GAO, 400, "reg_gao"),
        ((2013, 9), "Mopti", MOPTI, None, None),
    ]
    last = {4: 30, 6: 30, 9: 30}
    return pa.table(
        {
            "site_id": [f"geopko:{p}:{y}-{m}" for (y, m), p, *_ in rows],
            "source": ["geopko"] * len(rows),
            "source_version": ["Geo-PKO test map-level"] * len(rows),
            "intervention_id": ["un"] * len(rows),
            "registry_site_id": [r[4] for r in rows],
            "name": [r[1] for r in rows],
            "lat": [r[2][0] for r in rows],
            "lon": [r[2][1] for r in rows],
            "start": pa.array([D(y, m, 1) for (y, m), *_ in rows], pa.date32()),
            "end": pa.array([D(y, m, last[m]) for (y, m), *_ in rows], pa.date32()),
            "period": ["month"] * len(rows),
            "troops": pa.array([r[3] for r in rows], pa.int64()),
        }
    )


@pytest.fixture
def world(helpers):
    reg = helpers.registry(
        interventions=[helpers.intervention("un", "peacekeeping")],
        sites=[helpers.site("reg_gao", "un", *GAO, start=D(2013, 2, 10))],
    )
    return reg, stack_sites(registry_sites(reg), _maps())


def _build(helpers, world, rule, period="month", **kw):
    reg, sites = world
    spec = PanelSpec(
        start=D(2013, 1, 1), end=D(2014, 12, 31), period=period, deployments=DeploymentRule(rule, **kw)
    )
    table = build_panel(helpers.events([]), sites, reg, spec)
    return table.to_pandas(), json.loads(table.schema.metadata[b"entangle"])


def _series(df, place, column="troops_peacekeeping_25km"):
    cell = df[df.unit_id == _gid(*place)].set_index("period")[column]
    return [None if np.isnan(v) else v for v in cell.astype(float)]


# Jan 2013 .. Dec 2014, by hand. None = a site in range whose troop figure is unknown (NULL).
GAO_CARRY = [0, NA, NA, 100, 100, NA, NA, NA] + [400] * 12 + [NA] * 4
MOPTI_CARRY = [0, 0, 0, 40, 40, 60, 60, 60] + [NA] * 12 + [0] * 4
GAO_MAP = [0, NA, NA, 100, NA, NA, NA, NA, 400] + [NA] * 15
MOPTI_MAP = [0, 0, 0, 40, 0, 60, 0, 0, NA] + [0] * 15
MOPTI_INTERP = [0, 0, 0, 40, 50, 60, 60, 60] + [NA] * 12 + [0] * 4


@pytest.mark.parametrize(
    "rule, gao, mopti",
    [
        ("carry_forward", GAO_CARRY, MOPTI_CARRY),
        ("map_month", GAO_MAP, MOPTI_MAP),
        ("interpolate", GAO_CARRY, MOPTI_INTERP),  # Gao is not on the June map: no interpolation
    ],
)
def test_troops_under_each_rule(helpers, world, rule, gao, mopti):
    df, meta = _build(helpers, world, rule)
    assert _series(df, GAO) == gao
    assert _series(df, MOPTI) == mopti
    assert meta["deployments"] == {"rule": rule, "max_gap_months": 12}
    # presence never depends on the troop figure: the registry camp keeps Gao present from February
    assert _series(df, GAO, "present_peacekeeping_25km")[:2] == [0, 1]


def test_a_row_holds_at_most_the_gap(helpers, world):
    df, meta = _build(helpers, world, "carry_forward", max_gap_months=2)
    # June's row holds June and July (August is then not covered), September's September and October
    assert _series(df, MOPTI)[5:12] == [60, 60, 0, NA, NA, 0, 0]
    assert meta["deployment_coverage"] == {
        "geopko": {"un": [["2013-04-01", "2013-07-31"], ["2013-09-01", "2013-10-31"]]}
    }


def test_quarters_take_the_mean_over_held_months(helpers, world):
    df, _ = _build(helpers, world, "carry_forward", period="quarter")
    # Q2 2013 at Mopti: April 40, May 40, June 60
    assert _series(df, MOPTI)[1] == pytest.approx(140 / 3)
    # Q2 at Gao: April-May from the map, June the registry camp alone (figure unknown)
    assert _series(df, GAO)[1] is None


def test_onsets_list_units_first_exposed_when_coverage_starts(helpers, world):
    df, meta = _build(helpers, world, "carry_forward")
    onsets = meta["onsets"]
    assert onsets["coverage_start"] == {"geopko": "2013-04-01"}
    mopti = str(_gid(*MOPTI))
    # Gao was exposed from February (the registry camp's own opening): not censored
    assert onsets["left_censored"]["present_peacekeeping_25km"] == [mopti]
    # every column: exactly the units whose first exposed month (read off the panel) is April 2013
    for column in ("present_peacekeeping_50km", "nb_present_peacekeeping"):
        exposed = df[df[column] > 0]
        first = exposed.groupby("unit_id").period.min()
        assert sorted(onsets["left_censored"][column]) == sorted(
            str(u) for u in first[first == D(2013, 4, 1)].index
        )
    assert set(onsets["left_censored"]) == {
        "present_peacekeeping_25km",
        "present_peacekeeping_50km",
        "nb_present_peacekeeping",
    }
    assert meta["deployment_coverage"] == {"geopko": {"un": [["2013-04-01", "2014-08-31"]]}}


def test_bad_rule_is_refused():
    with pytest.raises(PanelError, match="unknown rule 'weekly'"):
        PanelSpec(start=D(2013, 1, 1), end=D(2013, 2, 1), deployments=DeploymentRule("weekly")).validate()


def test_split_by_coverage():
    d = np.datetime64
    covered = [(d("2013-04-01"), d("2013-05-31")), (d("2013-09-01"), d("2014-08-31"))]
    parts = split_by(d("2013-02-10"), d("NaT"), covered)
    assert [(str(a), str(b), inside) for a, b, inside in parts] == [
        ("2013-02-10", "2013-03-31", False),
        ("2013-04-01", "2013-05-31", True),
        ("2013-06-01", "2013-08-31", False),
        ("2013-09-01", "2014-08-31", True),
        ("2014-09-01", "NaT", False),
    ]
    assert split_by(d("2013-05-01"), d("2013-05-20"), covered) == [(d("2013-05-01"), d("2013-05-20"), True)]
