"""A serving process clusters in a child process of its own (hotspot.runner): the same hot spots
as in a thread, a child that dies is replaced, and its requests are not starved meanwhile."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from hotline.hotspot.runner import Clustering, in_thread
from tests.hotspot.test_cluster import NOISE, NOW, POTHOLE, appeal, water

APPEALS = [*water(), appeal(4, NOISE), appeal(5, POTHOLE)]


async def test_the_child_finds_what_a_thread_finds_and_the_loop_runs_meanwhile() -> None:
    clustering = Clustering()
    try:
        clustering.start()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(tick())
        started = time.monotonic()
        found = await clustering.find(APPEALS, now=NOW, window_days=30, min_size=3, threshold=0.3)
        took = time.monotonic() - started
        ticking.cancel()
        assert found == await in_thread(APPEALS, now=NOW, window_days=30, min_size=3, threshold=0.3)
        assert [f.ids for f in found] == [(1, 2, 3)]
        # The event loop kept turning while the child started and clustered.
        assert ticks >= took / 0.01 * 0.5, (ticks, took)
    finally:
        clustering.close()


async def test_a_child_that_dies_is_replaced() -> None:
    clustering = Clustering()
    try:
        first = await clustering.find(APPEALS, now=NOW)
        assert clustering._executor is not None
        for pid in list(clustering._executor._processes):  # type: ignore[attr-defined]
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        assert await clustering.find(APPEALS, now=NOW) == first
    finally:
        clustering.close()
