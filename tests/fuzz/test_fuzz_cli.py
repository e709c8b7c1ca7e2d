"""Usage mistakes and unwritable outputs: one line, exit 2, before any work, nothing written."""

from __future__ import annotations

import pytest
from fuzz_harness import assert_refused, invoke

USAGE = [
    (["registry", "show", "--at", "2018-01-01", "--format", "xml"], "--format: 'xml' is not one of"),
    (["registry", "metrics", "--by", "fortnight"], "--by: 'fortnight' is not one of"),
    (["panel", "--period", "fortnight"], "--period: 'fortnight' is not one of"),
    (["registry", "nope"], "No such command 'nope'"),
    (["ingest"], "Missing argument 'source'"),
    (["ingest", "acled"], "Missing argument 'file'"),
    (["registry", "show"], "Missing option '--at'"),
    (["estimate", "x.parquet", "--bogus"], "No such option: --bogus"),
    (["simulate", "--out", "x.parquet", "--units", "many"], "--units"),
    (["fetch", "acled", "--country"], "requires an argument"),
    (["store", "info", "--format", "yaml"], "--format"),
    (["actors", "unmapped", "--min-events", "few"], "--min-events"),
]


@pytest.mark.parametrize(("args", "words"), USAGE, ids=[" ".join(a) for a, _ in USAGE])
def test_usage_is_one_line(capsys, store, args, words):
    line = assert_refused(invoke(capsys, *args), words)
    assert "╭" not in line and "Usage:" not in line  # no box, no usage block


def _file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    return path


OUTPUTS = [
    ("run_out_under_file", lambda t: ["run", "--out", _file(t) / "out"], "is a file"),
    ("run_out_is_file", lambda t: ["run", "--out", _file(t)], "is a file"),
    ("panel_out_directory", lambda t: ["panel", "--out", t], "is a directory"),
    (
        "estimate_out_under_file",
        lambda t: ["estimate", "p.parquet", "--out", _file(t) / "r.json"],
        "is a file",
    ),
    ("simulate_out_directory", lambda t: ["simulate", "--out", t], "is a directory"),
    ("simulate_out_under_file", lambda t: ["simulate", "--out", _file(t) / "s.parquet"], "is a file"),
    (
        "network_out_directory",
        lambda t: ["registry", "network", "--at", "2018-01-01", "--out", t],
        "directory",
    ),
    ("store_under_file", lambda t: ["store", "info", "--store", _file(t) / "s.duckdb"], "no store"),
]


@pytest.mark.parametrize(("case", "make", "words"), OUTPUTS, ids=[o[0] for o in OUTPUTS])
def test_unwritable_output(capsys, store, tmp_path, case, make, words):
    before = sorted(p.name for p in tmp_path.iterdir())
    line = assert_refused(invoke(capsys, *make(tmp_path)), words)
    assert "internal" not in line
    after = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in after if n not in before and n != "notes.txt"] == []


def test_cache_naming_a_file(capsys, store, tmp_path, monkeypatch):
    monkeypatch.setenv("ENTANGLE_CACHE", str(_file(tmp_path)))
    line = assert_refused(invoke(capsys, "run", "--out", tmp_path / "out"), "ENTANGLE_CACHE")
    assert "is a file" in line
    assert not (tmp_path / "out").exists()
