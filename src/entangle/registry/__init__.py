"""The registry of a theatre: cited interventions, mandates, ties and sites, and their network.

``load_registry(path=None)`` reads and validates a theatre directory (no path: the bundled Mali
theatre); ``to_tables`` gives Arrow tables with the canonical columns; ``entangle.registry.network``
builds graphs and per-period metrics.
"""

from entangle.registry.load import bundled_path, load_registry
from entangle.registry.model import Registry
from entangle.registry.tables import to_tables

__all__ = ["Registry", "bundled_path", "load_registry", "to_tables"]
