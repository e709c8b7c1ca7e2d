"""Periods (month, quarter, year) as consecutive integer indices from the study start."""

from __future__ import annotations

import calendar
import datetime as dt
import re

import numpy as np

from entangle.errors import PanelError

MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


def _month_number(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of datetime64[D] values."""
    return days.astype("datetime64[M]").astype(np.int64)


def period_starts(start: dt.date, end: dt.date, period: str) -> np.ndarray:
    """First day (datetime64[D]) of every period overlapping [start, end]."""
    if period not in MONTHS_PER:
        raise PanelError("period", f"unknown period {period!r}", "use month, quarter or year")
    if end < start:
        raise PanelError("period", f"empty period range: {end} is before {start}", "check --from and --to")
    step = MONTHS_PER[period]
    first = _month_number(np.array([start], dtype="datetime64[D]"))[0] // step
    last = _month_number(np.array([end], dtype="datetime64[D]"))[0] // step
    months = np.arange(first, last + 1) * step
    return months.astype("datetime64[M]").astype("datetime64[D]")


def period_index(days: np.ndarray, start: dt.date, period: str) -> np.ndarray:
    """Index of the period containing each day, counted from the period containing ``start``."""
    step = MONTHS_PER[period]
    first = _month_number(np.array([start], dtype="datetime64[D]"))[0] // step
    return _month_number(np.asarray(days, dtype="datetime64[D]")) // step - first


_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def parse_bound(text: str, where: str, last: bool = False) -> dt.date:
    """A period bound written ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``.

    A year or a month stands for its first day, or with ``last`` for its last day: ``--from 2019-03``
    is 2019-03-01 and ``--to 2019-03`` is 2019-03-31, so ``--from 2019 --to 2019`` is all of 2019.
    """
    found = _BOUND.fullmatch(text.strip())
    if not found:
        raise PanelError(where, f"{text!r} is not a date", "use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = (int(g) if g else None for g in found.groups())
    try:
        if day is not None:
            return dt.date(year, month, day)
        if month is not None:
            return dt.date(year, month, calendar.monthrange(year, month)[1] if last else 1)
        return dt.date(year, 12, 31) if last else dt.date(year, 1, 1)
    except ValueError:
        raise PanelError(where, f"{text!r} is not a date", "use YYYY, YYYY-MM or YYYY-MM-DD") from None
