"""Spatial units (PRIO-GRID, admin polygons, H3), assignment of points to units, and distances."""
