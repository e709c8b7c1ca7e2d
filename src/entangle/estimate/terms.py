"""Formula terms: transformations written where a column is named (outcome, treatment, controls).

``log1p(x)``, ``asinh(x)``, ``any(x)`` (1 where x > 0), ``sum(a, b, ...)`` and the panel-aware
``l(x, k)`` / ``f(x, k)`` (the value k periods earlier / later in the same unit; missing where that
unit-period is not in the panel). Terms nest: ``log1p(l(troops_peacekeeping_50km, 1))``.

Periods are counted in steps: integers as they are, month-start dates in the panel's step (months,
quarters or years), anything else along its sorted distinct values; a unit-period missing from the
panel makes the shifted value missing, it is never bridged.

``parse`` turns text into a ``Term`` (one-line ``EstimateError`` naming the bad term);
``materialize`` adds one column per expression to a frame, named by the expression's canonical
spelling (a bare column is used as it is, never copied).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from entangle.errors import EstimateError

MAX_SHIFT = 120  # periods: l()/f() further than ten years of months is a typo, not a design
FUNCTIONS = {"log1p": 1, "asinh": 1, "any": 1, "sum": -1, "l": 2, "f": 2}  # arity; -1: two or more
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_.]*)|(?P<int>-?\d+)|(?P<punct>[(),]))")


@dataclass(frozen=True)
class Term:
    """A parsed expression: a bare column (``func`` is None) or a function of terms."""

    func: str | None
    args: tuple[Term, ...] = ()
    column: str = ""  # the column, for a bare column
    k: int = 0  # the shift, for l() and f()

    def __str__(self) -> str:
        if self.func is None:
            return self.column
        if self.func in ("l", "f"):
            return f"{self.func}({self.args[0]}, {self.k})"
        return f"{self.func}({', '.join(map(str, self.args))})"

    @property
    def is_column(self) -> bool:
        return self.func is None

    def columns(self) -> list[str]:
        """The panel columns the term reads, in order of first appearance."""
        if self.func is None:
            return [self.column]
        seen: dict[str, None] = {}
        for arg in self.args:
            seen |= dict.fromkeys(arg.columns())
        return list(seen)

    def shifts(self) -> list[int]:
        """Every l()/f() shift in the term (lags positive, leads negative)."""
        own = [self.k if self.func == "l" else -self.k] if self.func in ("l", "f") else []
        return own + [s for arg in self.args for s in arg.shifts()]

    @property
    def binary(self) -> bool:
        """True when the term is 0/1 by construction (``any``, or a shift of it)."""
        return self.func == "any" or (self.func in ("l", "f") and self.args[0].binary)


def _bad(expr: str, what: str, hint: str) -> EstimateError:
    return EstimateError(f"term {expr!r}", what, hint)


def _tokens(expr: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        match = _TOKEN.match(expr, pos)
        if match is None or match.end() == pos:
            raise _bad(expr, f"unexpected character {expr[pos:].strip()[0]!r}", _HINT)
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


_HINT = "terms: column, log1p(x), asinh(x), any(x), sum(a, b), l(x, k), f(x, k)"


def parse(expr: str) -> Term:
    """Parse a term; raise a one-line ``EstimateError`` that names the bad term."""
    if not isinstance(expr, str) or not expr.strip():
        raise _bad(str(expr), "is empty", "name a column or a term such as log1p(x)")
    tokens = _tokens(expr)
    term, pos = _parse_at(expr, tokens, 0)
    if pos != len(tokens):
        raise _bad(expr, f"unexpected {tokens[pos][1]!r} after {term}", _HINT)
    return term


def _parse_at(expr: str, tokens: list[tuple[str, str]], pos: int) -> tuple[Term, int]:
    if pos >= len(tokens):
        raise _bad(expr, "ends too early", _HINT)
    kind, text = tokens[pos]
    if kind != "name":
        raise _bad(expr, f"expected a column or function, found {text!r}", _HINT)
    if pos + 1 >= len(tokens) or tokens[pos + 1][1] != "(":
        return Term(None, column=text), pos + 1
    if text not in FUNCTIONS:
        close = difflib.get_close_matches(text, list(FUNCTIONS), n=1)
        hint = f"did you mean {close[0]}()?" if close else _HINT
        raise _bad(expr, f"unknown function {text}()", hint)
    pos += 2
    args: list[Term] = []
    shift: int | None = None
    while True:
        if text in ("l", "f") and len(args) == 1:
            if pos < len(tokens) and tokens[pos][0] == "int":
                shift = int(tokens[pos][1])
                pos += 1
            else:
                found = tokens[pos][1] if pos < len(tokens) else "the end"
                raise _bad(
                    expr, f"{text}() needs a whole number of periods, found {found!r}", f"e.g. {text}(x, 1)"
                )
        else:
            arg, pos = _parse_at(expr, tokens, pos)
            args.append(arg)
        if pos >= len(tokens):
            raise _bad(expr, f"missing ')' in {text}()", _HINT)
        if tokens[pos][1] == ")":
            pos += 1
            break
        if tokens[pos][1] != ",":
            raise _bad(expr, f"expected ',' or ')' in {text}(), found {tokens[pos][1]!r}", _HINT)
        pos += 1
    arity = FUNCTIONS[text]
    if text in ("l", "f"):
        if not args:
            raise _bad(expr, f"{text}() needs a column", f"e.g. {text}(x, 1)")
        if shift is None:
            shift = 1  # l(x) is the previous period, as in fixest
        if not 0 <= shift <= MAX_SHIFT:
            raise _bad(
                expr, f"shift {shift} is outside 0..{MAX_SHIFT}", "use l(x, k) for lags, f(x, k) for leads"
            )
        return Term(text, tuple(args), k=shift), pos
    if arity == -1 and len(args) < 2:
        raise _bad(expr, f"{text}() needs at least two terms", "e.g. sum(a, b)")
    if arity > 0 and len(args) != arity:
        raise _bad(expr, f"{text}() takes {arity} term, got {len(args)}", f"e.g. {text}(x)")
    return Term(text, tuple(args)), pos


def split_list(text: str) -> list[str]:
    """Split a comma-separated list of terms at top-level commas: ``"a, sum(b, c)"`` -> 2 terms."""
    out, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [part.strip() for part in out if part.strip()]


def canonical(expr: str) -> str:
    """The canonical spelling of a term (``l(x,1)`` -> ``l(x, 1)``): the name of its column."""
    return str(parse(expr))


def period_steps(values: np.ndarray) -> np.ndarray:
    """Each period as a whole number of steps from the first, so gaps in the panel stay gaps.

    Integer periods count in their own unit; month-start dates count in months, quarters or years
    (the panel's step: the greatest common divisor of the gaps between its distinct months); any
    other period column counts along its sorted distinct values.
    """
    codes, uniques = pd.factorize(values, sort=True)
    uniques = np.asarray(uniques)
    if np.issubdtype(uniques.dtype, np.integer):
        steps = uniques.astype(np.int64) - int(uniques.min()) if len(uniques) else uniques
    elif (
        np.issubdtype(uniques.dtype, np.datetime64)
        and len(uniques)
        and (pd.DatetimeIndex(uniques).day == 1).all()
    ):
        index = pd.DatetimeIndex(uniques)
        months = (index.year * 12 + index.month).to_numpy().astype(np.int64)
        months -= months.min()
        step = int(np.gcd.reduce(np.diff(months))) if len(months) > 1 else 1
        steps = months // max(step, 1)
    else:
        return codes.astype(np.int64)
    return np.asarray(steps, dtype=np.int64)[codes]


class _Shifter:
    """Row positions of the same unit k periods away, computed once per k."""

    def __init__(self, frame: pd.DataFrame, unit: str, period: str) -> None:
        for name, role in ((unit, "unit"), (period, "time")):
            if name not in frame.columns:
                raise EstimateError(
                    f"--{role} {name}", "no such column; l() and f() need it", f"pass --{role}"
                )
        self.unit_code = pd.factorize(frame[unit].to_numpy(), sort=False)[0].astype(np.int64)
        self.period_code = period_steps(frame[period].to_numpy())
        self.n_periods = int(self.period_code.max()) + 1 if len(frame) else 0
        key = self.unit_code * (self.n_periods + 1) + self.period_code
        self.order = np.argsort(key, kind="stable")
        self.sorted_key = key[self.order]
        self._cache: dict[int, np.ndarray] = {}

    def rows(self, shift: int) -> np.ndarray:
        """For each row, the row holding the same unit ``shift`` periods earlier (-1 if none)."""
        if shift not in self._cache:
            source = self.period_code - shift
            target = self.unit_code * (self.n_periods + 1) + source
            pos = np.clip(np.searchsorted(self.sorted_key, target), 0, len(target) - 1)
            found = (self.sorted_key[pos] == target) & (source >= 0) & (source < self.n_periods)
            self._cache[shift] = np.where(found, self.order[pos], -1)
        return self._cache[shift]


def _evaluate(term: Term, frame: pd.DataFrame, shifter, expr: str) -> np.ndarray:
    if term.func is None:
        return _numeric(frame, term.column, expr)
    values = [_evaluate(arg, frame, shifter, expr) for arg in term.args]
    if term.func in ("l", "f"):
        rows = shifter().rows(term.k if term.func == "l" else -term.k)
        return np.where(rows >= 0, values[0][np.maximum(rows, 0)], np.nan)
    if term.func == "sum":
        return np.sum(values, axis=0)
    x = values[0]
    if term.func == "any":
        return np.where(np.isnan(x), np.nan, (x > 0).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log1p(x) if term.func == "log1p" else np.arcsinh(x)
    created = np.isnan(out) & ~np.isnan(x)
    if created.any():
        raise _bad(
            expr,
            f"{term.func}() is undefined for {int(created.sum())} values below -1",
            "log1p needs values > -1; asinh takes any value",
        )
    return out


def _numeric(frame: pd.DataFrame, column: str, expr: str) -> np.ndarray:
    if column not in frame.columns:
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "check the panel's columns"
        raise _bad(expr, f"no column {column!r} in the panel", hint)
    series = frame[column]
    if not (pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series)):
        raise _bad(
            expr, f"column {column!r} is {series.dtype}, not numeric", "terms apply to numeric columns"
        )
    return series.to_numpy(dtype=float, na_value=np.nan)


def materialize(
    frame: pd.DataFrame, exprs: list[str], unit: str = "unit_id", period: str = "period"
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Add one column per expression and return the frame and the expression -> column mapping.

    A bare column maps to itself (and is left as it is); any other term becomes a float column
    named by its canonical spelling. The input frame is not modified; with no terms it is
    returned as is. l()/f() shifts must be smaller than the panel's number of periods.
    """
    mapping: dict[str, str] = {}
    new: dict[str, np.ndarray] = {}
    state: dict[str, _Shifter] = {}

    def shifter() -> _Shifter:
        if "s" not in state:
            state["s"] = _Shifter(frame, unit, period)
        return state["s"]

    for expr in exprs:
        term = parse(expr)
        name = str(term)
        mapping[expr] = name
        if term.is_column:
            continue  # checked where its role is known (data.prepare names --outcome etc.)
        if name in new or name in frame.columns:
            continue
        too_far = [s for s in term.shifts() if abs(s) >= shifter().n_periods]
        if too_far:
            raise _bad(
                expr,
                f"shift of {abs(too_far[0])} periods but the panel has {shifter().n_periods}",
                "use a shorter lag or lead",
            )
        new[name] = _evaluate(term, frame, shifter, expr)
    if not new:
        return frame, mapping
    return frame.assign(**new), mapping
