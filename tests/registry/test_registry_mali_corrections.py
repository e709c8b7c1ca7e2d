"""Issue 12's corrections to the bundled Mali registry, read back through `entangle registry show --at`.

Each expectation is the dated fact as its source states it (the note in the YAML names the source),
written out here by hand: the day before and after a corrected date, and the provisions a resolution
carries on a day it was in force.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest


@pytest.fixture
def show(cli):
    def on(day: str) -> dict:
        code, out, err = cli("registry", "show", "--at", day, "--format", "json")
        assert code == 0, err
        return json.loads(out)

    return on


def tie_ids(state: dict) -> set[str]:
    return {t["id"] for t in state["ties"]}


def mandate(state: dict, document: str) -> dict:
    (found,) = [m for m in state["mandates"] if m["document"] == document]
    return found


def hosts(items: list[dict]) -> set[str]:
    return {urlparse(s["url"]).hostname for item in items for s in item["sources"] if s.get("url")}


def test_takuba_fama_joint_operations_stop_in_february_2022_training_runs_to_june(show):
    # AFP via Faso7: joint operations stopped in February 2022 (month precision: 2022-02-01).
    assert "takuba_fama_joint_operations" in tie_ids(show("2022-01-31"))
    assert "takuba_fama_joint_operations" in tie_ids(show("2022-02-01"))
    march = tie_ids(show("2022-03-15"))
    assert "takuba_fama_joint_operations" not in march
    assert {"takuba_fama_training", "barkhane_takuba_command"} <= march
    assert "takuba_fama_training" in tie_ids(show("2022-06-30"))
    assert "takuba_fama_training" not in tie_ids(show("2022-07-01"))


def test_eu_training_of_the_malian_forces_pauses_after_the_august_2020_coup(show):
    eutm, eutm_back = "eutm_mali_fama_training", "eutm_mali_fama_training_resumed"
    eucap, eucap_back = "eucap_sahel_mali_fama_training", "eucap_sahel_mali_fama_training_resumed"
    eu_training = {eutm, eutm_back, eucap, eucap_back}
    # Hold announced on 26 August 2020 (AFP via The National); EUTM back from November 2020 (B2,
    # Maliweb); EUCAP's resumption inferred from the 15 January 2021 mandate.
    assert tie_ids(show("2020-08-25")) & eu_training == {
        "eutm_mali_fama_training",
        "eucap_sahel_mali_fama_training",
    }
    assert tie_ids(show("2020-09-15")) & eu_training == set()
    assert tie_ids(show("2020-11-15")) & eu_training == {eutm_back}
    assert tie_ids(show("2021-02-01")) & eu_training == {eutm_back, eucap_back}
    assert tie_ids(show("2022-05-01")) & eu_training == {eucap_back}


def test_french_forces_authorisation_is_cut_where_no_resolution_text_was_read(show):
    # 2295 (SC/12426) authorises until the end of MINUSMA's mandate, 30 June 2017; 2531 (SC/14235)
    # from 1 July 2020; 2640 is the first renewal without it.
    authorisations = {"barkhane_minusma_authorization", "barkhane_minusma_authorization_2020"}
    assert tie_ids(show("2017-06-30")) & authorisations == {"barkhane_minusma_authorization"}
    assert tie_ids(show("2019-12-01")) & authorisations == set()
    assert tie_ids(show("2020-07-01")) & authorisations == {"barkhane_minusma_authorization_2020"}
    assert tie_ids(show("2022-07-01")) & authorisations == set()


def test_resolution_2480_carries_no_counterterrorism_or_support_provision(show):
    state = show("2019-12-01")
    res_2480 = mandate(state, "S/RES/2480 (2019)")
    assert res_2480["provisions"] == [
        "political_process",
        "protection_of_civilians",
        "stabilization",
        "use_of_force",
    ]
    assert res_2480["provision_terms"] == []
    # The support to the Joint Force that day rests on 2391, which is in force with its HRDDP condition.
    (term,) = mandate(state, "S/RES/2391 (2017)")["provision_terms"]
    assert (term["recipient"], term["conditions"]) == ("g5s_jf", ["hrddp", "compliance_framework"])


@pytest.mark.parametrize(
    ("day", "document", "recipient", "conditions"),
    [
        ("2013-12-01", "S/RES/2100 (2013)", "fama", ["hrddp"]),
        ("2018-06-01", "S/RES/2364 (2017)", "fama", []),
        ("2018-12-01", "S/RES/2423 (2018)", "fama", []),
        ("2021-01-01", "S/RES/2531 (2020)", "g5s_jf", ["hrddp"]),
        ("2021-12-01", "S/RES/2584 (2021)", "g5s_jf", []),
    ],
)
def test_support_to_partner_terms_name_their_recipient(show, day, document, recipient, conditions):
    terms = [
        t for t in mandate(show(day), document)["provision_terms"] if t["provision"] == "support_to_partner"
    ]
    assert [(t["recipient"], t["conditions"]) for t in terms] == [(recipient, conditions)]


@pytest.mark.parametrize(
    ("day", "document", "recipients"),
    [
        ("2014-01-01", "S/RES/2100 (2013)", ["serval"]),
        ("2015-01-01", "S/RES/2164 (2014)", ["serval", "barkhane"]),
        ("2016-01-01", "S/RES/2227 (2015)", ["barkhane"]),
        ("2017-01-01", "S/RES/2295 (2016)", ["barkhane"]),
        ("2018-01-01", "S/RES/2364 (2017)", []),
        ("2019-01-01", "S/RES/2423 (2018)", []),
        ("2020-01-01", "S/RES/2480 (2019)", []),
        ("2021-01-01", "S/RES/2531 (2020)", ["barkhane"]),
        ("2022-01-01", "S/RES/2584 (2021)", ["barkhane"]),
        ("2023-01-01", "S/RES/2640 (2022)", []),
    ],
)
def test_french_forces_provision_per_minusma_resolution(show, day, document, recipients):
    terms = mandate(show(day), document)["provision_terms"]
    assert [t["recipient"] for t in terms if t["provision"] == "counterterrorism"] == recipients


def test_hrddp_and_human_rights_provisions_where_the_sources_state_them(show):
    assert "hrddp" in mandate(show("2013-12-01"), "S/RES/2100 (2013)")["provisions"]
    assert "human_rights" in mandate(show("2014-12-01"), "S/RES/2164 (2014)")["provisions"]
    assert "hrddp" in mandate(show("2021-01-01"), "S/RES/2531 (2020)")["provisions"]
    # 2640 no longer codes support to partners (its only source for that was a staging-host copy).
    res_2640 = mandate(show("2022-12-01"), "S/RES/2640 (2022)")
    assert "support_to_partner" not in res_2640["provisions"]
    assert "homsy-staging.cambridgecore.org" not in hosts([res_2640])


def test_g5_sahel_interim_headquarters_is_badalabougou(show):
    # Sévaré (destroyed 29 June 2018) -> Badalabougou, Bamako (from September 2018) -> Sénou (3 June 2020).
    (site,) = [s for s in show("2019-06-01")["sites"] if s["intervention"] == "g5s_jf"]
    assert (site["id"], site["name"]) == ("g5s_jf_bamako_interim", "Bamako (interim headquarters)")
    (site,) = [s for s in show("2020-06-03")["sites"] if s["intervention"] == "g5s_jf"]
    assert site["id"] == "g5s_jf_senou_hq"
    from entangle.registry import load_registry

    (interim,) = [s for s in load_registry().sites if s.id == "g5s_jf_bamako_interim"]
    assert "Badalabougou" in interim.aliases
    assert "in the Badalabougou district" in interim.note


def test_wagner_statement_is_cited_from_the_french_ministry_not_a_tourist_office(show):
    (wagner,) = [i for i in show("2022-06-01")["interventions"] if i["id"] == "wagner"]
    assert "tourisme-muzillac.com" not in hosts([wagner])
    assert "www.diplomatie.gouv.fr" in hosts([wagner])


def test_operation_sabre_is_present_from_11_january_2013_to_the_french_departure(show):
    assert "sabre" not in {i["id"] for i in show("2013-01-10")["interventions"]}
    assert "sabre" in {i["id"] for i in show("2013-01-11")["interventions"]}
    assert "sabre" in {i["id"] for i in show("2022-08-15")["interventions"]}
    assert "sabre" not in {i["id"] for i in show("2022-08-16")["interventions"]}


def test_barkhane_carries_the_2022_withdrawal_sequence(show):
    (barkhane,) = [i for i in show("2022-06-01")["interventions"] if i["id"] == "barkhane"]
    dates = {s["date"] for s in barkhane["sources"]}
    assert {"2022-02-17", "2022-02-18", "2022-05-02"} <= dates


@pytest.mark.parametrize(
    ("day", "documents"),
    [
        ("2019-01-10", ["Council Decision (CFSP) 2017/50"]),
        ("2019-02-01", ["Council Decision (CFSP) 2018/2008"]),
        ("2019-06-01", ["Council Decision (CFSP) 2019/312", "Council Decision (CFSP) 2019/762"]),
        ("2023-01-31", ["Council Decision (CFSP) 2021/14"]),
        ("2023-02-01", ["Council Decision (CFSP) 2023/96"]),
        ("2025-01-31", ["Council Decision (CFSP) 2023/96"]),
    ],
)
def test_eucap_mandate_coverage_runs_to_january_2025(show, day, documents):
    shown = [m["document"] for m in show(day)["mandates"] if m["intervention"] == "eucap_sahel_mali"]
    assert shown == documents


def test_every_source_shown_carries_a_grade(show):
    state = show("2021-01-01")
    grades = {
        s["grade"]
        for table in ("interventions", "mandates", "ties")
        for item in state[table]
        for s in item["sources"]
    }
    assert grades <= {"primary", "research", "press", "aggregator"}
    assert None not in grades


def test_the_docs_example_on_conditioned_support():
    """docs/registry.md, 'Provision terms': the printed lines, as written there."""
    import datetime as dt

    from entangle.registry import load_registry

    registry = load_registry()
    lines = [
        f"{m.document} {recipient} {'hrddp' in term.conditions}"
        for m in registry.at(dt.date(2018, 6, 1)).mandates
        for recipient in ("fama", "g5s_jf")
        for term in m.support_to(recipient)
    ]
    assert lines == [
        "S/RES/2364 (2017) fama False",
        "S/RES/2391 (2017) g5s_jf True",
        "Council Decision (CFSP) 2018/716 fama False",
        "Council Decision (CFSP) 2018/716 g5s_jf False",
        "Council Decision (CFSP) 2017/50 fama False",
    ]


def test_barkhane_minusma_coordination_is_documented_from_june_2015(show):
    # Reuters via defenceWeb: additional Barkhane liaison officers announced on 22 June 2015.
    assert "barkhane_minusma_coordination" not in tie_ids(show("2015-06-21"))
    assert "barkhane_minusma_coordination" in tie_ids(show("2015-06-22"))
    assert "barkhane_minusma_coordination" in tie_ids(show("2016-06-01"))
