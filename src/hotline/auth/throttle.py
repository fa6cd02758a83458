"""Refusing a client address that keeps presenting bad keys (429), per process.

A sliding window of failures per address: past ``limit`` failures in ``window`` seconds the
address is refused until the window has room again, even with a good key (a guesser must not
learn which of its guesses was right). In memory: each API process counts its own (one
``Throttle`` in the app's state, its limit from HOTLINE_SECURITY__BAD_KEY_LIMIT).
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

    def blocked(self, address: str) -> float | None:
        """Seconds until the address may try again, or None."""
        now = time.monotonic()
        seen = self._recent(address, now)
        if len(seen) >= self.limit:
            return self.window - (now - seen[0])
        if not seen:
            self._failures.pop(address, None)
        return None

    def failed(self, address: str) -> None:
        now = time.monotonic()
        self._recent(address, now).append(now)
        if len(self._failures) > 100_000:  # bound the memory an address scan could take
            self._failures.clear()
