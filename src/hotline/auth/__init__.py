"""Who is calling: API keys, principals and roles (DESIGN.md §2)."""
