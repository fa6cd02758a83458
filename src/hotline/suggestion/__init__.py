"""Suggestions (智能派单): category, owner unit, urgency and similar closed tickets from an
appeal's text, learned from the county's own closed tickets and versioned in the database."""
