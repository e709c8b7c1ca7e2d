"""Shared test fixtures: the CLI runner and access to ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from entangle.cli import run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ENTANGLE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real third-party files (tests only). Skip when absent, fail in CI where they must exist."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("ENTANGLE_REQUIRE_SHARED") == "1":
            pytest.fail(f"ENTANGLE_REQUIRE_SHARED=1 but {SHARED_DATA} is missing")
        pytest.skip(f"{SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture
def cli(capsys):
    """Run ``entangle ARGS...`` in-process; return (exit_code, stdout, stderr)."""

    def invoke(*args: str) -> tuple[int, str, str]:
        code = run_cli([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke
