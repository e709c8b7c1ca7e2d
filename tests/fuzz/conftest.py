"""Fuzz cases run with a private store and cache, offline, and are marked ``fuzz``."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/fuzz/" in str(item.fspath):
            item.add_marker(pytest.mark.fuzz)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A private store and cache; no download is ever tried."""
    path = tmp_path / "store" / "entangle.duckdb"
    monkeypatch.setenv("ENTANGLE_STORE", str(path))
    monkeypatch.setenv("ENTANGLE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("ENTANGLE_OFFLINE", "1")
    return path
