"""hotline: the service behind a county's 12345 government hotline and its grid workers."""

__version__ = "0.1.0"
