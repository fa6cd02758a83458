"""Where clustering runs. ``cluster.find`` is pure Python that holds the interpreter lock for
seconds over a month of appeals; in a thread of a serving process it starves that process's
requests (measured: half the tickets of a two-process server answered in 0.6-1.8 s instead of
10 ms for the five seconds of the first detection after a start). A serving process therefore
clusters in a child process of its own, started with it, at a lower CPU priority, with the
tokeniser loaded there; tests and commands use a thread. The child ends with its parent, however
the parent ends (a SIGKILL or the out-of-memory killer included).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from hotline.hotspot import cluster

Done = TypeVar("Done")

log = logging.getLogger(__name__)

# How a detection runs cluster.find: appeals and find's keywords in, hot spots out.
Finder = Callable[..., Awaitable[list[cluster.Found]]]
NICENESS = 10  # below the API's own processes
ORPHAN_CHECK = 1.0  # seconds between the child's looks at whether its parent still lives


async def in_thread(appeals: Sequence[cluster.Appeal], **options: Any) -> list[cluster.Found]:
    return await asyncio.to_thread(cluster.find, appeals, **options)


class InThread:
    """The clustering of a process that does not serve: in a thread."""

    find = staticmethod(in_thread)

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


def _child_started(parent: int) -> None:
    os.nice(NICENESS)
    threading.Thread(target=_end_with, args=(parent,), name="end-with-parent", daemon=True).start()
    cluster.warm()


def _end_with(parent: int) -> None:
    """End the child once its parent is gone. The pool's pipes are open in the child at both
    ends, so a parent killed without a word leaves it waiting for work for ever, holding the
    server's output and memory (found when a killed test server's output never closed)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK)
    os._exit(0)


class Clustering:
    """One child process, kept; ``close`` stops it. ``start`` starts it at once (a serving
    process does, before it answers anyone: the child's start-up, its imports and the
    tokeniser take about a second and a half of CPU), else the first detection does."""

    def __init__(self) -> None:
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        self._pool().submit(int)  # any call starts the child and runs its initializer

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_started,
                initargs=(os.getpid(),),
            )
        return self._executor

    async def find(self, appeals: Sequence[cluster.Appeal], **options: Any) -> list[cluster.Found]:
        loop = asyncio.get_running_loop()
        work = functools.partial(cluster.find, list(appeals), **options)
        try:
            return await loop.run_in_executor(self._pool(), work)
        except BrokenProcessPool:
            # The child died (killed, out of memory): start another and try once more.
            log.warning("the clustering process died; starting another")
            self.close()
            return await loop.run_in_executor(self._pool(), work)

    async def run(self, work: Callable[..., Done], *args: Any) -> Done:
        """Any other CPU-long work of the serving process in the same child (the suggestion
        model's retraining, jobs.serve): ``work`` and ``args`` must pickle."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), functools.partial(work, *args))
        except BrokenProcessPool:
            log.warning("the clustering process died; starting another")
            self.close()
            return await loop.run_in_executor(self._pool(), functools.partial(work, *args))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
