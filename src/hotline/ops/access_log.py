"""The access log keeps no API key and no phone.

Open311 lets a reader send ``api_key`` in the query string (GeoReport v2), and uvicorn's access
log writes every request's path with its query: a key read from the log acts as its owner. The
caller history (``GET /v1/callers/history?phone=``) takes a caller's phone the same way.
"""

from __future__ import annotations

import logging
import re

# `api_key` and `phone` as Starlette reads them: a name may arrive percent-encoded (api%5Fkey,
# %70hone).
_KEY = re.compile(
    r"((?:^|[?&])(?:api(?:_|%5f)key|(?:p|%70)(?:h|%68)(?:o|%6f)(?:n|%6e)(?:e|%65))=)[^&\s]*",
    re.IGNORECASE,
)


class RedactKeys(logging.Filter):
    """Masks the value of every ``api_key`` and ``phone`` in a record's arguments."""

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
