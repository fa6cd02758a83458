"""The access log keeps no API key.

Open311 lets a reader send ``api_key`` in the query string (GeoReport v2), and uvicorn's access
log writes every request's path with its query: a key read from the log acts as its owner.
"""

from __future__ import annotations

import logging
import re

# `api_key` as Starlette reads it: the name may arrive percent-encoded (api%5Fkey).
_KEY = re.compile(r"((?:^|[?&])api(?:_|%5f)key=)[^&\s]*", re.IGNORECASE)


class RedactKeys(logging.Filter):
    """Masks the value of every ``api_key`` in a record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _KEY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def install() -> None:
    """Filter uvicorn's access log (once per process)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactKeys) for f in access.filters):
        access.addFilter(RedactKeys())
