"""Clocks: working days, time-limit policies and deadlines (DESIGN.md §6)."""
