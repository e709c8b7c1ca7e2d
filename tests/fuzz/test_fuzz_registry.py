"""Broken theatre directories: ``registry validate`` lists every problem as ``error:`` lines and exits
2; every other command prints one line and exits 2. Never a traceback, never exit 0 or 1."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fuzz_harness import assert_refused, invoke

from entangle.registry import bundled_path

FILES = ("theatre.yaml", "interventions.yaml", "mandates.yaml", "ties.yaml", "sites.yaml", "actors.yaml")


def _sub(pattern: str, repl: str, count: int = 1):
    return lambda text: re.sub(pattern, repl, text, count=count, flags=re.MULTILINE)


# (id, file, mutation of its text or bytes)
MUTATIONS = [
    ("tie_weight_inf", "ties.yaml", _sub(r"weight: 3\.0", "weight: .inf")),
    ("tie_weight_nan", "ties.yaml", _sub(r"weight: 3\.0", "weight: .nan")),
    ("tie_weight_negative", "ties.yaml", _sub(r"weight: 3\.0", "weight: -1")),
    ("tie_weight_text", "ties.yaml", _sub(r"weight: 3\.0", "weight: heavy")),
    ("tie_unknown_target", "ties.yaml", _sub(r"target_id: \w+", "target_id: atlantis")),
    ("tie_end_9999", "ties.yaml", _sub(r"^  start: (\d{4}-\d\d-\d\d)", "  start: 9999-12-31")),
    ("intervention_start_text", "interventions.yaml", _sub(r"start: 2013-01-17", "start: soon")),
    ("intervention_end_before_start", "interventions.yaml", _sub(r"end: 2013-06-30", "end: 2001-01-01")),
    ("intervention_kind", "interventions.yaml", _sub(r"kind: regional", "kind: navy")),
    ("intervention_dup_id", "interventions.yaml", _sub(r"- id: minusma", "- id: afisma")),
    (
        "intervention_no_sources",
        "interventions.yaml",
        _sub(r"  sources:\n(    - ref: S/RES/2085.*\n(      .*\n)*)", ""),
    ),
    ("site_lat_123", "sites.yaml", _sub(r"lat: [\d.]+", "lat: 123.0")),
    ("site_lat_inf", "sites.yaml", _sub(r"lat: [\d.]+", "lat: .inf")),
    ("site_lon_nan", "sites.yaml", _sub(r"lon: -?[\d.]+", "lon: .nan")),
    ("theatre_id_traversal", "theatre.yaml", _sub(r"^id: \w+", "id: ../../etc")),
    ("yaml_syntax", "ties.yaml", lambda t: t + "\n- id: [unclosed\n"),
    ("yaml_tabs", "ties.yaml", lambda t: t.replace("\n  weight:", "\n\tweight:", 1)),
    ("yaml_not_a_list", "mandates.yaml", lambda t: "just: a mapping\n"),
    ("yaml_scalar", "sites.yaml", lambda t: "42\n"),
    ("yaml_deep", "ties.yaml", lambda t: "- " + "[" * 20000 + "]" * 20000 + "\n"),
    (
        "yaml_alias_bomb",
        "ties.yaml",
        lambda t: (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
        ),
    ),
    ("yaml_python_tag", "ties.yaml", lambda t: "- !!python/object/apply:os.system ['true']\n"),
    ("binary", "sites.yaml", lambda t: bytes(range(256)) * 8),
    ("latin1", "interventions.yaml", lambda t: t.replace("Mali", "Malí").encode("latin-1", errors="replace")),
    ("utf16", "interventions.yaml", lambda t: t.encode("utf-16")),
    ("empty_theatre", "theatre.yaml", lambda t: ""),
    ("missing_file", "mandates.yaml", None),
    ("file_is_directory", "ties.yaml", "dir"),
    ("actor_redos", "actors.yaml", _sub(r"pattern: '\^MINUSMA\\b'", "pattern: '^(a+)+$'")),
    ("actor_backreference", "actors.yaml", _sub(r"pattern: '\^MINUSMA\\b'", r"pattern: '(a)\\1'")),
    ("actor_category", "actors.yaml", _sub(r"category: international", "category: aliens")),
]


@pytest.fixture
def theatre(tmp_path) -> Path:
    target = tmp_path / "mali"
    shutil.copytree(bundled_path(), target)
    return target


def _mutate(theatre: Path, file: str, mutation) -> None:
    path = theatre / file
    if mutation is None:
        path.unlink()
        return
    if mutation == "dir":
        path.unlink()
        path.mkdir()
        return
    changed = mutation(path.read_text(encoding="utf-8"))
    if isinstance(changed, bytes):
        path.write_bytes(changed)
    else:
        assert changed != path.read_text(encoding="utf-8"), "the mutation changed nothing"
        path.write_text(changed, encoding="utf-8")


@pytest.mark.parametrize(("case", "file", "mutation"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_broken_registry(capsys, store, theatre, case, file, mutation):
    _mutate(theatre, file, mutation)
    if file == "actors.yaml":
        # Actor rules are read by ingest, which must refuse them (RE2 rejects what could hang).
        from fuzz_harness import FIXTURES

        result = invoke(
            capsys, "ingest", "acled", FIXTURES / "acled_current_schema.csv", "--registry", theatre
        )
        if case == "actor_redos":
            # RE2 accepts the pattern and matches it in linear time: the load finishes.
            assert result.code == 0, result.err
            return
        assert_refused(result, "actors.yaml")
        return
    result = invoke(capsys, "registry", "validate", theatre)
    assert "Traceback" not in result.err
    assert result.code == 2, (result.code, result.err, result.out)
    assert result.lines and all(line.startswith("error: ") for line in result.lines), result.err
    assert "internal" not in result.err
    shown = invoke(capsys, "registry", "show", "--at", "2018-06-01", "--registry", theatre)
    assert_refused(shown)


def test_redos_pattern_is_fast(tmp_path):
    """RE2 matches the classic catastrophic pattern against a long name in linear time."""
    import time

    from entangle.sources.actors import compile_pattern

    started = time.perf_counter()
    assert compile_pattern("^(a+)+$").search("a" * 40 + "!") is None
    assert compile_pattern("^(a+)+$").search("a" * 100_000 + "!") is None
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("other", ["/etc", "/", "{tmp}/none", "{tmp}/file"])
def test_registry_option_not_a_theatre(capsys, store, tmp_path, other):
    (tmp_path / "file").write_text("x")
    result = invoke(
        capsys, "registry", "show", "--at", "2018-06-01", "--registry", other.format(tmp=tmp_path)
    )
    assert_refused(result)
