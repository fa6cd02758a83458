"""Refusing the bad keys of a client address that keeps guessing (429), per process.

A sliding window of failures per address: once ``limit`` bad keys have come from an address in
``window`` seconds, its further bad keys are answered 429 (with ``Retry-After``) instead of 401
until the window has room again. A valid key is never refused: a township office behind one
NAT address must not be locked out by one of its machines presenting a stale key. Keys are
random and long, so answering a guess 429 rather than 401 gives nothing away. In memory: each
API process counts its own (one ``Throttle`` in the app's state, its limit from
HOTLINE_SECURITY__BAD_KEY_LIMIT). The bearer header and Open311's ``api_key`` count alike.
"""

from __future__ import annotations

import time
from collections import deque


class Throttle:
    def __init__(self, limit: int = 20, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        seen = self._failures.setdefault(address, deque())
        while seen and now - seen[0] > self.window:
            seen.popleft()
        return seen

    def failed(self, address: str) -> float | None:
        """Count a bad key from ``address``: None while it is within the limit, else the seconds
        until the address's bad keys are answered 401 again."""
        now = time.monotonic()
        seen = self._recent(address, now)
        if len(self._failures) > 100_000:  # bound the memory an address scan could take
            self._failures.clear()
            seen = self._failures.setdefault(address, deque())
        if len(seen) >= self.limit:
            return self.window - (now - seen[0])
        seen.append(now)
        return None
