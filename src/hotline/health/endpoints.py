"""``/healthz``: the process answers. ``/readyz``: the database answers, schema at head."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from hotline.db import migrate
from hotline.db.session import unit_of_work
from hotline.kit.clock import utcnow
from hotline.sla import years

router = APIRouter(tags=["health"])

T = TypeVar("T")
# Seconds /readyz gives the database, all its reads together: a probe must answer even when
# the database does not.
READY_WITHIN = 2.0
# Reads that ran out of time, kept until they end (see ``_within``).
_abandoned: set[asyncio.Task[Any]] = set()


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str | int]:
    """`pid` tells which API process answered, behind a load balancer or with --workers."""
    return {"status": "ok", "pid": os.getpid()}


@router.get(
    "/readyz",
    summary="The database is reachable and its schema is at head",
    responses={503: {"description": "Not ready; `checks` says why"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when ready; `warnings` lists what needs an operator without stopping the service
    (a year of the working-day calendar nobody has announced: deadlines there are guessed)."""
    checks: dict[str, Any] = {}
    ready = True
    deadline = asyncio.get_running_loop().time() + READY_WITHIN
    try:
        current = await _within(deadline, _revision(request))
        head = migrate.head_revision()
        checks["database"] = "ok"
        checks["schema"] = {"current": current, "head": head}
        if current != head:
            ready = False
            checks["schema"]["problem"] = "run `hotline migrate`"
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        ready = False
        checks["database"] = f"unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    checks["calendar"] = await _calendar(request, reachable=ready, deadline=deadline)
    warning = checks["calendar"].get("warning")
    body = {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "warnings": [warning] if warning else [],
    }
    return JSONResponse(body, status_code=200 if ready else 503)


async def _revision(request: Request) -> str | None:
    async with request.app.state.engine.connect() as conn:
        return await migrate.current_revision(conn)


async def _within(deadline: float, read: Coroutine[Any, Any, T]) -> T:
    """``read``'s answer, or TimeoutError at ``deadline``.

    A read that runs out of time is cancelled but not waited for: its clean-up (giving back or
    dropping its connection) may itself wait on the database, and must not hold the answer.
    """
    task = asyncio.ensure_future(read)
    remaining = deadline - asyncio.get_running_loop().time()
    try:
        done, _ = await asyncio.wait({task}, timeout=max(remaining, 0))
    finally:
        if not task.done():  # out of time, or the probe itself cancelled
            task.cancel()
            _abandoned.add(task)
            task.add_done_callback(_forget)
    if task not in done:
        raise TimeoutError(f"no answer within {READY_WITHIN:g} s")
    return task.result()


def _forget(task: asyncio.Task[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: asyncio does not log it as never retrieved


async def _calendar(request: Request, *, reachable: bool, deadline: float) -> dict[str, Any]:
    """Which years the working-day calendar knows, and which it had to guess (never silent)."""
    calendars = getattr(request.app.state, "calendars", None)
    if calendars is None:
        return {"status": "not loaded"}
    calendar = calendars.last()
    if reachable:

        async def read() -> Any:
            async with unit_of_work(request.app.state.sessionmaker, read_only=True) as session:
                return await calendars.current(session)

        try:
            calendar = await _within(deadline, read())
        except (SQLAlchemyError, OSError, TimeoutError):
            pass  # the years as last read
    unknown = years.unknown_years(calendar, utcnow())
    known = calendar.known_years()
    return {
        "known_years": list(known) if known else [],
        "unknown_years": unknown,
        "warning": (
            f"no official calendar for {', '.join(map(str, unknown))}: deadlines there are "
            "counted Monday to Friday (fixed-date holidays excepted); set the year with "
            "PUT /v1/calendar/{year} or calendar.json in the data directory"
            if unknown
            else None
        ),
    }
