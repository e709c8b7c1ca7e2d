"""The loaded registry: a theatre's interventions, mandates, ties and sites, and what was in force when.

A tie or a site is *in force* on a day when it is active and so are the interventions it involves
(a tie that outlives one of its ends is clipped to the days both ends exist; the loader warns about it).
A mandate is in force between ``in_force_from`` and ``in_force_to``, whatever its intervention's dates.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from dataclasses import dataclass, field
from pathlib import Path

from entangle.errors import RegistryError
from entangle.registry.schema import Intervention, Mandate, Site, Theatre, Tie


def overlap(*spans: tuple[dt.date, dt.date | None]) -> tuple[dt.date, dt.date | None] | None:
    """The intersection of closed date intervals (``None`` end = open), or ``None`` when empty."""
    first = max(start for start, _ in spans)
    ends = [end for _, end in spans if end is not None]
    last = min(ends) if ends else None
    if last is not None and last < first:
        return None
    return first, last


def span(item: Intervention | Tie | Site) -> tuple[dt.date, dt.date | None]:
    """The closed interval ``[start, end]`` of a dated fact."""
    return item.start, item.end


@dataclass(frozen=True)
class Registry:
    """A validated theatre. Tuples keep the order of the YAML files."""

    theatre: Theatre
    interventions: tuple[Intervention, ...]
    mandates: tuple[Mandate, ...]
    ties: tuple[Tie, ...]
    sites: tuple[Site, ...]
    path: Path | None = None
    warnings: tuple[RegistryError, ...] = ()
    _by_id: dict[str, Intervention] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {item.id: item for item in self.interventions})

    def intervention(self, intervention_id: str) -> Intervention:
        """The intervention with this id; a ``RegistryError`` naming close matches otherwise."""
        try:
            return self._by_id[intervention_id]
        except KeyError:
            close = difflib.get_close_matches(intervention_id, self._by_id, n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(self._by_id)}"
            raise RegistryError("registry", f"no intervention {intervention_id!r}", hint) from None

    def tie_span(self, tie: Tie) -> tuple[dt.date, dt.date | None] | None:
        """The days a tie is in force: its own dates clipped to both ends' lifetimes."""
        return self._tie_spans[tie.id]

    def site_span(self, site: Site) -> tuple[dt.date, dt.date | None] | None:
        """The days a site is in force: its own dates clipped to its intervention's lifetime."""
        return self._site_spans[site.id]

    # Computed once per registry: per-period metrics ask for every span of every period.
    @functools.cached_property
    def _tie_spans(self) -> dict[str, tuple[dt.date, dt.date | None] | None]:
        return {
            t.id: overlap(span(t), span(self._by_id[t.source_id]), span(self._by_id[t.target_id]))
            for t in self.ties
        }

    @functools.cached_property
    def _site_spans(self) -> dict[str, tuple[dt.date, dt.date | None] | None]:
        return {s.id: overlap(span(s), span(self._by_id[s.intervention_id])) for s in self.sites}

    def between(self, first: dt.date, last: dt.date) -> Registry:
        """Everything in force on at least one day of ``[first, last]``."""
        window = (first, last)

        def meets(item_span: tuple[dt.date, dt.date | None] | None) -> bool:
            return item_span is not None and overlap(item_span, window) is not None

        return Registry(
            theatre=self.theatre,
            interventions=tuple(i for i in self.interventions if meets(span(i))),
            mandates=tuple(m for m in self.mandates if meets((m.in_force_from, m.in_force_to))),
            ties=tuple(t for t in self.ties if meets(self.tie_span(t))),
            sites=tuple(s for s in self.sites if meets(self.site_span(s))),
            path=self.path,
        )

    def at(self, day: dt.date) -> Registry:
        """Everything in force on ``day``."""
        return self.between(day, day)

    def counts(self) -> dict[str, int]:
        """Number of interventions, mandates, ties and sites."""
        return {
            "interventions": len(self.interventions),
            "mandates": len(self.mandates),
            "ties": len(self.ties),
            "sites": len(self.sites),
        }
