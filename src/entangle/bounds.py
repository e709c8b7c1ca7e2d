"""Bounds every layer checks its inputs against (the study file, the panel spec, the CLI flags)."""

from __future__ import annotations

import datetime as dt

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
MAX_RADIUS_KM = 20_000.0  # half the Earth's circumference: every point is within it
