"""The unit × period panel (see docs/panel.md).

Names are loaded lazily: ``entangle.geo.assign`` uses ``entangle.panel.periods``, and the builder
uses ``entangle.geo.assign``, so importing the builder here eagerly would be circular.
"""

from __future__ import annotations

__all__ = ["PanelSpec", "build_panel", "iter_panel", "registry_sites", "write_batches", "write_panel"]


def __getattr__(name: str):
    if name in __all__:
        from entangle.panel import build

        return getattr(build, name)
    raise AttributeError(name)
