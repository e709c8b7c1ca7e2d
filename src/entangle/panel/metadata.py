"""The panel's own record of how it was built: the JSON under the Parquet schema metadata key
``entangle`` (study hash, sources, rules, onsets; docs/architecture.md)."""

from __future__ import annotations

import json
from typing import Any


def panel_metadata(table_or_schema: Any) -> dict:
    """The ``entangle`` metadata of an Arrow table or schema; {} when absent or unreadable (a panel
    written by another tool is still a panel)."""
    schema = getattr(table_or_schema, "schema", table_or_schema)
    raw = (getattr(schema, "metadata", None) or {}).get(b"entangle")
    try:
        meta = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}
