"""What every loader returns: canonical rows, rejected rows with reasons, and counts.

Loaders are pure readers: ``read_<source>(path, ...) -> LoadResult``. The store writes a
``LoadResult`` in one transaction, so a loader never touches the database itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

# The reason given to a row merged into an earlier one ("folded into line N"): accounted for, not bad.
FOLDED = "folded into line"

REJECTS_SCHEMA = pa.schema(
    [
        ("line", pa.int64()),  # 1-based line (or record number for JSON) in the input file
        ("column", pa.string()),  # the offending column, if one
        ("reason", pa.string()),
        ("raw", pa.string()),  # the raw record, JSON-encoded
    ]
)


@dataclass(frozen=True)
class LoadResult:
    """Rows of one input file, split into canonical rows and rejects."""

    source: str  # 'ucdp', 'acled', 'geopko', 'radpko', 'csv'
    kind: Literal["events", "sites"]
    table: pa.Table  # canonical columns of ``events`` or ``sites``
    rejects: pa.Table = field(default_factory=lambda: REJECTS_SCHEMA.empty_table())
    rows_in: int = 0
    # Rejects that merely fold a duplicate into an earlier row (not errors): they are listed in
    # ``rejects`` so every input row is accounted for, but do not count towards the reject share.
    rows_folded: int = 0
    source_version: str | None = None
    notes: tuple[str, ...] = ()  # e.g. "312 troop cells were not numeric"

    @property
    def rows_loaded(self) -> int:
        return self.table.num_rows

    @property
    def rows_rejected(self) -> int:
        return self.rejects.num_rows

    @property
    def rows_bad(self) -> int:
        """Rejected rows that are errors (rejects less folded duplicates)."""
        return self.rows_rejected - self.rows_folded
