"""Tickets: the citizens' appeals (诉求), their intake, reads and timeline."""
