"""The bundled Mali registry validates and answers the questions issue 2 asks of it."""

from __future__ import annotations

import datetime as dt

from entangle.registry import bundled_path, load_registry
from entangle.registry.network import period_metrics

REQUIRED = {"minusma", "afisma", "serval", "barkhane", "g5s_jf", "takuba", "eutm_mali", "eucap_sahel_mali"}


def test_bundled_mali_registry_validates(cli):
    code, out, err = cli("registry", "validate")
    assert code == 0, err
    assert out.startswith(f"ok: {bundled_path()}: theatre mali:")


def test_bundled_mali_registry_content():
    registry = load_registry()
    assert registry.theatre.id == "mali"
    assert {i.id for i in registry.interventions} >= REQUIRED
    assert registry.intervention("minusma").kind == "peacekeeping"
    kinds = {i.kind for i in registry.interventions}
    assert {"peacekeeping", "counterterrorism", "state_forces", "private_military"} <= kinds
    minusma_mandates = [m for m in registry.mandates if m.intervention_id == "minusma"]
    assert any("2100" in m.document for m in minusma_mandates)
    assert any("2690" in m.document for m in minusma_mandates)
    in_force = registry.at(dt.date(2018, 6, 1))
    assert {"minusma", "barkhane", "g5s_jf"} <= {i.id for i in in_force.interventions}
    assert all(
        fact.sources
        for fact in (*registry.interventions, *registry.mandates, *registry.ties, *registry.sites)
    )


def test_bundled_mali_monthly_metrics_cover_2012_2023():
    rows = period_metrics(load_registry(), "month", dt.date(2012, 1, 1), dt.date(2023, 12, 31))
    assert len(rows) == 144
    by_month = {row["period"]: row for row in rows}
    assert by_month[dt.date(2018, 6, 1)]["pk_mission"] == "minusma"
    assert by_month[dt.date(2018, 6, 1)]["pk_ct_ties"] >= 1
