"""Randomization inference that respects geography.

Units keep their location and their outcomes; what is re-drawn is *which* unit carries which
treatment history. The ``pool`` says among which units histories are exchanged:

* ``treated`` (default): only ever-treated units swap histories, so the set of places that ever got
  a site is kept and only the timing of openings is re-assigned;
* ``all``: every unit can receive any history (sites re-assigned among all locations);
* a column name: a 0/1 column marking feasible locations (e.g. within reach of a road or town);
  histories are exchanged among units where it is 1.

The p-value for each term is (1 + #{|b_placebo| ≥ |b_observed|}) / (1 + draws), two-sided, under
the sharp null of no effect. The permutations come from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from entangle.errors import EstimateError
from entangle.estimate.data import Panel

DEFAULT_DRAWS = 199
DEFAULT_SEED = 20130425  # the day the UN Security Council created MINUSMA (resolution 2100)


def pool_units(panel: Panel, pool: str) -> np.ndarray:
    """Indices of the units whose treatment histories may be exchanged."""
    if pool == "treated":
        ever = np.zeros(panel.n_units, dtype=bool)
        ever[panel.unit_code[panel.d != 0]] = True
        return np.flatnonzero(ever)
    if pool == "all":
        return np.arange(panel.n_units)
    if pool not in panel.columns:
        raise EstimateError(
            "--option ri_pool", f"unknown pool {pool!r}", "use treated, all or a 0/1 column name"
        )
    feasible = np.zeros(panel.n_units, dtype=bool)
    feasible[panel.unit_code[panel.columns[pool].astype(float) != 0]] = True
    return np.flatnonzero(feasible)


def permutations(panel: Panel, pool: str, draws: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """The units × periods treatment matrix and ``draws`` row permutations of it within the pool."""
    if not panel.balanced:
        raise EstimateError(
            "--inference ri",
            "needs a balanced panel (every unit in every period)",
            "fill missing unit-periods",
        )
    matrix = panel.matrix(panel.d)
    members = pool_units(panel, pool)
    if len(members) < 2:
        raise EstimateError("--option ri_pool", f"pool {pool!r} has fewer than 2 units", "use ri_pool=all")
    rng = np.random.default_rng(seed)
    orders = []
    for _ in range(draws):
        order = np.arange(panel.n_units)
        order[members] = members[rng.permutation(len(members))]
        orders.append(order)
    return matrix, orders


def randomization_pvalues(
    panel: Panel,
    observed: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    pool: str = "treated",
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per-term RI p-values, the placebo estimates (draws × terms) and any warnings.

    ``statistic`` maps a units × periods treatment matrix to the vector of term estimates.
    """
    matrix, orders = permutations(panel, pool, draws, seed)
    warnings = []
    if len(np.unique(matrix[pool_units(panel, pool)], axis=0)) < 2:
        warnings.append(f"every unit in ri_pool={pool} has the same treatment history; RI is uninformative")
    iterator = orders
    if progress:
        from rich.console import Console
        from rich.progress import track

        console = Console(stderr=True)
        iterator = track(orders, description="randomization inference", transient=True, console=console)
    placebo = np.array([statistic(matrix[order]) for order in iterator])
    exceed = (np.abs(placebo) >= np.abs(observed)[None, :] - 1e-12).sum(axis=0)
    return (1 + exceed) / (1 + draws), placebo, warnings
