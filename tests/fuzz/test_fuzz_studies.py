"""Broken study files for ``entangle run``: one line naming the file (and the study key where there is
one), exit 2, nothing written to the output directory, before any stage runs."""

from __future__ import annotations

import pytest
from fuzz_harness import assert_refused, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BASE = """[study]
name = "fuzz"
theatre = "mali"
from = 2013-01-01
to = 2014-12-31
"""
MODEL = '\n[[study.models]]\ndesign = "twfe"\noutcome = "{outcome}"\ntreatment = "{treatment}"\n{extra}'


def _model(outcome="civilian_fatalities", treatment="copresence_50km", extra=""):
    return BASE + MODEL.format(outcome=outcome, treatment=treatment, extra=extra)


def _with(**keys: str) -> str:
    lines = BASE.splitlines()
    for key, value in keys.items():
        lines = [line for line in lines if not line.startswith(f"{key} =")] + [f"{key} = {value}"]
    return "\n".join(lines) + "\n"


# (id, study bytes or text, words the error line must contain)
CASES: list[tuple[str, str | bytes, tuple[str, ...]]] = [
    ("latin1", BASE.replace("fuzz", "f\u00e9te").encode("latin-1"), ("not utf-8",)),
    ("binary", bytes(range(256)) * 4, ("utf-8",)),
    ("nul", BASE.encode() + b"\x00\x00", ("binary",)),
    ("utf16", BASE.encode("utf-16"), ("utf-8",)),
    ("empty", b"", ("study",)),
    ("comments_only", "# nothing\n", ("single [study] table",)),
    ("nested_5000", "[study]\nname = " + "[" * 5000 + "]" * 5000 + "\n", ("nested",)),
    ("nested_tables_5000", "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", ("study",)),
    ("bad_toml", BASE + "to = \n", ("not valid toml",)),
    ("duplicate_key", BASE + 'name = "twice"\n', ("not valid toml",)),
    ("two_tables", BASE + "[other]\nx = 1\n", ("unexpected",)),
    ("to_9999", _with(to="9999-12-31"), ("study.to", "9999-12-31")),
    ("from_0001", _with(**{"from": "0001-01-01"}), ("study.from",)),
    ("from_after_to", _with(to="2012-01-01"), ("study.to",)),
    ("date_text", _with(to='"tomorrow"'), ("study.to",)),
    ("extent_xxx", _with(extent='["XXX"]'), ("study.extent", "XXX")),
    ("extent_lower", _with(extent='["mli"]'), ("study.extent",)),
    ("extent_number", _with(extent="[466]"), ("study.extent",)),
    ("radius_inf", BASE + "[study.exposure]\nradii_km = [inf]\n", ("radii_km", "inf")),
    ("radius_nan", BASE + "[study.exposure]\nradii_km = [nan]\n", ("radii_km", "nan")),
    ("radius_negative", BASE + "[study.exposure]\nradii_km = [-5]\n", ("radii_km",)),
    ("radius_zero", BASE + "[study.exposure]\nradii_km = [0]\n", ("radii_km",)),
    ("radius_huge", BASE + "[study.exposure]\nradii_km = [1e9]\n", ("radii_km",)),
    ("radius_empty", BASE + "[study.exposure]\nradii_km = []\n", ("radii_km",)),
    ("theatre_traversal", _with(theatre='"../../../../etc/x"'), ("study.theatre",)),
    ("theatre_dir", _with(theatre='"../../tmp"'), ("study.theatre",)),
    ("theatre_upper", _with(theatre='"MALI"'), ("study.theatre",)),
    ("theatre_unknown", _with(theatre='"narnia"'), ("study.theatre", "unknown theatre")),
    ("theatre_empty", _with(theatre='""'), ("study.theatre",)),
    ("unit_bad", _with(unit='"hexagons"'), ("study.unit",)),
    ("unit_h3_99", _with(unit='"h3:99"'), ("study.unit",)),
    ("unit_admin_missing", _with(unit='"admin:nowhere.geojson:id"'), ("study.unit", "does not exist")),
    ("period_week", _with(period='"week"'), ("study.period",)),
    ("unknown_key", _with(colour='"red"'), ("study.colour",)),
    ("name_missing", BASE.replace('name = "fuzz"\n', ""), ("study.name",)),
    ("imprecision_rule", BASE + '[study.imprecision]\nrule = "guess"\n', ("study.imprecision.rule",)),
    ("imprecision_prec", BASE + "[study.imprecision]\nucdp_max_where_prec = 99\n", ("ucdp_max_where_prec",)),
    ("network_years", BASE + "[study.report]\nnetwork_years = [1990]\n", ("network_years",)),
    ("source_missing", BASE + '[[study.sources.events]]\nsource = "acled"\npath = "nope.csv"\n', ("path",)),
    ("source_kind", BASE + '[[study.sources.events]]\nsource = "gdelt"\npath = "x"\n', ("study.sources",)),
    ("fetch_kind", BASE + '[study.sources]\nfetch = ["gdelt"]\n', ("study.sources.fetch",)),
    (
        "outcome_typo",
        _model(outcome="civilian_fatalites"),
        ("study.models[0].outcome", "civilian_fatalities"),
    ),
    ("treatment_typo", _model(treatment="copresense_50km"), ("study.models[0].treatment",)),
    ("treatment_radius", _model(treatment="copresence_75km"), ("study.models[0].treatment", "radii_km")),
    ("treatment_kind", _model(treatment="present_navy_50km"), ("study.models[0].treatment",)),
    ("control_unknown", _model(extra='controls = ["rainfall"]\n'), ("study.models[0].controls[0]",)),
    ("term_unknown", _model(treatment="log1p(l(troops_pk_50km, 1))"), ("study.models[0].treatment",)),
    ("conley_nan", _model(extra="[study.models.options]\nconley_km = nan\n"), ("conley_km", "finite")),
    ("conley_negative", _model(extra="[study.models.options]\nconley_km = -10\n"), ("conley_km",)),
    ("conley_inf", _model(extra="[study.models.options]\nconley_km = inf\n"), ("conley_km",)),
    ("lag_negative", _model(extra="[study.models.options]\nlag = -5\n"), ("lag",)),
    ("design_unknown", _model().replace('"twfe"', '"magic"'), ("study.models[0].design",)),
    ("inference_unknown", _model(extra='inference = "vibes"\n'), ("study.models[0].inference",)),
    (
        "grid_unknown",
        BASE + '[study.grid]\ndesigns=["twfe"]\noutcomes=["events"]\ntreatments=["x_50km"]\n',
        ("study.grid.treatments[0]",),
    ),
    ("grid_empty", BASE + "[study.grid]\ndesigns=[]\noutcomes=[]\ntreatments=[]\n", ("study.grid",)),
]


@pytest.mark.parametrize(("case", "content", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_study(capsys, store, tmp_path, case, content, words):
    path = tmp_path / "study.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    result = invoke(capsys, "run", path, "--out", out)
    line = assert_refused(result, *words)
    assert line.startswith(f"error: {path}"), line
    assert not out.exists()
    assert "/etc/" not in line.replace(str(path), "")  # no listing of directories outside the study


def test_study_path_is_a_directory(capsys, store, tmp_path):
    assert_refused(invoke(capsys, "run", tmp_path, "--out", tmp_path / "out"), "not found")


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.binary(max_size=400))
def test_random_bytes_as_study(tmp_path_factory, data):
    from entangle.cli import run_cli

    folder = tmp_path_factory.mktemp("rnd")
    path = folder / "study.toml"
    path.write_bytes(b"[study]\n" + data)
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_cli(["run", str(path), "--out", str(folder / "out")])
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err.getvalue()
    assert not (folder / "out").exists()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    st.dictionaries(
        st.sampled_from(["name", "theatre", "from", "to", "unit", "period", "extent", "registry"]),
        st.one_of(
            st.integers(-(10**20), 10**20).map(str),
            st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("inf", "inf")),
            st.text(max_size=30).map(lambda t: '"' + t.replace("\\", "").replace('"', "") + '"'),
            st.just("[]"),
            st.just("1979-05-27"),
            st.just("9999-12-31"),
        ),
        min_size=1,
    )
)
def test_random_study_values(tmp_path_factory, values):
    """Random values for the top-level keys: refused with one line, or (if valid) not our concern here."""
    import contextlib
    import io

    from entangle.study import load_study

    folder = tmp_path_factory.mktemp("vals")
    text = BASE
    for key, value in values.items():
        text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} =")) + "\n"
        text = text.replace("[study]\n", f"[study]\n{key} = {value}\n", 1)
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    from entangle.errors import EntangleError

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            load_study(path)
        except EntangleError as exc:
            assert "\n" not in str(exc)
            assert str(exc).startswith(str(path))
