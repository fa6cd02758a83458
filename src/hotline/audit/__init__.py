"""The record of who read callers' personal data (DESIGN.md §8)."""
