"""Bad study files: one clear line naming the key, exit 2, and nothing written to the output directory."""

from __future__ import annotations

import pytest

BASE = {
    "name": '"bad"',
    "theatre": '"mali"',
    "from": "2013-01-01",
    "to": "2014-12-31",
    "unit": '"priogrid"',
}


def study_text(**changes: str | None) -> str:
    body = {**BASE, **changes}
    lines = [f"{key} = {value}" for key, value in body.items() if value is not None]
    return "[study]\n" + "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")


CASES = [
    # (TOML changes or raw text, substring of the error: the key, and what is wrong)
    (
        {"colour": '"red"'},
        "study.colour: Extra inputs are not permitted (remove it or check its spelling)",
    ),
    ({"from": '"last spring"'}, "study.from: Input should be a valid date"),
    ({"unit": "5"}, "study.unit: Input should be a valid string"),
    (
        {"to": "2012-06-30"},
        "study.to: 2012-06-30 is before 'from' (2013-01-01) (make 'to' later than 'from')",
    ),
    ({"theatre": '"narnia"'}, "study.theatre: unknown theatre 'narnia' (bundled theatres: mali"),
    (
        {"from": "1990-01-01", "to": "1995-12-31"},
        "study.from: 1990-01-01..1995-12-31 lies outside the theatre",
    ),
    ({"unit": '"hexagons"'}, "study.unit: unit must be 'priogrid', 'h3:RES' or 'admin:FILE:IDCOL'"),
    ({"name": None}, "study.name: Field required (add this key)"),
    ({"period": '"week"'}, "study.period: Input should be 'month', 'quarter' or 'year'"),
]


@pytest.mark.parametrize(("changes", "message"), CASES, ids=[c[1].split(":")[0] for c in CASES])
def test_bad_study_is_one_line_exit_2_nothing_written(cli, tmp_path, changes, message):
    path = tmp_path / "study.toml"
    path.write_text(study_text(**changes))
    out = tmp_path / "out"
    code, _, stderr = cli("run", path, "--out", out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: ")
    assert message in lines[0]
    assert not out.exists()


def test_missing_source_file_names_the_key(cli, tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(study_text() + '[[study.sources.events]]\nsource = "acled"\npath = "nowhere/acled.csv"\n')
    out = tmp_path / "out"
    code, _, stderr = cli("run", path, "--out", out)
    assert code == 2
    assert f"study.sources.events[0].path: file {tmp_path / 'nowhere' / 'acled.csv'} does not exist" in stderr
    assert not out.exists()


def test_unset_data_variable(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("ENTANGLE_TEST_NOWHERE", raising=False)
    path = tmp_path / "study.toml"
    entry = '[[study.sources.events]]\nsource = "acled"\npath = "${ENTANGLE_TEST_NOWHERE}/a.csv"\n'
    path.write_text(study_text() + entry)
    code, _, stderr = cli("run", path, "--out", tmp_path / "out")
    assert code == 2 and "${ENTANGLE_TEST_NOWHERE} is not set (export ENTANGLE_TEST_NOWHERE=DIR)" in stderr
    assert not (tmp_path / "out").exists()


def test_not_toml_and_missing_study(cli, tmp_path):
    path = tmp_path / "study.toml"
    path.write_text("[study\nname = 1\n")
    code, _, stderr = cli("run", path, "--out", tmp_path / "out")
    assert code == 2 and "not valid TOML" in stderr
    code, _, stderr = cli("run", tmp_path / "absent.toml", "--out", tmp_path / "out")
    assert code == 2 and "study file not found" in stderr
    assert not (tmp_path / "out").exists()


def test_existing_output_is_left_alone_on_bad_input(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("previous report")
    path = tmp_path / "study.toml"
    path.write_text(study_text(colour='"red"'))
    code, _, _ = cli("run", path, "--out", out)
    assert code == 2
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert (out / "report.html").read_text() == "previous report"


def test_bad_model_option_fails_before_any_work(cli, tmp_path):
    path = tmp_path / "study.toml"
    model = (
        '[[study.models]]\ndesign = "twfe"\noutcome = "civilian_fatalities"\ntreatment = "copresence_50km"\n'
    )
    path.write_text(study_text() + model + "options = { cutoff_km = 100 }\n")
    code, _, stderr = cli("run", path, "--out", tmp_path / "out")
    assert code == 2
    assert (
        "study.models[0].options.cutoff_km: not an option of the twfe design (options: conley_kernel"
        in stderr
    )
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_network_year_outside_the_study(cli, tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(study_text() + "[study.report]\nnetwork_years = [2013, 2019]\n")
    code, _, stderr = cli("run", path, "--out", tmp_path / "out")
    assert code == 2
    assert "study.report.network_years: 2019 is outside the study's years 2013-2014" in stderr
    assert not (tmp_path / "out").exists()


def test_unreadable_event_file_writes_nothing(cli, tmp_path):
    bad = tmp_path / "events.csv"
    bad.write_bytes(b"\x00\x01\x02 not a csv \xff\xfe")
    path = tmp_path / "study.toml"
    path.write_text(study_text() + f'[[study.sources.events]]\nsource = "acled"\npath = "{bad}"\n')
    out = tmp_path / "out"
    code, _, stderr = cli("run", path, "--out", out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and str(bad) in lines[-1]
    assert not out.exists()
