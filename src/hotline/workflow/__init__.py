"""The life of a ticket: states, actions, and who may take them (DESIGN.md §5)."""
