"""requirements.lock (made by `make lock`) pins every dependency pyproject.toml names, within its bounds.

A dependency added to pyproject.toml without re-running `make lock` fails here, before an install
that takes its versions from the lock silently resolves it on its own.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        names += extra
    return [Requirement(r) for r in names]


def _locked(python: str) -> dict[str, Version]:
    """Package -> pinned version for an environment with this Python (the lock is universal)."""
    env = default_environment() | {"python_full_version": python, "python_version": python[:4]}
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if not line or line[0] in "# ":
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            (spec,) = req.specifier
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def test_lock_pins_every_dependency_within_its_bounds():
    for python in ("3.11.9", "3.12.8"):
        pins = _locked(python)
        for req in _pyproject_requirements():
            name = canonicalize_name(req.name)
            assert name in pins, f"{req.name} is not in requirements.lock: run `make lock`"
            assert req.specifier.contains(pins[name]), f"lock has {name}=={pins[name]}, pyproject {req}"


def test_lock_keeps_pandas_where_pyspark_supports_it():
    # PySpark 4.x supports pandas >= 2.2 and warns that pandas >= 3 is not yet fully supported.
    pins = _locked("3.11.9")
    assert pins["pyspark"].major == 4
    assert Version("2.2") <= pins["pandas"] < Version("3")


def test_unused_packages_are_not_required():
    # polars and matplotlib were required but no module imports them (they may still come in as
    # dependencies of dependencies: differences needs polars, pyfixest's seaborn needs matplotlib).
    names = {canonicalize_name(r.name) for r in _pyproject_requirements()}
    assert not names & {"polars", "matplotlib"}
    for path in (ROOT / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                tops = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not tops & {"polars", "matplotlib"}, f"{path}:{node.lineno}"
