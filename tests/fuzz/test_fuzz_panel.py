"""Bad ``entangle panel`` options against a store holding one UCDP file: one line, exit 2, no panel
written, the store unchanged. An unknown or absent ``--source`` is refused rather than written as a
panel of zeros."""

from __future__ import annotations

import shutil

import pytest
from fuzz_harness import FIXTURES, assert_refused, invoke, store_state

BASE = ["panel", "--from", "2019-01-01", "--to", "2019-12-31"]

CASES = [
    ("source_unknown", ["--source", "gdelt"], ("sources", "gdelt", "ucdp")),
    ("source_absent", ["--source", "acled"], ("sources", "acled")),
    ("source_family", ["--source", "csv"], ("sources",)),
    ("radius_inf", ["--radius", "inf"], ("radius",)),
    ("radius_nan", ["--radius", "nan"], ("radius",)),
    ("radius_negative", ["--radius", "-5"], ("radius",)),
    ("radius_zero", ["--radius", "0"], ("radius",)),
    ("radius_huge", ["--radius", "1e12"], ("radius",)),
    ("radius_text", ["--radius", "far"], ("--radius",)),
    ("to_9999", ["--to", "9999-12-31"], ("--to",)),
    ("from_0001", ["--from", "0001-01-01"], ("--from",)),
    ("from_text", ["--from", "spring"], ("--from",)),
    ("from_after_to", ["--from", "2020-01-01"], ("period",)),
    ("period_fortnight", ["--period", "fortnight"], ("--period",)),
    ("unit_garbage", ["--unit", "hexagons"], ("unit",)),
    ("unit_h3_99", ["--unit", "h3:99"], ("h3",)),
    ("unit_admin_missing", ["--unit", "admin:nowhere.geojson:id"], ("not found",)),
    ("unit_admin_csv", ["--unit", "admin:{csv}:id"], ("not a polygon file",)),
    ("extent_xxx", ["--extent", "XXX"], ("extent",)),
    ("imprecision_bad", ["--imprecision", "guess"], ("--imprecision",)),
    ("engine_bad", ["--engine", "excel"], ("--engine",)),
    ("spread_over_bad", ["--imprecision", "spread", "--spread-over", "nocolon"], ("spread",)),
    ("out_directory", ["--out", "{tmp}"], ("directory",)),
    ("out_under_file", ["--out", "{file}/panel.parquet"], ("is a file",)),
    ("registry_missing", ["--registry", "{tmp}/none"], ("registry",)),
    ("registry_etc", ["--registry", "/etc"], ("theatre.yaml",)),
    ("store_missing", ["--store", "{tmp}/none.duckdb"], ("no store",)),
    ("study_missing", ["--study", "{tmp}/none.toml"], ("not found",)),
    ("unknown_flag", ["--colour", "red"], ("--colour",)),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    path = tmp_path_factory.mktemp("seed") / "entangle.duckdb"
    with open_store(path) as db:
        ingest(db, "ucdp", FIXTURES / "ucdp_ged_v22_1.csv")
    return path


@pytest.fixture
def loaded(store, seeded):
    """A copy of a store holding one UCDP file (copied: loading it again each time is slow)."""
    store.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(seeded, store)
    return store


@pytest.mark.parametrize(("case", "extra", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_panel_option(capsys, loaded, tmp_path, case, extra, words):
    csv = tmp_path / "units.csv"
    csv.write_text("id,name\n1,a\n")
    afile = tmp_path / "afile"
    afile.write_text("x")
    out = tmp_path / "panel.parquet"
    args = [a.format(tmp=tmp_path, csv=csv, file=afile) for a in extra]
    if "--out" not in args:
        args += ["--out", str(out)]
    before = store_state(loaded)
    result = invoke(capsys, *BASE, *args)
    assert_refused(result, *words)
    assert not out.exists()
    assert not list(tmp_path.glob(".panel.parquet.*"))
    assert store_state(loaded) == before


def test_good_source_still_builds(capsys, loaded, tmp_path):
    out = tmp_path / "panel.parquet"
    result = invoke(capsys, *BASE, "--source", "ucdp", "--out", out)
    assert result.code == 0, result.err
    assert out.exists()
