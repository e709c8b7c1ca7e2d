"""Bad input gives one line `error: ...` and exit 2; fragile estimates give a warning, not silence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from entangle.estimate import estimate
from entangle.simulate import SimulationSpec, simulate_panel

Y, D = "civilian_fatalities", "present_peacekeeping_25km"


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    frame, _ = simulate_panel(SimulationSpec(units=36, periods=8, seed=2))
    return frame


def _write(frame: pd.DataFrame, tmp_path, name: str = "p.parquet") -> str:
    path = tmp_path / name
    frame.to_parquet(path)
    return str(path)


def _run(cli, path: str, *extra: str) -> tuple[int, str, str]:
    return cli("estimate", path, "--design", "twfe", "--outcome", Y, "--treatment", D, *extra)


@pytest.mark.parametrize(
    ("mutate", "args", "expect"),
    [
        (lambda f: f, ["--outcome", "civilian_fatality"], "did you mean civilian_fatalities"),
        (lambda f: f.assign(civilian_fatalities=f[Y].astype(str)), [], "not numeric"),
        (lambda f: f.assign(**{D: 1}), [], "never varies"),
        (lambda f: f.assign(**{D: (f["unit_id"] % 2)}), [], "never changes within a unit"),
        (lambda f: pd.concat([f, f.iloc[[0]].assign(unit_id=999)]), [], "observed in only one period"),
        (
            lambda f: f.assign(x1=f["unit_lat"] * 2, x2=f["unit_lat"] * 4),
            ["--controls", "x1,x2"],
            "--controls x2",
        ),
        (lambda f: f.assign(region=f["unit_id"] % 5), ["--cluster", "region"], "only 5 clusters"),
        (lambda f: f, ["--inference", "bogus"], "unknown method"),
        (lambda f: f, ["--option", "leads=4"], "not an option of the twfe design"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), [], "appear more than once"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli, tmp_path, base, mutate, args, expect):
    path = _write(mutate(base.copy()), tmp_path)
    code, out, err = _run(cli, path, *args)
    assert code == 2, err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and expect in lines[0], err
    assert "Traceback" not in err and out == ""


def test_controls_collinear_with_fixed_effects_are_reported(base):
    frame = base.assign(unit_attr=base["unit_lat"] ** 2)  # constant within unit: absorbed by unit FE
    with pytest.raises(Exception) as info:
        estimate(frame, "twfe", Y, D, controls=("unit_attr",))
    assert "unit_attr" in str(info.value) and "collinear" in str(info.value)


def test_missing_panel_file_and_bad_option_value(cli, tmp_path, base):
    code, _, err = _run(cli, str(tmp_path / "nope.parquet"))
    assert code == 2 and "panel file not found" in err
    path = _write(base, tmp_path)
    code, _, err = cli(
        "estimate", path, "--design", "event-study", "--outcome", Y, "--treatment", D, "-o", "leads=x"
    )
    assert code == 2 and "not a number" in err


def test_fewer_than_30_clusters_warns_in_result_and_on_stderr(cli, tmp_path, base):
    frame = base.assign(region=base["unit_id"] % 20)
    path = _write(frame, tmp_path)
    code, out, err = _run(cli, path, "--cluster", "region", "--format", "json")
    assert code == 0, err
    result = json.loads(out)[0]
    assert result["n_clusters"] == 20
    assert any("only 20 clusters" in w for w in result["warnings"])
    assert "warning:" in err and "only 20 clusters" in err


def test_missing_values_are_dropped_with_a_warning(base):
    frame = base.copy()
    frame.loc[frame.index[:5], Y] = np.nan
    result = estimate(frame, "twfe", Y, D)
    assert result.n_obs == len(base) - 5
    assert any("dropped 5 rows" in w for w in result.warnings)
