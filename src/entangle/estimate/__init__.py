"""Estimation: credible designs on any unit × period panel, with honest uncertainty.

``estimate(panel_df, design, outcome, treatment, ...) -> Result`` and
``estimate_study(study, panel_path) -> list[Result]``; see docs/estimation.md.

The names load on first use (PEP 562), so light submodules such as ``entangle.estimate.terms``
(used to validate study files) do not pull in the estimators and their dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from entangle.estimate.api import estimate, estimate_file
    from entangle.estimate.grid import estimate_study
    from entangle.estimate.result import Estimate, Result

__all__ = ["Estimate", "Result", "estimate", "estimate_file", "estimate_study"]
_HOME = {
    "estimate": "api",
    "estimate_file": "api",
    "estimate_study": "grid",
    "Estimate": "result",
    "Result": "result",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'entangle.estimate' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"entangle.estimate.{_HOME[name]}"), name)
