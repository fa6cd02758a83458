"""The organisation: units, grids, staff and the dispatch catalogue (DESIGN.md §3)."""
