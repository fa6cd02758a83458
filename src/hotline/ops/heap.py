"""The heap of a serving process: what CPython's cycle collector walks, and how often.

A long poll held open is a stack of some thirty coroutines and two hundred objects (uvicorn's
protocol, Starlette's and FastAPI's middleware, the endpoint's frames); a process holding a
thousand of them keeps a quarter of a million objects that live for seconds. Each full
collection walks every tracked object (those, and everything imported at start), and while it
walks the process answers no one: 150-300 ms on the benchmark machine, every four or five
seconds, which put the wake-ups' p99 above 250 ms (docs/performance.md). Two settings keep those
pauses out of the answers:

* what the process holds for its life (modules, the routing state, the other caches) is frozen
  once loaded (``gc.freeze``), so no collection walks it again;
* a full collection waits for ``FULL_EVERY`` younger ones instead of CPython's 10. Garbage
  that needs the cycle collector is rare here (a request's objects are freed by reference
  counting when it ends), and what a full collection finds still goes, only later.
"""

from __future__ import annotations

import gc

FULL_EVERY = 100  # collections of the middle generation between two full collections


def settle() -> None:
    """Once the process has imported and loaded what it keeps: collect, freeze what is left,
    and space out full collections. Calling it again freezes what was added since."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_EVERY)
