"""The shared ACLED extract in a store, once per session (ACLED only: sites come from the registry)."""

from __future__ import annotations

from pathlib import Path

import pytest

ACLED = Path("acled_mali_extract") / "Processed_Acled_Mali.csv"


@pytest.fixture(scope="session")
def acled_store(shared_data, tmp_path_factory) -> Path:
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    path = tmp_path_factory.mktemp("mech") / "store.duckdb"
    with open_store(path) as store:
        ingest(store, "acled", shared_data / ACLED)
    return path


@pytest.fixture(scope="session")
def acled_csv(shared_data):
    import pandas as pd

    return pd.read_csv(shared_data / ACLED)
