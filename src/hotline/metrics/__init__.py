"""The dashboard's figures (DESIGN.md §7): defined once, here, and in docs/metrics.md."""
