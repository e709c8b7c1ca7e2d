"""Loading a theatre directory: the valid fixture, and one test per kind of bad input.

Expected lines are found by searching the fixture text for the offending line (a second method,
independent of the YAML parser's marks).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from entangle.errors import RegistryError, RegistryErrors
from entangle.registry import load_registry

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line of the ``nth`` line containing ``needle``."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[nth - 1]


def edited(tmp_path: Path, file: str, old: str, new: str) -> tuple[Path, str]:
    """A copy of the tiny theatre with ``old`` replaced by ``new`` (exactly once) in ``file``."""
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    text = (root / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {file}"
    text = text.replace(old, new)
    (root / file).write_text(text, encoding="utf-8")
    return root, text


def problems(path: Path) -> list[RegistryError]:
    with pytest.raises(RegistryErrors) as info:
        load_registry(path)
    return info.value.problems


def only_problem(path: Path) -> RegistryError:
    found = problems(path)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# --- the valid fixture -------------------------------------------------------------------------


def test_tiny_theatre_loads_with_values_in_file_order():
    registry = load_registry(TINY)
    assert registry.counts() == {"interventions": 7, "mandates": 2, "ties": 8, "sites": 3}
    assert [i.id for i in registry.interventions] == ["pk0", "pk", "ct", "state", "trainer", "pmc", "eu"]
    assert registry.theatre.id == "tiny"
    assert registry.theatre.start == dt.date(2020, 1, 1)
    ct = registry.intervention("ct")
    assert (ct.kind, ct.start, ct.end) == ("counterterrorism", dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert ct.sources[0].url == "https://example.org/a1"
    assert registry.intervention("trainer").start_precision == "month"
    t8 = registry.ties[-1]
    assert (t8.id, t8.weight, t8.directed) == ("t8", 0.5, False)
    assert registry.sites[1].aliases == ["Nord"]
    assert registry.warnings == ()
    assert registry.path == TINY


def test_unknown_files_such_as_actors_yaml_are_ignored():
    assert (TINY / "actors.yaml").is_file()
    assert load_registry(TINY).counts()["interventions"] == 7


def test_unknown_intervention_lookup_suggests_close_ids():
    with pytest.raises(RegistryError, match=r"no intervention 'pk1'.*did you mean pk"):
        load_registry(TINY).intervention("pk1")


def test_at_keeps_what_was_in_force_that_day():
    day = load_registry(TINY).at(dt.date(2020, 7, 1))
    assert [i.id for i in day.interventions] == ["pk", "ct", "state"]  # pk0 ended, trainer ended 30 June
    assert [m.document for m in day.mandates] == ["S/RES/0003 (2020)"]
    assert [t.id for t in day.ties] == ["t1", "t3", "t4"]  # t2 ended 31 May, t6 with trainer
    assert [s.id for s in day.sites] == ["pk_capital", "ct_base"]


# --- missing and unreadable files --------------------------------------------------------------


def test_missing_directory(tmp_path):
    problem = only_problem(tmp_path / "nowhere")
    assert problem.where == str(tmp_path / "nowhere")
    assert problem.what == "no such registry directory"


def test_missing_file(tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    (root / "ties.yaml").unlink()
    problem = only_problem(root)
    assert problem.where == str(root / "ties.yaml")
    assert problem.what == "file is missing"
    assert "write [] if empty" in problem.hint


def test_missing_file_written_as_yml(tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    (root / "ties.yaml").rename(root / "ties.yml")
    assert only_problem(root).hint == "found ties.yml: rename it to ties.yaml"


def test_empty_file(tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    (root / "sites.yaml").write_text("# nothing yet\n")
    problem = only_problem(root)
    assert (problem.where, problem.what) == (f"{root / 'sites.yaml'}:1", "file is empty")


def test_explicit_empty_list_is_fine(tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    (root / "sites.yaml").write_text("[]\n")
    assert load_registry(root).sites == ()


def test_not_utf8(tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    (root / "mandates.yaml").write_bytes("- document: Communiqu\xe9\n".encode("latin-1"))
    problem = only_problem(root)
    assert problem.where == f"{root / 'mandates.yaml'}:1"
    assert problem.what.startswith("not UTF-8 text")


# --- malformed YAML ----------------------------------------------------------------------------


def test_malformed_yaml_names_the_line(tmp_path):
    root, text = edited(tmp_path, "ties.yaml", "  type: coordination\n", "  type: [coordination\n")
    problem = only_problem(root)
    assert problem.what.startswith("malformed YAML")
    # the unclosed flow sequence is detected at the next key, one line below
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'type: [coordination') + 1}"


def test_bad_indentation(tmp_path):
    root, text = edited(tmp_path, "sites.yaml", "  name: Air base\n", "   name: Air base\n")
    problem = only_problem(root)
    assert problem.what.startswith("malformed YAML")
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, '   name: Air base')}"


def test_duplicate_key_in_one_mapping(tmp_path):
    root, text = edited(
        tmp_path, "interventions.yaml", "  name: Training mission\n", "  name: A\n  name: B\n"
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'interventions.yaml'}:{line_of(text, 'name: B')}"
    assert problem.what == "malformed YAML: duplicate key 'name' in one mapping"


def test_top_level_mapping_instead_of_list(tmp_path):
    root = tmp_path / "theatre"
    shutil.copytree(TINY, root)
    (root / "mandates.yaml").write_text("# comment\nintervention_id: pk\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'mandates.yaml'}:2"
    assert problem.what == "expected a list of entries, each starting with '- ', found _Mapping"


def test_entry_that_is_not_a_mapping(tmp_path):
    root, _ = edited(tmp_path, "sites.yaml", "- id: ct_base\n", "- just a name\n- id: ct_base\n")
    problem = only_problem(root)
    assert problem.what == "entry 3 is a str, not a mapping of fields"


# --- schema violations -------------------------------------------------------------------------


def test_unknown_field(tmp_path):
    root, text = edited(tmp_path, "interventions.yaml", "  organization: Company C\n", "  organisation: C\n")
    found = problems(root)
    assert [(p.where, p.what) for p in found] == [
        (f"{root / 'interventions.yaml'}:{line_of(text, 'id: pmc')}", "pmc: missing field 'organization'"),
        (
            f"{root / 'interventions.yaml'}:{line_of(text, 'organisation')}",
            "pmc: unknown field 'organisation'",
        ),
    ]
    assert "organization" in found[1].hint


def test_unknown_field_inside_a_source(tmp_path):
    root, text = edited(
        tmp_path,
        "ties.yaml",
        '{ref: "S/2021/1", date: 2021-03-01, grade: primary}',
        '{ref: "S/2021/1", page: 3}',
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'page: 3')}"
    assert problem.what == "t7: unknown field 'sources[0].page'"
    assert problem.hint == "known fields: ref, date, url, note, grade"


def test_missing_field(tmp_path):
    root, text = edited(tmp_path, "sites.yaml", "  name: North camp\n", "")
    problem = only_problem(root)
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, 'id: pk_north')}"
    assert problem.what == "pk_north: missing field 'name'"


def test_kind_outside_the_vocabulary(tmp_path):
    root, text = edited(tmp_path, "interventions.yaml", "kind: counterterrorism", "kind: counter_terrorism")
    problem = only_problem(root)
    assert problem.where == f"{root / 'interventions.yaml'}:{line_of(text, 'counter_terrorism')}"
    assert problem.what.startswith("ct: kind: Input should be 'peacekeeping'")


def test_unquoted_yes_is_not_text(tmp_path):
    root, text = edited(tmp_path, "interventions.yaml", "  name: National forces\n", "  name: yes\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'interventions.yaml'}:{line_of(text, 'name: yes')}"
    assert problem.what == "state: name: True is not text"
    assert problem.hint.startswith("quote it")


def test_merge_keys_may_be_overridden(tmp_path):
    root, _ = edited(
        tmp_path,
        "mandates.yaml",
        "- intervention_id: pk\n  document: S/RES/0003",
        "- <<: *first\n  document: S/RES/0004 (2020)\n- intervention_id: pk\n  document: S/RES/0003",
    )
    text = (
        (root / "mandates.yaml")
        .read_text()
        .replace("- intervention_id: pk\n", "- &first\n  intervention_id: pk\n", 1)
    )
    (root / "mandates.yaml").write_text(text)
    registry = load_registry(root)
    assert [m.document for m in registry.mandates] == [
        "S/RES/0002 (2019)",
        "S/RES/0004 (2020)",
        "S/RES/0003 (2020)",
    ]
    assert registry.mandates[1].authorized_troops == 1000  # merged from the anchor


def test_impossible_date(tmp_path):
    root, text = edited(tmp_path, "ties.yaml", "  start: 2021-06-01\n", "  start: 2021-06-31\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, '2021-06-31')}"
    assert problem.what.startswith("t8: start: '2021-06-31' is not a valid date")
    assert "YYYY-MM-DD" in problem.hint


def test_date_in_words(tmp_path):
    root, text = edited(tmp_path, "mandates.yaml", "adopted: 2020-06-29", "adopted: June 2020")
    problem = only_problem(root)
    assert problem.where == f"{root / 'mandates.yaml'}:{line_of(text, 'June 2020')}"
    assert problem.what.startswith("S/RES/0003 (2020): adopted: 'June 2020' is not a valid date")


def test_bare_year_is_not_a_date(tmp_path):
    root, text = edited(
        tmp_path,
        "interventions.yaml",
        '  start: 2021-01-01\n  sources: [{ref: "Smith',
        '  start: 2021\n  sources: [{ref: "Smith',
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'interventions.yaml'}:{line_of(text, 'start: 2021', nth=1)}"
    assert problem.what.startswith("pmc: start: 2021 is not a valid date")


def test_end_before_start(tmp_path):
    root, text = edited(tmp_path, "interventions.yaml", "  end: 2020-06-30\n", "  end: 2020-02-28\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'interventions.yaml'}:{line_of(text, 'end: 2020-02-28')}"
    assert problem.what == "trainer: end 2020-02-28 is before start 2020-03-01"


def test_mandate_in_force_to_before_from(tmp_path):
    root, text = edited(tmp_path, "mandates.yaml", "in_force_to: 2020-06-30", "in_force_to: 2019-06-30")
    problem = only_problem(root)
    assert problem.where == f"{root / 'mandates.yaml'}:{line_of(text, 'in_force_to: 2019-06-30')}"
    assert problem.what == "S/RES/0002 (2019): in_force_to 2019-06-30 is before in_force_from 2020-01-01"


def test_latitude_out_of_range(tmp_path):
    root, text = edited(tmp_path, "sites.yaml", "lat: 18.25", "lat: 123")
    problem = only_problem(root)
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, 'lat: 123')}"
    assert problem.what == "pk_north: lat: Input should be less than or equal to 90"


def test_longitude_out_of_range(tmp_path):
    root, text = edited(tmp_path, "sites.yaml", "lon: -3.0", "lon: -183.0")
    problem = only_problem(root)
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, 'lon: -183.0')}"
    assert problem.what == "ct_base: lon: Input should be greater than or equal to -180"


def test_empty_source_list(tmp_path):
    root, text = edited(
        tmp_path, "ties.yaml", 'sources: [{ref: "S/2021/2", date: 2021-09-01, grade: primary}]', "sources: []"
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'sources: []')}"
    assert problem.what == "t8: no source: every fact needs at least one"


def test_missing_sources(tmp_path):
    sources = '  sources: [{ref: "Constitution of X", grade: primary}]\n'
    root, text = edited(tmp_path, "interventions.yaml", sources, "")
    problem = only_problem(root)
    assert problem.where == f"{root / 'interventions.yaml'}:{line_of(text, 'id: state')}"
    assert problem.what == "state: missing field 'sources'"


def test_non_positive_weight(tmp_path):
    root, text = edited(tmp_path, "ties.yaml", "weight: 3", "weight: -1")
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'weight: -1')}"
    assert problem.what == "t4: weight: Input should be greater than 0"


def test_tie_to_itself(tmp_path):
    root, text = edited(tmp_path, "ties.yaml", "  target_id: eu\n", "  target_id: pk\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'id: t7')}"
    assert problem.what == "t7: a tie must join two different interventions"


def test_bad_theatre_country_code(tmp_path):
    root, text = edited(tmp_path, "theatre.yaml", "[XTA]", "[Mali]")
    problem = only_problem(root)
    assert problem.where == f"{root / 'theatre.yaml'}:{line_of(text, 'country_iso3')}"
    assert problem.what == "tiny: country_iso3: 'Mali' is not an ISO 3166-1 alpha-3 code"


# --- cross-checks ------------------------------------------------------------------------------


def test_duplicate_intervention_id(tmp_path):
    root, text = edited(tmp_path, "interventions.yaml", "- id: eu\n", "- id: pmc\n")
    found = problems(root)
    duplicate = next(p for p in found if p.what.startswith("duplicate"))
    assert duplicate.where == f"{root / 'interventions.yaml'}:{line_of(text, 'id: pmc', nth=2)}"
    assert duplicate.what == "duplicate id 'pmc'"
    assert duplicate.hint == f"first defined at interventions.yaml:{line_of(text, 'id: pmc')}"
    # t7 now points at a removed id: reported as well, not instead
    assert any(p.what == "t7: target_id 'eu' is not an intervention" for p in found)


def test_duplicate_tie_id(tmp_path):
    root, text = edited(tmp_path, "ties.yaml", "- id: t6\n", "- id: t5\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'id: t5', nth=2)}"
    assert problem.what == "duplicate id 't5'"


def test_duplicate_site_id(tmp_path):
    root, text = edited(tmp_path, "sites.yaml", "- id: ct_base\n", "- id: pk_north\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, 'id: pk_north', nth=2)}"


def test_duplicate_mandate(tmp_path):
    root, text = edited(
        tmp_path, "mandates.yaml", "document: S/RES/0003 (2020)", "document: S/RES/0002 (2019)"
    )
    found = problems(root)
    assert found[0].where == f"{root / 'mandates.yaml'}:{line_of(text, 'document: S/RES/0002', nth=2)}"
    assert found[0].what == "duplicate document 'pk / S/RES/0002 (2019)'"


def test_tie_end_that_does_not_resolve(tmp_path):
    root, text = edited(
        tmp_path, "ties.yaml", "  source_id: ct\n  target_id: pk\n", "  source_id: ct\n  target_id: pko\n"
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'target_id: pko')}"
    assert problem.what == "t2: target_id 'pko' is not an intervention"
    assert problem.hint.startswith("did you mean pk")


def test_site_intervention_that_does_not_resolve(tmp_path):
    root, text = edited(tmp_path, "sites.yaml", "  intervention_id: ct\n", "  intervention_id: barkhane\n")
    problem = only_problem(root)
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, 'barkhane')}"
    assert problem.what == "ct_base: intervention_id 'barkhane' is not an intervention"
    assert problem.hint == "define it in interventions.yaml"


def test_mandate_intervention_that_does_not_resolve(tmp_path):
    root, text = edited(
        tmp_path,
        "mandates.yaml",
        "- intervention_id: pk\n  document: S/RES/0003",
        "- intervention_id: minusma\n  document: S/RES/0003",
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'mandates.yaml'}:{line_of(text, 'minusma')}"
    assert problem.what == "S/RES/0003 (2020): intervention_id 'minusma' is not an intervention"


def test_tie_that_never_coexists_with_an_end_is_an_error(tmp_path):
    root, text = edited(
        tmp_path,
        "ties.yaml",
        "  start: 2020-03-01\n  end: 2020-06-30\n",
        "  start: 2021-03-01\n  end: 2021-06-30\n",
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'ties.yaml'}:{line_of(text, 'start: 2021-03-01')}"
    assert (
        problem.what
        == "t6: active 2021-03-01..2021-06-30, never while trainer existed 2020-03-01..2020-06-30"
    )


def test_site_outside_its_intervention_lifetime_is_an_error(tmp_path):
    root, text = edited(
        tmp_path,
        "sites.yaml",
        "  start: 2020-01-01\n  end: 2020-12-31\n",
        "  start: 2022-01-01\n  end: 2022-12-31\n",
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'sites.yaml'}:{line_of(text, 'start: 2022-01-01')}"
    assert "never while ct existed 2020-01-01..2020-12-31" in problem.what


def test_mandate_never_in_force_while_its_intervention_existed(tmp_path):
    root, text = edited(
        tmp_path,
        "mandates.yaml",
        "in_force_from: 2020-01-01\n  in_force_to: 2020-06-30",
        "in_force_from: 2019-01-01\n  in_force_to: 2019-06-30",
    )
    problem = only_problem(root)
    assert problem.where == f"{root / 'mandates.yaml'}:{line_of(text, 'in_force_from: 2019')}"
    assert problem.what.startswith(
        "S/RES/0002 (2019): in force 2019-01-01..2019-06-30, never while pk existed"
    )


def test_tie_that_outlives_an_end_is_a_warning_and_is_clipped(tmp_path):
    # t4 (ct -> state) now runs to 2021-06-30, but ct ends 2020-12-31
    root, text = edited(
        tmp_path, "ties.yaml", "  end: 2020-12-31\n  weight: 3\n", "  end: 2021-06-30\n  weight: 3\n"
    )
    registry = load_registry(root)
    assert [(w.where, w.what) for w in registry.warnings] == [
        (
            f"{root / 'ties.yaml'}:{line_of(text, 'start: 2020-01-01', nth=3)}",
            "t4: active 2020-01-01..2021-06-30, beyond ct's lifetime 2020-01-01..2020-12-31",
        )
    ]
    assert "t4" not in [t.id for t in registry.at(dt.date(2021, 3, 1)).ties]
    assert "t4" in [t.id for t in registry.at(dt.date(2020, 12, 31)).ties]


def test_every_problem_is_collected_in_file_then_line_order():
    root = FIXTURES / "broken"
    found = problems(root)
    assert [str(p) for p in found] == [
        f"{root / 'theatre.yaml'}:5: broken: end 2019-12-31 is before start 2020-01-01",
        f"{root / 'interventions.yaml'}:9: b: kind: Input should be 'peacekeeping', 'counterterrorism', "
        "'training', 'state_forces', 'private_military', 'regional' or 'other'",
        f"{root / 'interventions.yaml'}:12: b: no source: every fact needs at least one "
        "(add sources: [{ref: ..., date: YYYY-MM-DD}])",
        f"{root / 'interventions.yaml'}:13: duplicate id 'a' (first defined at interventions.yaml:1)",
        f"{root / 'interventions.yaml'}:23: c: unknown field 'colour' "
        "(known fields: start, end, start_precision, end_precision, inferred, sources, id, name, kind, "
        "organization, theatre, note)",
        f"{root / 'mandates.yaml'}: file is missing (every theatre needs mandates.yaml; write [] if empty)",
        f"{root / 'ties.yaml'}:3: t1: target_id 'z' is not an intervention (define it in interventions.yaml)",
        f"{root / 'sites.yaml'}:4: s1: lat: Input should be less than or equal to 90",
    ]
