"""The civilian-harm definitions on hand-made events, including tables without civilian_targeting."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from entangle.errors import PanelError
from entangle.panel import PanelSpec, build_panel, registry_sites
from entangle.panel.civilians import apply_civilian_definition

ROWS = [  # source, event_type, violence_type, target_civilians, civilian_targeting, civilian deaths
    ("acled", "Violence against civilians", "political_violence", True, True, 5),
    ("acled", "Explosions/Remote violence", "political_violence", True, False, 7),  # civilians actor 2
    ("acled", "Battles", "political_violence", False, False, 0),
    ("ucdp", "one-sided violence", "one_sided", True, True, 11),
    ("ucdp", "state-based conflict", "state_based", False, False, 3),  # civilians died in fighting
]


def _events(with_flag: bool) -> pa.Table:
    cols = {
        "source": [r[0] for r in ROWS],
        "event_type": [r[1] for r in ROWS],
        "violence_type": [r[2] for r in ROWS],
        "target_civilians": [r[3] for r in ROWS],
        "civilian_fatalities": pa.array([r[5] for r in ROWS], pa.int32()),
    }
    if with_flag:
        cols["civilian_targeting"] = [r[4] for r in ROWS]
    return pa.table(cols)


@pytest.mark.parametrize("with_flag", [True, False])
def test_definitions(with_flag):
    targeting = apply_civilian_definition(_events(with_flag), "targeting")
    assert targeting.column("civilian_fatalities").to_pylist() == [5, 0, 0, 11, 0]
    assert targeting.column("civilian_event").to_pylist() == [1, 0, 0, 1, 0]
    wide = apply_civilian_definition(_events(with_flag), "any_civilian_victim")
    assert wide.column("civilian_fatalities").to_pylist() == [5, 7, 0, 11, 3]
    assert wide.column("civilian_event").to_pylist() == [1, 1, 0, 1, 1]


def test_civilian_events_by_category_in_the_panel(helpers):
    reg = helpers.registry()
    base = {"date_start": dt.date(2013, 1, 5), "lat": 16.3, "lon": -0.1}
    events = helpers.events(
        [
            {**base, "perpetrator_category": "jihadist", "civilian_fatalities": 4},
            {**base, "perpetrator_category": "jihadist", "civilian_fatalities": 1},
            {**base, "perpetrator_category": "state_and_allied", "civilian_fatalities": 2},
            {**base, "perpetrator_category": "militia", "civilian_fatalities": 0},
        ]
    )
    spec = PanelSpec(start=dt.date(2013, 1, 1), end=dt.date(2013, 1, 31))
    df = build_panel(events, registry_sites(reg), reg, spec).to_pandas()
    row = df[df.events > 0].iloc[0]
    assert (row.civilian_events, row.civilian_events_jihadist, row.civilian_events_state_and_allied) == (
        3,
        2,
        1,
    )
    assert row.civilian_events_militia == 0 and row.civilian_fatalities_jihadist == 5
    with pytest.raises(PanelError, match="unknown definition 'deaths'"):
        PanelSpec(start=dt.date(2013, 1, 1), end=dt.date(2013, 1, 31), civilian="deaths").validate()
