"""Fuzz cases run with a private store and cache, offline, and are marked ``fuzz``."""

from __future__ import annotations

import pytest

# pyarrow cannot hand a malformed row holding invalid UTF-8 to the invalid-row handler (it fails to
# decode the row's text first), says so as an unraisable exception and reports the whole read as
# invalid; the reader then falls back to Windows-1252, which every case below checks end to end.
PYARROW_ROW_TEXT = "ignore:Exception ignored in.*on_invalid:pytest.PytestUnraisableExceptionWarning"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/fuzz/" in str(item.fspath):
            item.add_marker(pytest.mark.fuzz)
            item.add_marker(pytest.mark.filterwarnings(PYARROW_ROW_TEXT))


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A private store and cache; no download is ever tried."""
    path = tmp_path / "store" / "entangle.duckdb"
    monkeypatch.setenv("ENTANGLE_STORE", str(path))
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")
    return path
