"""Treatment timing: onset period per unit and event time per row, from a units × periods matrix."""

from __future__ import annotations

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
