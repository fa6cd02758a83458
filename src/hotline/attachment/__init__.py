"""Photos of a ticket's work (before, during, after): uploaded by those who handle it, kept
privately as sent, served re-encoded without metadata."""
