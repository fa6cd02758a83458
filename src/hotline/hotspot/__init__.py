"""Hot spots (类案): repeated appeals found and handled as a class (DESIGN.md §7)."""
