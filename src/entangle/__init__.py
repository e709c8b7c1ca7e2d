"""entangle: UN peacekeeping beside counterterrorism, and what it does to civilians.

The public API (docs/api.md): ``import entangle as en`` then ``en.load_registry``, ``en.read``,
``en.ingest``, ``en.panel_from_files``, ``en.panel_from_store``, ``en.fit`` (estimate one model),
``en.load_study`` and ``en.run_study`` (``en.panel`` and ``en.estimate`` are the subpackages).
Names load on first use, so ``import entangle`` (and the CLI's start-up) stays quick.
"""

from __future__ import annotations

__version__ = "0.1.0"

# name -> module that defines it
_API = {
    "load_registry": "entangle.api",
    "read": "entangle.api",
    "ingest": "entangle.api",
    "panel_from_files": "entangle.api",
    "fit": "entangle.api",
    "load_study": "entangle.api",
    "run_study": "entangle.api",
    "panel_from_store": "entangle.panel.io",
    "Registry": "entangle.registry.model",
    "LoadResult": "entangle.sources.base",
    "Result": "entangle.estimate.result",
    "PanelSpec": "entangle.panel.build",
    # mechanisms (issue 11): the `mechanisms` package adds its verbs here, e.g.
    # "hrddp_monitor": "entangle.mechanisms", "distance_profile": "entangle.mechanisms".
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'entangle' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
