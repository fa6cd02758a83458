"""Routing: who owns a new ticket (DESIGN.md §4)."""
