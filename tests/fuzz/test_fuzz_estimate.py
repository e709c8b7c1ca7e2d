"""Bad panels and options for ``estimate`` and ``power``: exit 2 with one ``error:`` line, and no
results file written. The value guards (NaN/inf outcomes before pyfixest, ri_draws and window bounds,
outcome = treatment) belong to the estimate layer (branch ``estimate``); the cases for them live here
so the CLI promise is checked end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fuzz_harness import assert_refused, invoke, spawn

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    from entangle.cli import run_cli

    path = tmp_path_factory.mktemp("sim") / "panel.parquet"
    assert run_cli(["simulate", "--out", str(path), "--units", "36", "--periods", "10", "--seed", "3"]) == 0
    return path


def _variant(panel, folder, change) -> str:
    table = pq.read_table(panel)
    frame = table.to_pandas()
    change(frame)
    out = folder / "variant.parquet"
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(table.schema.metadata), out
    )
    return str(out)


def _set(column, values):
    def change(frame):
        frame[column] = values(frame) if callable(values) else values

    return change


PANEL_CASES = [
    ("outcome_all_inf", _set(Y, np.inf)),
    ("outcome_all_nan", _set(Y, np.nan)),
    ("outcome_some_inf", _set(Y, lambda f: np.where(np.arange(len(f)) % 7 == 0, np.inf, f[Y]))),
    ("outcome_huge", _set(Y, 1e308)),
    ("treatment_all_nan", _set(D, np.nan)),
    ("treatment_inf", _set(D, lambda f: np.where(np.arange(len(f)) % 5 == 0, -np.inf, f[D]))),
    ("outcome_text", _set(Y, "many")),
    ("treatment_constant", _set(D, 1)),
]


POWER_CASES = ("outcome_all_inf", "outcome_all_nan", "outcome_huge")


@pytest.mark.parametrize(
    ("case", "change", "command"),
    [(c, f, "estimate") for c, f in PANEL_CASES]
    + [(c, f, "power") for c, f in PANEL_CASES if c in POWER_CASES],
    ids=[f"estimate-{c}" for c, _ in PANEL_CASES] + [f"power-{c}" for c in POWER_CASES],
)
def test_bad_panel_values(tmp_path, panel, case, change, command):
    # In a subprocess: without the estimate layer's guards pyfixest aborts the interpreter (exit 134),
    # which must fail this test, not end the test session.
    path = _variant(panel, tmp_path, change)
    out = tmp_path / "results.json"
    if command == "estimate":
        args = ["estimate", path, "--design", "twfe", "--outcome", Y, "--treatment", D, "--out", out]
    else:
        args = ["power", path, "--outcome", Y, "--treatment", D]
    assert_refused(spawn(*args))
    assert not out.exists()


OPTION_CASES = [
    ("ri_draws_huge", ["--inference", "ri", "-o", "ri_draws=1000000000"]),
    ("ri_draws_zero", ["--inference", "ri", "-o", "ri_draws=0"]),
    ("leads_huge", ["--design", "event-study", "-o", "leads=1000000"]),
    ("lags_negative", ["--design", "event-study", "-o", "lags=-3"]),
    ("lag_negative", ["-o", "lag=-5"]),
    ("lag_huge", ["-o", "lag=100000"]),
    ("conley_nan", ["--inference", "conley", "-o", "conley_km=nan"]),
    ("conley_inf", ["--inference", "conley", "-o", "conley_km=inf"]),
    ("conley_negative", ["--inference", "conley", "-o", "conley_km=-50"]),
    ("option_unknown", ["-o", "colour=red"]),
    ("option_malformed", ["-o", "novalue"]),
    ("outcome_is_treatment", ["--treatment", Y]),
    ("outcome_unknown", ["--outcome", "nothing_here"]),
    ("treatment_unknown", ["--treatment", "copresence_75km"]),
    ("control_unknown", ["--controls", "rainfall"]),
    ("design_unknown", ["--design", "magic"]),
    ("inference_unknown", ["--inference", "vibes"]),
    ("format_xml", ["--format", "xml"]),
    ("cluster_unknown", ["--cluster", "nowhere"]),
    ("out_directory", ["--out", "{tmp}"]),
    ("out_under_file", ["--out", "{file}/r.json"]),
]


# Cases that need the estimate layer's bounds: without them a fit may run for hours or abort the
# interpreter, so they run in a subprocess with a time limit.
GUARDED = ("ri_draws_huge", "leads_huge", "lag_huge", "outcome_is_treatment")


def _estimate_args(tmp_path, panel, extra) -> list[str]:
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = {"--design": "twfe", "--outcome": Y, "--treatment": D}
    rest: list[str] = []
    items = [a.format(tmp=tmp_path, file=afile) for a in extra]
    i = 0
    while i < len(items):
        if items[i] in args and i + 1 < len(items):
            args[items[i]] = items[i + 1]
            i += 2
        else:
            rest.append(items[i])
            i += 1
    return ["estimate", str(panel), *(x for pair in args.items() for x in pair), *rest]


@pytest.mark.parametrize(("case", "extra"), OPTION_CASES, ids=[c[0] for c in OPTION_CASES])
def test_bad_estimate_option(capsys, tmp_path, panel, case, extra):
    args = _estimate_args(tmp_path, panel, extra)
    assert_refused(spawn(*args, timeout=30) if case in GUARDED else invoke(capsys, *args))


@pytest.mark.parametrize(
    "make",
    ["not_parquet", "directory", "missing", "empty_parquet", "no_columns", "binary"],
)
def test_bad_panel_file(capsys, tmp_path, make):
    path = tmp_path / "panel.parquet"
    if make == "not_parquet":
        path.write_text("unit_id,period\n1,2\n")
    elif make == "directory":
        path.mkdir()
    elif make == "empty_parquet":
        pq.write_table(
            pa.table(
                {
                    "unit_id": pa.array([], pa.string()),
                    "period": pa.array([], pa.date32()),
                    Y: pa.array([], pa.float64()),
                    D: pa.array([], pa.float64()),
                }
            ),
            path,
        )
    elif make == "no_columns":
        pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    elif make == "binary":
        path.write_bytes(bytes(range(256)) * 16)
    result = invoke(capsys, "estimate", path, "--design", "twfe", "--outcome", Y, "--treatment", D)
    assert_refused(result)


@pytest.mark.parametrize(
    "args",
    [
        ["--units", "100000000", "--periods", "1000"],
        ["--noise-sd", "nan"],
        ["--noise-sd", "-1"],
        ["--spatial-sd", "inf"],
        ["--effect", "nan"],
        ["--units", "2"],
        ["--cohorts", "0"],
        ["--never-share", "1.5"],
        ["--design", "magic"],
        ["--spacing-deg", "0"],
    ],
    ids=lambda a: "_".join(a).strip("-"),
)
def test_bad_simulate(capsys, tmp_path, args):
    out = tmp_path / "sim.parquet"
    assert_refused(invoke(capsys, "simulate", "--out", out, *args))
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--method", "simulate", "--draws", "0"],
        ["--method", "simulate", "--units", "100000000", "--periods", "1000"],
        ["--method", "guess"],
        ["--power", "1.5"],
        ["--alpha", "nan"],
    ],
    ids=lambda a: "_".join(a).strip("-"),
)
def test_bad_power(capsys, args):
    assert_refused(invoke(capsys, "power", *args))


def test_frame_helpers_are_real():
    """The variants really contain what their names say (the guards must see NaN/inf)."""
    frame = pd.DataFrame({Y: [1.0, 2.0], D: [0, 1]})
    _set(Y, np.inf)(frame)
    assert np.isinf(frame[Y]).all()
