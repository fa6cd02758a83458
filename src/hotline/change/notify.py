"""Long-poll waiters of one process, woken by changes from this process or (PostgreSQL
LISTEN/NOTIFY) from any other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)
# The keys (grid:…, unit:…, staff:…) the changes numbered in (after, through] concern.
KeysBetween = Callable[[AsyncSession, int, int], Awaitable[set[str]]]
CHANNEL = "hotline_changes"
WATCH_SECONDS = 0.2


class Hub:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._local: set[int] = set()
        # Set once this process hears other processes (LISTEN connected, or the watch running).
        self.hearing = asyncio.Event()

    @property
    def waiting(self) -> int:
        return len({id(e) for events in self._waiters.values() for e in events})

    def publish(self, keys: Iterable[str]) -> None:
        for key in keys:
            for event in self._waiters.get(key, ()):
                event.set()

    async def wait(self, keys: Iterable[str], seconds: float, ready: asyncio.Event) -> bool:
        """Wait until one of ``keys`` changes or ``seconds`` pass; True if woken.

        ``ready`` is the event the caller registered (with ``register``) *before* it last
        looked, so a change that landed in between is not missed.
        """
        try:
            await asyncio.wait_for(ready.wait(), seconds)
            return True
        except TimeoutError:
            return False
        finally:
            self.unregister(keys, ready)

    def register(self, keys: Iterable[str]) -> asyncio.Event:
        event = asyncio.Event()
        for key in keys:
            self._waiters.setdefault(key, set()).add(event)
        return event

    def unregister(self, keys: Iterable[str], event: asyncio.Event) -> None:
        for key in keys:
            events = self._waiters.get(key)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiters[key]

    async def start(
        self,
        database_url: str,
        maker: async_sessionmaker[AsyncSession],
        keys_between: KeysBetween | None = None,
    ) -> None:
        """Hear other processes' changes: LISTEN on PostgreSQL (reconnecting when it drops);
        on SQLite, which has no notifications, watch the change counter a few times a second
        and, when it moves, wake the waiters of the keys those changes concern
        (``keys_between``, which reads them from the changed rows; without it, every waiter).
        The watch's baseline is read here, before any poll of this process can look, so the
        first wait of a fresh process misses nothing."""
        # Numbers below the baseline read here never matter again (a database of its own).
        self._local.clear()
        url = make_url(database_url)
        if url.get_backend_name() == "postgresql":
            task = self._listen(url.set(drivername="postgresql"))
        else:
            task = self._watch(maker, await self._counter(maker), keys_between)
            self.hearing.set()
        self._tasks.append(asyncio.create_task(task))

    async def stop(self) -> None:
        self.hearing.clear()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _counter(maker: async_sessionmaker[AsyncSession]) -> int | None:
        from hotline.change import repository
        from hotline.db.session import unit_of_work

        try:
            async with unit_of_work(maker, read_only=True) as session:
                return await repository.counter(session)
        except Exception as exc:  # a busy or missing database: try again next tick
            log.debug("change counter unreadable: %s", exc)
            return None

    async def _watch(
        self,
        maker: async_sessionmaker[AsyncSession],
        seen: int | None,
        keys_between: KeysBetween | None,
    ) -> None:
        from hotline.db.session import unit_of_work

        while True:
            await asyncio.sleep(WATCH_SECONDS)
            if not self._waiters:
                continue
            value = await self._counter(maker)
            if value is None:
                continue
            if seen is not None and value != seen and not self._all_local(seen, value):
                keys: Iterable[str] = list(self._waiters)
                if keys_between is not None and value - seen <= 1_000:
                    try:
                        async with unit_of_work(maker, read_only=True) as session:
                            keys = await keys_between(session, seen, value)
                    except Exception as exc:  # unreadable now: wake all, they look for themselves
                        log.debug("changed keys unreadable: %s", exc)
                self.publish(keys)
            seen = value

    def mark_local(self, numbers: Iterable[int]) -> None:
        """Change numbers this process took: already announced to the right waiters."""
        self._local.update(numbers)
        if len(self._local) > 10_000:
            for n in sorted(self._local)[:5_000]:
                self._local.discard(n)

    def _all_local(self, seen: int, value: int) -> bool:
        if value - seen > 1_000:
            return False
        return all(n in self._local for n in range(seen + 1, value + 1))

    async def _listen(self, url: Any) -> None:
        import asyncpg

        dsn = url.render_as_string(hide_password=False)
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(dsn, timeout=5)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())

                def on_notify(_c: Any, _pid: int, _channel: str, payload: str) -> None:
                    self.publish(payload.split(","))

                await conn.add_listener(CHANNEL, on_notify)
                # Anything may have changed while we were not listening.
                self.publish(list(self._waiters))
                self.hearing.set()
                await lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: log, back off, reconnect
                log.warning("LISTEN connection lost (%s); retrying", exc)
            finally:
                self.hearing.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=2)
            await asyncio.sleep(1)


# One per process: every app and unit of work in the process shares it.
hub = Hub()
