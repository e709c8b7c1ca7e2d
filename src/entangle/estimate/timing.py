"""Treatment timing: onset period per unit and event time per row, from a units × periods matrix."""

from __future__ import annotations

import re

import numpy as np

from entangle.estimate.data import Panel

NEVER = -1


def onsets(matrix: np.ndarray) -> np.ndarray:
    """Index of the first period with a non-zero treatment per unit; ``NEVER`` (-1) if none."""
    treated = np.nan_to_num(matrix) != 0
    return np.where(treated.any(axis=1), treated.argmax(axis=1), NEVER)


def switches_off(matrix: np.ndarray, onset: np.ndarray) -> int:
    """How many units have a zero treatment after their onset (the designs treat onset as absorbing)."""
    after = np.arange(matrix.shape[1])[None, :] >= onset[:, None]
    observed_zero = np.nan_to_num(matrix, nan=1.0) == 0
    return int(((onset >= 0)[:, None] & after & observed_zero).any(axis=1).sum())


def event_time(panel: Panel, onset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: event time (period − onset; meaningless for never-treated) and ever-treated flag."""
    unit_onset = onset[panel.unit_code]
    return panel.period_code - unit_onset, unit_onset >= 0


def timing_warnings(panel: Panel, matrix: np.ndarray, onset: np.ndarray) -> list[str]:
    out = []
    off = switches_off(matrix, onset)
    if off:
        out.append(
            f"{off} {'unit stops' if off == 1 else 'units stop'} being treated after onset; "
            "event time counts from the first onset"
        )
    first = int((onset == 0).sum())
    if first:
        out.append(f"{first} units are treated from the first period (no pre-period): they identify nothing")
    return out


def cohort_table(panel: Panel, onset: np.ndarray) -> list[dict]:
    """One row per onset period (timing group): its date, units, and the event times observed."""
    rows = []
    unit_onset = onset[panel.unit_code]
    for start in np.unique(onset[onset >= 0]):
        units = np.flatnonzero(onset == start)
        rel = panel.period_code[unit_onset == start] - start
        rows.append(
            {
                "onset": _period_label(panel.periods[start]),
                "units": len(units),
                "first_event_time": int(rel.min()),
                "last_event_time": int(rel.max()),
            }
        )
    never = int((onset == NEVER).sum())
    rows.append({"onset": "never", "units": never, "first_event_time": None, "last_event_time": None})
    return rows


def _period_label(value) -> str:
    """ISO date for datetime periods, plain text otherwise."""
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="D"))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value)


def censored_units(metadata: dict | None, treatment: str) -> list[str] | None:
    """Units whose onset of ``treatment`` the panel flags as left-censored (treated when coverage
    began, so the first period seen is not an onset). ``None`` when the panel records no onsets.

    Contract (panel Parquet metadata, key ``entangle``): ``"onsets": {"coverage_start": {source:
    date}, "left_censored": {exposure column: [unit_id, ...]}}``. A treatment written as a term
    (e.g. ``l(present_peacekeeping_50km, 1)``) uses the flags of the column it names.
    """
    record = (metadata or {}).get("onsets")
    if not isinstance(record, dict) or not isinstance(record.get("left_censored"), dict):
        return None
    flags = record["left_censored"]
    if treatment in flags:
        return [str(u) for u in flags[treatment]]
    named = [c for c in flags if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", treatment)]
    return sorted({str(u) for c in named for u in flags[c]})


CENSORED_MODES = ("exclude", "keep")


def exclude_censored(frame, treatment: str, unit: str, metadata: dict | None, mode: str):
    """Drop the units whose onset is left-censored (``mode="exclude"``); return the frame and a note
    for ``Result.extra["censored_onsets"]`` that says what was done and why."""
    from entangle.errors import EstimateError

    if mode not in CENSORED_MODES:
        raise EstimateError("--option censored_onsets", f"unknown {mode!r}", "exclude or keep")
    flagged = censored_units(metadata, treatment)
    if flagged is None:
        return frame, {
            "mode": mode,
            "recorded": False,
            "excluded_units": 0,
            "note": "the panel records no left-censored onsets: nothing excluded",
        }
    if unit not in frame.columns:
        return frame, {"mode": mode, "recorded": True, "flagged_units": len(flagged), "excluded_units": 0}
    hit = frame[unit].astype(str).isin(set(flagged)).to_numpy()
    present = int(frame.loc[hit, unit].nunique())
    note = {"mode": mode, "recorded": True, "flagged_units": present}
    if mode == "keep" or not hit.any():
        return frame, note | {"excluded_units": 0}
    return frame.loc[~hit], note | {"excluded_units": present, "excluded_rows": int(hit.sum())}
