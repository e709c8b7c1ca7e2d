"""Source grades, provision terms and the audit, on edited copies of the tiny theatre.

Expected lines come from searching the edited fixture text; expected audit rows are written out by
hand from the fixture (every other fact of tiny is graded primary/research at day precision).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from entangle.errors import RegistryErrors
from entangle.registry import load_registry, to_tables
from entangle.registry.audit import audit

TINY = Path(__file__).parent / "fixtures" / "tiny"
T1_SOURCES = 'sources: [{ref: "S/2020/1", date: 2020-03-01, grade: primary}]'
T3_SOURCES = 'sources: [{ref: "S/RES/0002 (2019)", date: 2019-12-01, grade: primary}]'
MANDATE2_PROVISIONS = "provisions: [protection_of_civilians, support_to_partner]"


def copy_with(tmp_path: Path, file: str, old: str, new: str, nth: int = 1) -> tuple[Path, str]:
    """A copy of tiny with the ``nth`` occurrence of ``old`` in ``file`` replaced by ``new``."""
    root = tmp_path / "theatre"
    if not root.exists():
        shutil.copytree(TINY, root)
    text = (root / file).read_text(encoding="utf-8")
    at = -1
    for _ in range(nth):
        at = text.index(old, at + 1)
    text = text[:at] + new + text[at + len(old) :]
    (root / file).write_text(text, encoding="utf-8")
    return root, text


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


# --- grades -------------------------------------------------------------------------------------


def test_tiny_is_fully_graded_and_warns_about_nothing(cli):
    code, out, err = cli("registry", "validate", TINY)
    assert (code, err) == (0, "")
    assert out.endswith("; 0 warning(s)\n")


def test_an_ungraded_fact_is_flagged_with_its_line(tmp_path, cli):
    root, text = copy_with(
        tmp_path, "ties.yaml", T1_SOURCES, 'sources: [{ref: "S/2020/1", date: 2020-03-01}]'
    )
    code, out, err = cli("registry", "validate", root)
    assert code == 0
    line = line_of(text, 'sources: [{ref: "S/2020/1", date: 2020-03-01}]')
    assert err == (
        f"warning: {root / 'ties.yaml'}:{line}: t1: no source graded above aggregator (1 ungraded) "
        "(cite the document itself, a research report or a named outlet, "
        "with grade: primary | research | press)\n"
    )
    assert out.endswith("; 1 warning(s)\n")


def test_an_aggregator_only_fact_is_flagged_and_one_better_source_clears_it(tmp_path, cli):
    aggregated = 'sources: [{ref: "Mirror of S/2020/1", url: "https://mirror.example/1", grade: aggregator}]'
    root, _ = copy_with(tmp_path, "ties.yaml", T1_SOURCES, aggregated)
    registry = load_registry(root)
    assert [str(w).split(": ", 2)[1:] for w in registry.warnings] == [
        [
            "t1",
            "no source graded above aggregator (1 aggregator) (cite the document itself, a research report "
            "or a named outlet, with grade: primary | research | press)",
        ]
    ]
    with_press = aggregated.replace("}]", '}, {ref: "Outlet, report", grade: press}]')
    root, _ = copy_with(tmp_path, "ties.yaml", aggregated, with_press)
    assert load_registry(root).warnings == ()


def test_mixed_ungraded_and_aggregator_sources_are_both_counted(tmp_path):
    mixed = (
        'sources: [{ref: "Copy one", grade: aggregator}, {ref: "Copy two"}, '
        '{ref: "Copy three", grade: aggregator}]'
    )
    root, _ = copy_with(
        tmp_path, "sites.yaml", 'sources: [{ref: "Communiqué A-1", date: 2020-01-01, grade: primary}]', mixed
    )
    (warning,) = load_registry(root).warnings
    assert warning.what == "ct_base: no source graded above aggregator (1 ungraded, 2 aggregator)"


def test_a_grade_outside_the_vocabulary_is_an_error(tmp_path, cli):
    root, text = copy_with(tmp_path, "ties.yaml", T1_SOURCES, T1_SOURCES.replace("primary", "official"))
    code, out, err = cli("registry", "validate", root)
    assert (code, out) == (2, "")
    line = line_of(text, "grade: official")
    assert err.startswith(
        f"error: {root / 'ties.yaml'}:{line}: t1: sources[0].grade: Input should be 'primary'"
    )


def test_grades_reach_tables_and_show(cli):
    tables = to_tables(load_registry(TINY))
    pmc = next(r for r in tables["interventions"].to_pylist() if r["id"] == "pmc")
    assert [s["grade"] for s in json.loads(pmc["sources"])] == ["research"]
    code, out, _ = cli("registry", "show", "--at", "2021-06-01", "--format", "json", "--registry", TINY)
    assert code == 0
    shown = json.loads(out)
    assert {s["grade"] for i in shown["interventions"] for s in i["sources"]} == {"primary", "research"}


# --- provision terms ----------------------------------------------------------------------------

TERMS = """provisions:
    - protection_of_civilians
    - provision: support_to_partner
      recipient: state
      conditions: [hrddp, compliance_framework]
      note: "OP 9: support to the national forces"
"""


def test_provision_terms_keep_names_and_recipients(tmp_path, cli):
    root, _ = copy_with(tmp_path, "mandates.yaml", MANDATE2_PROVISIONS, TERMS)
    mandate = load_registry(root).mandates[1]
    # hrddp is implied by the condition; compliance_framework is a condition, not a provision.
    assert mandate.provisions == ["protection_of_civilians", "support_to_partner", "hrddp"]
    (term,) = mandate.support_to("state")
    assert (term.recipient, term.conditions) == ("state", ["hrddp", "compliance_framework"])
    assert mandate.support_to("ct") == []
    row = to_tables(load_registry(root))["mandates"].to_pylist()[1]
    assert row["provisions"] == ["protection_of_civilians", "support_to_partner", "hrddp"]
    assert json.loads(row["provision_terms"]) == [
        {
            "provision": "support_to_partner",
            "recipient": "state",
            "conditions": ["hrddp", "compliance_framework"],
            "note": "OP 9: support to the national forces",
        }
    ]
    code, out, _ = cli("registry", "show", "--at", "2020-08-01", "--format", "json", "--registry", root)
    assert code == 0
    (shown,) = json.loads(out)["mandates"]
    assert shown["provision_terms"] == [
        {
            "provision": "support_to_partner",
            "recipient": "state",
            "conditions": ["hrddp", "compliance_framework"],
            "note": "OP 9: support to the national forces",
        }
    ]
    # Plain names still give an empty term list.
    assert json.loads(to_tables(load_registry(TINY))["mandates"].to_pylist()[1]["provision_terms"]) == []


def test_an_unknown_recipient_is_an_error_on_the_provisions_line(tmp_path):
    root, text = copy_with(
        tmp_path, "mandates.yaml", MANDATE2_PROVISIONS, TERMS.replace("recipient: state", "recipient: stat")
    )
    with pytest.raises(RegistryErrors) as info:
        load_registry(root)
    (problem,) = info.value.problems
    provisions_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "provisions:")
    assert problem.where == f"{root / 'mandates.yaml'}:{provisions_line}"
    assert problem.what == "S/RES/0003 (2020): support_to_partner recipient 'stat' is not an intervention"
    assert problem.hint == "did you mean state?"


def test_a_bad_condition_points_at_the_provisions_key(tmp_path):
    root, text = copy_with(
        tmp_path, "mandates.yaml", MANDATE2_PROVISIONS, TERMS.replace("compliance_framework", "vetting")
    )
    with pytest.raises(RegistryErrors) as info:
        load_registry(root)
    (problem,) = info.value.problems
    provisions_line = next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == "provisions:")
    assert problem.where == f"{root / 'mandates.yaml'}:{provisions_line}"
    assert "provision_terms[0].conditions[1]" in problem.what


# --- audit --------------------------------------------------------------------------------------


def test_audit_of_tiny_lists_its_one_month_precision_date(cli):
    expected = [
        {
            "table": "interventions",
            "id": "trainer",
            "finding": "precision",
            "value": "month",
            "detail": "start 2020-03-01 known to the month",
        }
    ]
    assert audit(load_registry(TINY)) == expected
    code, out, _ = cli("registry", "audit", "--format", "json", "--registry", TINY)
    assert code == 0
    assert json.loads(out) == expected


def test_audit_lists_press_only_aggregator_only_and_inferred_facts(tmp_path, cli):
    copy_with(tmp_path, "ties.yaml", T1_SOURCES, 'sources: [{ref: "Outlet, report", grade: press}]')
    copy_with(tmp_path, "ties.yaml", T3_SOURCES, 'sources: [{ref: "A repost", grade: aggregator}]')
    root, _ = copy_with(
        tmp_path,
        "ties.yaml",
        "  type: intelligence_sharing\n",
        "  type: intelligence_sharing\n  inferred: true\n",
    )
    rows = audit(load_registry(root))
    assert [(r["table"], r["id"], r["finding"], r["value"]) for r in rows] == [
        ("interventions", "trainer", "precision", "month"),
        ("ties", "t1", "best_source", "press"),
        ("ties", "t2", "inferred", "true"),
        ("ties", "t3", "best_source", "aggregator"),
    ]
    assert rows[2]["detail"] == "2020-02-01..2020-05-31; see its note"
    assert rows[3]["detail"] == "1 source(s): aggregator"
    code, out, _ = cli("registry", "audit", "--registry", root)
    assert code == 0
    assert "t3" in out and out.rstrip().endswith("2 best_source, 1 precision, 1 inferred")


# --- the bundled Mali theatre -------------------------------------------------------------------

RANK = {"primary": 3, "research": 2, "press": 1, "aggregator": 0}


def mali_facts(bundled: Path) -> list[dict]:
    facts = []
    for file in ("interventions.yaml", "mandates.yaml", "ties.yaml", "sites.yaml"):
        facts.extend(yaml.safe_load((bundled / file).read_text(encoding="utf-8")))
    return facts


def test_every_mali_source_is_graded_and_no_fact_rests_on_aggregators(cli):
    from entangle.registry import bundled_path

    facts = mali_facts(bundled_path())
    # Read with plain PyYAML, independently of the loader.
    assert all(source.get("grade") in RANK for fact in facts for source in fact["sources"])
    weakest = [fact for fact in facts if max(RANK[s["grade"]] for s in fact["sources"]) == 0]
    assert weakest == []
    code, out, _ = cli("registry", "audit", "--format", "json")
    assert code == 0
    best = [row for row in json.loads(out) if row["finding"] == "best_source"]
    assert {row["value"] for row in best} == {"press"}
    press_only = sum(max(RANK[s["grade"]] for s in fact["sources"]) == 1 for fact in facts)
    assert len(best) == press_only


def test_report_records_carry_the_grade_of_every_source():
    from entangle.report.assemble import registry_records

    records = registry_records(load_registry(TINY))
    grades = [s["grade"] for rows in records.values() for row in rows for s in row["sources"]]
    assert len(grades) == 20  # every source of the fixture: 7 + 2 + 8 + 3 facts, one source each
    assert set(grades) == {"primary", "research"}
