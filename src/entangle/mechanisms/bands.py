"""Distance bands: edges in km, strictly increasing from 0; the last band is open (> last edge)."""

from __future__ import annotations

import itertools

import numpy as np

from entangle.errors import InputError

DEFAULT_EDGES = (0.0, 10.0, 25.0, 50.0, 100.0)


def check_edges(edges: list[float] | tuple[float, ...]) -> list[float]:
    """The edges as floats; ``ValueError`` when they do not start at 0 or do not increase."""
    values = [float(e) for e in edges]
    if not values:
        raise ValueError("give at least one band edge, e.g. [0, 10, 25, 50, 100]")
    if values[0] != 0:
        raise ValueError(f"bands start at 0 km, not {values[0]:g}")
    for lo, hi in itertools.pairwise(values):
        if hi <= lo:
            raise ValueError(f"band edges must increase: {hi:g} follows {lo:g} (bands overlap or are empty)")
    return values


def parse_edges(text: str, where: str = "--bands") -> list[float]:
    """Edges from '0,10,25,50,100'; an ``InputError`` (one line, exit 2) when they are not valid."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(where, f"{text!r} is not a list of numbers", "e.g. --bands 0,10,25,50,100") from None
    try:
        return check_edges(values)
    except ValueError as exc:
        raise InputError(where, str(exc), "e.g. --bands 0,10,25,50,100") from None


def band_labels(edges: list[float]) -> list[str]:
    """'0-10 km', ..., '> 100 km'."""
    labels = [f"{lo:g}-{hi:g} km" for lo, hi in itertools.pairwise(edges)]
    return [*labels, f"> {edges[-1]:g} km"]


def band_index(km: np.ndarray, edges: list[float]) -> np.ndarray:
    """Band of each distance: (lo, hi] (0 km included in the first), > last edge; -1 for NaN.

    A distance exactly on an edge belongs to the nearer band: 10 km is in 0-10, not 10-25.
    """
    km = np.asarray(km, dtype=np.float64)
    out = np.searchsorted(np.asarray(edges), km, side="left") - 1
    return np.where(np.isnan(km), -1, np.maximum(out, 0))
