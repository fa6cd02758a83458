"""Webhooks: signed event notifications through a transactional outbox (DESIGN.md §9)."""
