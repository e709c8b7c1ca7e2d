"""Exposure and entanglement measures for every unit and period.

A site is *active in a period* when its [start, end] interval overlaps the period (an open end means
still active); a tie is active in a period by the same rule. For each intervention kind and period:

- ``dist_km_<kind>``: great-circle km from the unit to the nearest active site of that kind (null
  when no site of the kind is active anywhere). "From the unit" means from its centroid, or, when
  a (unit × site) distance matrix is given (admin polygons: 0 inside the polygon, distance to its
  boundary outside, see ``entangle.geo.polygon_distance``), the distance that matrix holds;
- ``present_<kind>_<r>km``: 1 when at least one active site of the kind lies within r km;
- ``troops_<kind>_<r>km``: sum of the known troop numbers of those sites (sites without a troop
  figure add 0);
- ``copresence_<r>km``: 1 when peacekeeping AND counterterrorism are both present within r km;
- ``entanglement_<r>km``: with P the set of interventions having an active site within r km,
  E = Σ over unordered pairs {a, b} ⊂ P of w_ab(t), where w_ab(t) is the total weight of the ties
  active in the period between a and b in either direction (see docs/panel.md for a worked example).

The computation is incremental over periods: from one period to the next only the sites that start
or stop change anything, so each step touches the cells near those sites instead of querying every
cell against every site again (a KD-tree on 3-D unit vectors answers the recomputations). With a
distance matrix the two paths differ only in how the distance from unit u to site s is obtained;
everything else (presence, troops, co-presence, entanglement) is the same code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
from scipy.spatial import cKDTree

from entangle.geo.distance import EARTH_RADIUS_KM, km_to_chord, unit_vectors

BASE_KINDS = ("peacekeeping", "counterterrorism", "state_forces", "private_military")
# Above this many site changes in one step a full KD-tree query is cheaper than the dense update.
_DENSE_UPDATE_MAX = 32


def radius_label(radius_km: float) -> str:
    """Column label of a radius: 25 -> '25', 12.5 -> '12p5'."""
    text = f"{radius_km:g}"
    return text.replace(".", "p")


@dataclasses.dataclass(frozen=True)
class Sites:
    """Active-interval sites with their intervention and kind (arrays of equal length)."""

    lat: np.ndarray
    lon: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], NaT = still active
    troops: np.ndarray  # float64, NaN = unknown
    intervention: np.ndarray  # object (str)
    kind: np.ndarray  # object (str)
    # False: the site counts for presence, not troops (a deployment source gives its intervention's
    # troops then; see entangle.panel.deployments). None: every site counts.
    counts_troops: np.ndarray | None = None


@dataclasses.dataclass(frozen=True)
class Ties:
    source: np.ndarray  # object (str)
    target: np.ndarray
    start: np.ndarray  # datetime64[D]
    end: np.ndarray  # datetime64[D], NaT = still active
    weight: np.ndarray  # float64


def exposure_kinds(sites: Sites) -> list[str]:
    """The four base kinds, then any other kind that has sites, sorted."""
    return list(BASE_KINDS) + sorted(set(sites.kind.tolist()) - set(BASE_KINDS))


@dataclasses.dataclass(frozen=True)
class ExposureSpec:
    """Which exposure columns to compute beyond the per-kind ones.

    ``interventions``: named interventions with their own ``dist_km_<id>``, ``present_<id>_<r>km`` and
    ``troops_<id>_<r>km``. ``pairs``: kind pairs with a ``copresence_<a>__<b>_<r>km`` column
    (``copresence_<r>km``, peacekeeping × counterterrorism, is always there). ``neighbours``: (m, 2)
    unit pairs (both directions, no self pairs) and ``site_unit`` the unit each site lies in (-1:
    none): with both, ``nb_present_<kind>`` and ``nb_troops_<kind>`` count the sites lying in a
    unit's neighbours, not in the unit itself.
    """

    interventions: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()
    neighbours: np.ndarray | None = None
    site_unit: np.ndarray | None = None


def copresence_name(a: str, b: str, label: str) -> str:
    return f"copresence_{a}__{b}_{label}km"


def exposure_columns(kinds: list[str], radii: list[float], spec: ExposureSpec | None = None) -> list[str]:
    """Names of the exposure columns, in panel order."""
    spec = spec or ExposureSpec()
    groups = list(kinds) + list(spec.interventions)
    cols = [f"dist_km_{g}" for g in groups]
    for r in radii:
        lab = radius_label(r)
        cols += [f"present_{g}_{lab}km" for g in groups] + [f"troops_{g}_{lab}km" for g in groups]
        cols += [f"copresence_{lab}km"] + [copresence_name(a, b, lab) for a, b in spec.pairs]
        cols += [f"entanglement_{lab}km"]
    if spec.neighbours is not None:
        cols += [f"nb_present_{k}" for k in kinds] + [f"nb_troops_{k}" for k in kinds]
    return cols


def _active(start: np.ndarray, end: np.ndarray, first: np.datetime64, last: np.datetime64) -> np.ndarray:
    return (start <= last) & (np.isnat(end) | (end >= first))


def tie_weights(
    ties: Ties, interventions: list[str], first: np.datetime64, last: np.datetime64
) -> np.ndarray:
    """Symmetric matrix of the summed weights of ties active in [first, last] (zero diagonal)."""
    index = {name: i for i, name in enumerate(interventions)}
    w = np.zeros((len(interventions), len(interventions)))
    for k in np.flatnonzero(_active(ties.start, ties.end, first, last)):
        a, b = index.get(ties.source[k]), index.get(ties.target[k])
        if a is not None and b is not None and a != b:
            w[a, b] += ties.weight[k]
            w[b, a] += ties.weight[k]
    return w


def entanglement_index(present: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ over unordered pairs of present interventions of their tie weight, per row of ``present``."""
    p = present.astype(np.float64)
    return 0.5 * np.einsum("ij,ij->i", p @ weights, p)


class _Nearest:
    """Nearest active site of one kind for every unit, updated as sites start and stop."""

    def __init__(self, cells: np.ndarray, sites: np.ndarray) -> None:
        self.cells = cells
        # (3, n) layout: a (k, 3) @ (3, n) product is ~8x faster than (n, 3) @ (3, k) in numpy
        self.cells_t = np.ascontiguousarray(cells.T)
        self.sites = sites
        self.best_dot = np.full(len(cells), -np.inf)
        self.best_site = np.full(len(cells), -1, dtype=np.int64)
        self.km = np.full(len(cells), np.nan)
        self.active: np.ndarray = np.zeros(0, dtype=np.int64)

    def _query(self, rows: np.ndarray) -> None:
        self.best_dot[rows], self.best_site[rows] = -np.inf, -1
        if len(self.active) == 0 or len(rows) == 0:
            return
        _, k = cKDTree(self.sites[self.active]).query(self.cells[rows], k=1)
        chosen = self.active[k]
        self.best_site[rows] = chosen
        self.best_dot[rows] = np.einsum("ij,ij->i", self.cells[rows], self.sites[chosen])

    def _refresh_km(self, rows: np.ndarray) -> None:
        """Arc length from the exact chord (the dot product loses precision at short distances)."""
        self.km[rows] = np.nan
        rows = rows[self.best_site[rows] >= 0]
        diff = self.cells[rows] - self.sites[self.best_site[rows]]
        chord = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        self.km[rows] = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))

    def update(self, active: np.ndarray, added: np.ndarray, removed: np.ndarray) -> None:
        self.active = active
        if len(added) > _DENSE_UPDATE_MAX:
            every = np.arange(len(self.cells))
            self._query(every)
            self._refresh_km(every)
            return
        changed = np.zeros(len(self.cells), dtype=bool)
        if len(removed):
            # lookup shifted by one so that "no site" (-1) maps to False
            gone = np.zeros(len(self.sites) + 1, dtype=bool)
            gone[removed + 1] = True
            rows = np.flatnonzero(gone[self.best_site + 1])
            self._query(rows)
            changed[rows] = True
        if len(added):
            dots = self.sites[added] @ self.cells_t
            # max over the new sites first (a fast reduction), argmax only where a new site wins
            better = np.flatnonzero(dots.max(axis=0) > self.best_dot)
            j = np.argmax(dots[:, better], axis=0)
            self.best_dot[better] = dots[j, better]
            self.best_site[better] = added[j]
            changed[better] = True
        self._refresh_km(np.flatnonzero(changed))


class _NearestFromMatrix:
    """Nearest active site of one kind for every unit, read off a (unit × site) distance matrix."""

    def __init__(self, site_km: np.ndarray) -> None:
        self.site_km = site_km
        self.km = np.full(site_km.shape[0], np.nan)

    def update(self, active: np.ndarray, added: np.ndarray, removed: np.ndarray) -> None:
        # few units and sites (admin layers): a full minimum per change is cheap
        self.km = self.site_km[:, active].min(axis=1) if len(active) else np.full(len(self.km), np.nan)


class _Tally:
    """Per (group, unit) counts of active sites, their known troops and their unknown figures."""

    def __init__(self, n_groups: int, n_units: int) -> None:
        self.count = np.zeros((n_groups, n_units), dtype=np.int32)
        self.troops = np.zeros((n_groups, n_units))
        self.unknown = np.zeros((n_groups, n_units), dtype=np.int32)

    def add(self, group: int, hit: np.ndarray, sign: int, troops: float, unknown: bool) -> None:
        self.count[group, hit] += sign
        if unknown:
            self.unknown[group, hit] += sign
        elif troops:
            self.troops[group, hit] += sign * troops

    def troop_column(self, group: int, present: np.ndarray) -> np.ndarray:
        """Sum of known figures; 0 with no site; NaN when a site in range has an unknown figure."""
        # Rounding: adding then removing float troop figures can leave ~1e-12 residues.
        out = np.where(present, np.round(self.troops[group], 6), 0.0)
        out[self.unknown[group] > 0] = np.nan
        return out


def exposure_stream(
    unit_lat: np.ndarray,
    unit_lon: np.ndarray,
    sites: Sites,
    ties: Ties,
    starts: np.ndarray,
    ends: np.ndarray,
    radii: list[float],
    site_km: np.ndarray | None = None,
    spec: ExposureSpec | None = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Yield, for each period [starts[t], ends[t]], the exposure columns as arrays over units.

    ``site_km``: optional (unit × site) great-circle km replacing the distances from the centroids
    (``unit_lat``, ``unit_lon``), e.g. ``entangle.geo.polygon_distance.polygon_point_km``.
    ``spec``: named interventions, kind pairs and neighbour exposure (``ExposureSpec``).
    A troop column is 0 where no site is in range and NaN where a site in range has an unknown
    figure (``Sites.troops`` NaN on a site that counts for troops): 0 never means unknown.
    """
    spec = spec or ExposureSpec()
    kinds = exposure_kinds(sites)
    n_units = len(unit_lat)
    interventions = sorted(set(sites.intervention.tolist()))
    int_index = np.array([interventions.index(i) for i in sites.intervention], dtype=np.int64)
    kind_index = np.array([kinds.index(k) for k in sites.kind], dtype=np.int64)
    # groups: the kinds, then the named interventions (a site belongs to its kind and maybe one name)
    groups = kinds + list(spec.interventions)
    named = {name: len(kinds) + j for j, name in enumerate(spec.interventions)}
    name_group = np.array([named.get(i, -1) for i in sites.intervention], dtype=np.int64)
    counts_troops = np.ones(len(sites.lat), bool) if sites.counts_troops is None else sites.counts_troops
    raw_troops = sites.troops.astype(np.float64)
    unknown = counts_troops & np.isnan(raw_troops)
    troops = np.where(counts_troops, np.nan_to_num(raw_troops, nan=0.0), 0.0)
    # Units within each radius of each site, found once (inclusive, with a rounding slack).
    if site_km is None:
        cells = unit_vectors(unit_lat, unit_lon)
        site_vec = unit_vectors(sites.lat, sites.lon)
        cell_tree = cKDTree(cells)
        near = {r: cell_tree.query_ball_point(site_vec, km_to_chord(r) * (1 + 1e-12)) for r in radii}
        near = {r: [np.asarray(h, dtype=np.int64) for h in hits] for r, hits in near.items()}
        nearest = [_Nearest(cells, site_vec) for _ in groups]
    else:
        near = {r: [np.flatnonzero(col <= r * (1 + 1e-12)) for col in site_km.T] for r in radii}
        nearest = [_NearestFromMatrix(site_km) for _ in groups]
    member = np.zeros((len(groups), len(sites.lat)), dtype=bool)
    member[kind_index, np.arange(len(sites.lat))] = True
    has_name = name_group >= 0
    member[name_group[has_name], np.flatnonzero(has_name)] = True
    # (group, unit) layout so that each output column is a contiguous row
    tally = {r: _Tally(len(groups), n_units) for r in radii}
    by_int = {r: np.zeros((n_units, len(interventions)), dtype=np.int32) for r in radii}
    # number of distinct interventions present per unit: only units with 2+ can be entangled
    n_present = {r: np.zeros(n_units, dtype=np.int32) for r in radii}
    neighbours = _NeighbourTally(spec, len(kinds), n_units) if spec.neighbours is not None else None
    was_active = np.zeros(len(sites.lat), dtype=bool)
    pk, ct = kinds.index("peacekeeping"), kinds.index("counterterrorism")
    pairs = [
        (kinds.index(a) if a in kinds else None, kinds.index(b) if b in kinds else None)
        for a, b in spec.pairs
    ]

    for first, last in zip(starts, ends, strict=True):
        active = _active(sites.start, sites.end, first, last)
        added, removed = np.flatnonzero(active & ~was_active), np.flatnonzero(~active & was_active)
        was_active = active
        for g, tracker in enumerate(nearest):
            of_group = member[g]
            if np.any(of_group[added]) or np.any(of_group[removed]):
                tracker.update(
                    np.flatnonzero(active & of_group), added[of_group[added]], removed[of_group[removed]]
                )
        for r in radii:
            for sign, changed in ((1, added), (-1, removed)):
                for s in changed:
                    hit = near[r][s]
                    tally[r].add(kind_index[s], hit, sign, troops[s], unknown[s])
                    if name_group[s] >= 0:
                        tally[r].add(name_group[s], hit, sign, troops[s], unknown[s])
                    before = by_int[r][hit, int_index[s]]
                    by_int[r][hit, int_index[s]] = before + sign
                    # a unit gains an intervention on 0 -> 1, loses one on 1 -> 0
                    n_present[r][hit] += (before == 0) if sign > 0 else -(before == 1).astype(np.int32)
        out: dict[str, np.ndarray] = {f"dist_km_{g}": nearest[j].km.copy() for j, g in enumerate(groups)}
        weights = tie_weights(ties, interventions, first, last) if interventions else None
        for r in radii:
            lab = radius_label(r)
            present = tally[r].count > 0
            for j, g in enumerate(groups):
                out[f"present_{g}_{lab}km"] = present[j].astype(np.int8)
            for j, g in enumerate(groups):
                out[f"troops_{g}_{lab}km"] = tally[r].troop_column(j, present[j])
            out[f"copresence_{lab}km"] = (present[pk] & present[ct]).astype(np.int8)
            for (a, b), (ia, ib) in zip(spec.pairs, pairs, strict=True):
                both = (
                    present[ia] & present[ib]
                    if ia is not None and ib is not None
                    else np.zeros(n_units, bool)
                )
                out[copresence_name(a, b, lab)] = both.astype(np.int8)
            ent = np.zeros(n_units)
            rows = np.flatnonzero(n_present[r] >= 2)
            if len(rows):
                ent[rows] = entanglement_index(by_int[r][rows] > 0, weights)
            out[f"entanglement_{lab}km"] = ent
        if neighbours is not None:
            neighbours.update(added, removed, kind_index, troops, unknown)
            out.update(neighbours.columns(kinds))
        yield out


class _NeighbourTally:
    """Sites lying in each unit, summed over the unit's neighbours (the unit itself left out)."""

    def __init__(self, spec: ExposureSpec, n_kinds: int, n_units: int) -> None:
        from scipy import sparse

        pairs = spec.neighbours
        self.adjacency = sparse.csr_matrix(
            (np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n_units, n_units)
        )
        self.site_unit = spec.site_unit
        self.inside = _Tally(n_kinds, n_units)
        self.cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def update(self, added, removed, kind_index, troops, unknown) -> None:
        for sign, changed in ((1, added), (-1, removed)):
            for s in changed:
                unit = self.site_unit[s]
                if unit >= 0:
                    self.inside.add(kind_index[s], np.array([unit]), sign, troops[s], unknown[s])
                    self.cache.pop(int(kind_index[s]), None)

    def columns(self, kinds: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for k, kind in enumerate(kinds):
            if k not in self.cache:
                count = self.adjacency @ (self.inside.count[k] > 0).astype(np.float64)
                total = np.round(self.adjacency @ self.inside.troops[k], 6)
                total[(self.adjacency @ (self.inside.unknown[k] > 0).astype(np.float64)) > 0] = np.nan
                self.cache[k] = ((count > 0).astype(np.int8), total)
            out[f"nb_present_{kind}"] = self.cache[k][0].copy()
            out[f"nb_troops_{kind}"] = self.cache[k][1].copy()
        return out
