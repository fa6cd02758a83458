"""Running a job every few seconds until cancelled.

A tick that fails (the database away) is logged once per kind of failure and once when the
job works again (kit.failures); the loop goes on. With ``lock`` on PostgreSQL only the process
holding that advisory lock runs the tick, so several API processes do not sweep at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.kit.failures import FailureLog


@dataclass
class Stats:
    """What a job did in this process, for /metrics."""

    ticks: int = 0
    seconds: float = 0.0
    last: float | None = None
    extra: dict[str, float] = field(default_factory=dict)


async def every(
    interval: float,
    tick: Callable[[], Awaitable[None]],
    *,
    name: str,
    log: logging.Logger,
    engine: AsyncEngine | None = None,
    lock: int | None = None,
) -> None:
    """Run ``tick`` every ``interval`` seconds until cancelled."""
    failures = FailureLog(log, name)
    postgres = engine is not None and engine.dialect.name == "postgresql"
    while True:
        try:
            if postgres and lock is not None and engine is not None:
                await _locked(engine, lock, tick)
            else:
                await tick()
            failures.succeeded()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be down: log, and try again next tick
            failures.failed()
        await asyncio.sleep(interval)


async def _locked(engine: AsyncEngine, lock: int, tick: Callable[[], Awaitable[None]]) -> None:
    async with engine.connect() as conn:
        if not await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock}):
            return
        try:
            await tick()
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock})
            await conn.commit()


class Jobs:
    """The background tasks of one process; ``stop`` cancels them and waits."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []
        self.stats: dict[str, Stats] = {}

    def start(self, job: Awaitable[None]) -> None:
        self.tasks.append(asyncio.ensure_future(job))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.tasks.clear()
