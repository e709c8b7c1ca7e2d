"""The unit × period panel (see docs/panel.md)."""

from entangle.panel.build import PanelSpec, build_panel, registry_sites, write_panel

__all__ = ["PanelSpec", "build_panel", "registry_sites", "write_panel"]
