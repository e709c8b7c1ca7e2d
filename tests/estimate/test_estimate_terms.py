"""Formula terms: parsing, and values checked by hand and against pandas groupby shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from entangle.errors import EstimateError
from entangle.estimate.terms import materialize, parse, split_list


def test_canonical_spelling_and_columns():
    term = parse("log1p( l(troops_peacekeeping_50km,1) )")
    assert str(term) == "log1p(l(troops_peacekeeping_50km, 1))"
    assert term.columns() == ["troops_peacekeeping_50km"]
    assert term.shifts() == [1]
    assert str(parse("l(x)")) == "l(x, 1)"
    assert parse("f(x, 2)").shifts() == [-2]
    assert parse("sum(a, b, a)").columns() == ["a", "b"]
    assert parse("any(sum(a, b))").binary and not parse("log1p(a)").binary


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("log(x)", "unknown function log() (did you mean log1p()?)"),
        ("l(x, a)", "l() needs a whole number of periods"),
        ("sum(a)", "sum() needs at least two terms"),
        ("log1p(x", "missing ')'"),
        ("x)", "unexpected ')'"),
        ("l(x, 500)", "shift 500 is outside 0..120"),
        ("l(x, -1)", "shift -1 is outside"),
        ("any(x, y)", "any() takes 1 term, got 2"),
        ("a b", "unexpected 'b'"),
        ("x + y", "unexpected character '+'"),
        ("", "is empty"),
    ],
)
def test_bad_terms_are_one_line_naming_the_term(expr, message):
    with pytest.raises(EstimateError) as info:
        parse(expr)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"term {expr!r}")
    assert message in text


def test_split_list_respects_parentheses():
    assert split_list("a, sum(b, c),l(x, 1) ,") == ["a", "sum(b, c)", "l(x, 1)"]


def test_values_by_hand_with_a_gap():
    # unit 1 lacks period 3: its period-4 lag is missing, never the period-2 value
    frame = pd.DataFrame(
        {
            "unit_id": [1, 1, 1, 2, 2],
            "period": [1, 2, 4, 1, 2],
            "x": [1.0, 2.0, 3.0, 4.0, 5.0],
            "y": [0, 1, 0, 2, 0],
        }
    )
    out, mapping = materialize(frame, ["y", "l(x,1)", "f(x)", "log1p(sum(x, y))", "any(y)", "asinh(x)"])
    assert mapping == {
        "y": "y",
        "l(x,1)": "l(x, 1)",
        "f(x)": "f(x, 1)",
        "log1p(sum(x, y))": "log1p(sum(x, y))",
        "any(y)": "any(y)",
        "asinh(x)": "asinh(x)",
    }
    np.testing.assert_array_equal(out["l(x, 1)"], [np.nan, 1.0, np.nan, np.nan, 4.0])
    np.testing.assert_array_equal(out["f(x, 1)"], [2.0, np.nan, np.nan, 5.0, np.nan])
    np.testing.assert_allclose(out["log1p(sum(x, y))"], np.log([2.0, 4.0, 4.0, 7.0, 6.0]))
    np.testing.assert_array_equal(out["any(y)"], [0.0, 1.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(out["asinh(x)"], np.log(frame["x"] + np.sqrt(frame["x"] ** 2 + 1)))
    assert "l(x, 1)" not in frame.columns  # the input is not modified


def test_shifts_equal_pandas_groupby_on_a_shuffled_monthly_panel():
    rng = np.random.default_rng(3)
    months = pd.date_range("2012-01-01", periods=14, freq="MS")
    frame = pd.DataFrame(
        {"unit_id": np.repeat(np.arange(9), 14), "period": np.tile(months, 9), "x": rng.normal(size=126)}
    )
    expected = frame.groupby("unit_id")["x"].shift(2)
    expected_lead = frame.groupby("unit_id")["x"].shift(-1)
    shuffled = frame.sample(frac=1.0, random_state=1)
    out, _ = materialize(shuffled, ["l(x, 2)", "f(x, 1)", "log1p(l(any(x), 2))"])
    np.testing.assert_array_equal(out["l(x, 2)"].sort_index(), expected)
    np.testing.assert_array_equal(out["f(x, 1)"].sort_index(), expected_lead)
    nested = np.log1p((expected > 0).astype(float).where(expected.notna()))
    np.testing.assert_array_equal(out["log1p(l(any(x), 2))"].sort_index(), nested)


def test_quarterly_dates_step_in_quarters():
    quarters = pd.to_datetime(["2012-01-01", "2012-04-01", "2012-10-01"])
    frame = pd.DataFrame({"unit_id": 1, "period": quarters, "x": [1.0, 2.0, 3.0]})
    out, _ = materialize(frame, ["l(x, 1)"])
    np.testing.assert_array_equal(out["l(x, 1)"], [np.nan, 1.0, np.nan])  # 2012-07 is absent


def test_materialize_errors():
    frame = pd.DataFrame({"unit_id": [1, 1], "period": [1, 2], "x": [-3.0, 1.0], "s": ["a", "b"]})
    with pytest.raises(EstimateError, match=r"log1p\(\) is undefined for 1 values"):
        materialize(frame, ["log1p(x)"])
    with pytest.raises(EstimateError, match="shift of 2 periods but the panel has 2"):
        materialize(frame, ["l(x, 2)"])
    with pytest.raises(EstimateError, match="did you mean x"):
        materialize(frame, ["any(xx)"])
    with pytest.raises(EstimateError, match="not numeric"):
        materialize(frame, ["any(s)"])
    same, mapping = materialize(frame, ["x"])
    assert same is frame and mapping == {"x": "x"}
