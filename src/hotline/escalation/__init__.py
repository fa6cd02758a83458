"""Escalation (疑难诉求逐级化解), the confirmation group's rulings, and supervision (督办)."""
