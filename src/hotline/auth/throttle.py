"""Refusing a client address that keeps presenting bad keys (429), per process.

A sliding window of failures per address: past ``LIMIT`` failures in ``WINDOW`` seconds the
address is refused until the window has room again, even with a good key (a guesser must not
learn which of its guesses was right). In memory: each API process counts its own.
"""

from __future__ import annotations

import time
from collections import deque

LIMIT = 20
WINDOW = 60.0
_failures: dict[str, deque[float]] = {}


def _recent(address: str, now: float) -> deque[float]:
    seen = _failures.setdefault(address, deque())
    while seen and now - seen[0] > WINDOW:
        seen.popleft()
    return seen


def blocked(address: str) -> float | None:
    """Seconds until the address may try again, or None."""
    now = time.monotonic()
    seen = _recent(address, now)
    if len(seen) >= LIMIT:
        return WINDOW - (now - seen[0])
    if not seen:
        _failures.pop(address, None)
    return None


def failed(address: str) -> None:
    now = time.monotonic()
    _recent(address, now).append(now)
    if len(_failures) > 100_000:  # bound the memory an address scan could take
        _failures.clear()
