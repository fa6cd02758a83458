"""A serving process clusters in a child process of its own (hotspot.runner): the same hot spots
as in a thread, a child that dies is replaced, and its requests are not starved meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
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


PARENT = """
import sys, time
from hotline.hotspot.runner import Clustering
clustering = Clustering()
clustering.start()
clustering._executor.submit(int).result(60)
print(*clustering._executor._processes, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_the_child_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert parent.stdout is not None
        (child,) = map(int, parent.stdout.readline().split())
        assert _alive(child)
        parent.kill()  # no shutdown: the pool never tells its child to stop
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the clustering child outlived its killed parent"
    finally:
        parent.kill()
        parent.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
