"""Study files: relative paths anchor at the study file's folder, ${VAR} expands from the environment."""

from __future__ import annotations

import pytest

from entangle.errors import StudyError
from entangle.study import load_study

STUDY = """
[study]
name = "paths"
from = "2015-01-01"
to = "2015-12-31"
unit = "admin:polygons/adm2.geojson:GID_2"
[study.imprecision]
rule = "spread"
spread_over = "${{DATA}}/adm1.geojson:GID_1"
[study.sources]
events = [{{ source = "acled", path = "{events}" }}]
"""


def test_relative_and_env_paths(tmp_path, monkeypatch):
    data = tmp_path / "elsewhere"
    data.mkdir()
    (tmp_path / "events.csv").write_text("x\n")
    monkeypatch.setenv("DATA", str(data))
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(events="events.csv"))
    study = load_study(path)
    assert study.unit == f"admin:{tmp_path / 'polygons' / 'adm2.geojson'}:GID_2"
    assert study.imprecision.spread_over == f"{data / 'adm1.geojson'}:GID_1"
    assert study.sources.events[0].path == tmp_path / "events.csv"


def test_unset_variable_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DATA", raising=False)
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(events="events.csv"))
    with pytest.raises(StudyError, match=r"\$\{DATA\} is not set"):
        load_study(path)


def test_missing_source_file_names_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA", str(tmp_path))
    path = tmp_path / "study.toml"
    path.write_text(STUDY.format(events="missing.csv"))
    with pytest.raises(StudyError, match=r"missing\.csv does not exist"):
        load_study(path)
