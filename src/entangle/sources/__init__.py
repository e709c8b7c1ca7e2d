"""Loaders for event and deployment files, and the canonical columns they produce.

Each loader is a pure reader (``read_<source>(path, ...) -> LoadResult``); ``entangle.sources.ingest``
dispatches to them and hands the result to the store. ``EVENT_COLUMNS`` and ``SITE_COLUMNS`` are the
contract of docs/architecture.md (with the extra columns this layer adds), as DuckDB types.
"""

from __future__ import annotations

EVENT_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR",
    "source": "VARCHAR",
    "source_id": "VARCHAR",
    "source_version": "VARCHAR",
    "date_start": "DATE",
    "date_end": "DATE",
    "date_precision": "SMALLINT",
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "geo_precision": "SMALLINT",
    "country_iso3": "VARCHAR",
    "admin1": "VARCHAR",
    "admin2": "VARCHAR",
    "event_type": "VARCHAR",
    "violence_type": "VARCHAR",
    "actor1": "VARCHAR",
    "actor2": "VARCHAR",
    "perpetrator": "VARCHAR",
    "perpetrator_category": "VARCHAR",
    "target_civilians": "BOOLEAN",
    "target_peacekeepers": "BOOLEAN",
    "fatalities_best": "INTEGER",
    "fatalities_low": "INTEGER",
    "fatalities_high": "INTEGER",
    "civilian_fatalities": "INTEGER",
    # Added by this layer (allowed by the contract: columns may be added, never renamed).
    "sub_event_type": "VARCHAR",
    "actor1_id": "VARCHAR",  # UCDP side_a id (side_a_new_id, else side_a_dset_id); NULL for ACLED
    "actor2_id": "VARCHAR",
    "assoc_actor1": "VARCHAR",  # ACLED associated actors, '; '-separated as in the source
    "assoc_actor2": "VARCHAR",
    "actor1_rule": "INTEGER",  # actor_map rule that mapped actor1 (NULL: no rule matched)
    "actor2_rule": "INTEGER",
    "line": "BIGINT",  # line of the record in its file
    # Civilian targeting in the narrow sense (the panel's default civilian-harm definition): ACLED
    # "Violence against civilians" or, in the current schema, civilian_targeting; UCDP one-sided
    # violence (type 3). ``target_civilians`` is the wider "any civilian victim" coding.
    "civilian_targeting": "BOOLEAN",
}

SITE_COLUMNS: dict[str, str] = {
    "site_id": "VARCHAR",
    "source": "VARCHAR",
    "intervention_id": "VARCHAR",
    "name": "VARCHAR",
    "lat": "DOUBLE",
    "lon": "DOUBLE",
    "start": "DATE",
    "end": "DATE",
    "troops": "INTEGER",
    # Added by the deployment loaders (see sources/deployments.py).
    "source_version": "VARCHAR",
    "registry_site_id": "VARCHAR",
    "match_method": "VARCHAR",
    "match_km": "DOUBLE",
    "mission": "VARCHAR",
    "country": "VARCHAR",
    "country_iso3": "VARCHAR",
    "period": "VARCHAR",
    "troops_raw": "VARCHAR",
    "site_type": "VARCHAR",  # hq, camp, temporary_base, liaison, training, other
    "line": "BIGINT",
    "attributes": "VARCHAR",
}

CATEGORIES = ("state_and_allied", "international", "jihadist", "militia", "rebel", "other", "unknown")
