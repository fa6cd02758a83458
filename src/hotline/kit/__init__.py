"""Helpers with no domain words in them."""
