"""Logging the failures of a background loop (sweeper, webhook delivery) while the database is
away: the first failure and each new kind of failure with a traceback, not one per tick, and
one line when the loop works again, so an outage and its end both show in the log."""

from __future__ import annotations

import logging
import sys
import time


class FailureLog:
    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log = log
        self.what = what
        self.count = 0
        self.since = 0.0
        self.kind: str | None = None

    def failed(self) -> None:
        """Call from the ``except`` block of a failed tick."""
        error = sys.exc_info()[1]
        kind = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        if self.count == 0:
            self.since = time.monotonic()
        self.count += 1
        if kind != self.kind:
            self.kind = kind
            self.log.exception("%s failed; retrying each tick", self.what)

    def succeeded(self) -> None:
        """Call after a tick that worked."""
        if self.count:
            self.log.warning(
                "%s resumed after %d failed attempts over %.1f s",
                self.what,
                self.count,
                time.monotonic() - self.since,
            )
        self.count = 0
        self.kind = None
