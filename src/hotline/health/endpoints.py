"""``/healthz``: the process answers. ``/readyz``: the database answers, schema at head."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from hotline.db import migrate

router = APIRouter(tags=["health"])


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
    checks: dict[str, Any] = {}
    ready = True
    try:
        async with request.app.state.engine.connect() as conn:
            current = await migrate.current_revision(conn)
        head = migrate.head_revision()
        checks["database"] = "ok"
        checks["schema"] = {"current": current, "head": head}
        if current != head:
            ready = False
            checks["schema"]["problem"] = "run `hotline migrate`"
    except (SQLAlchemyError, OSError, TimeoutError) as exc:
        ready = False
        checks["database"] = f"unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    checks["calendar"] = _calendar(request)
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def _calendar(request: Request) -> dict[str, Any]:
    """Which years the working-day calendar knows, and which it had to guess (never silent)."""
    from hotline.kit.clock import county_zone, utcnow
    from hotline.sla.deadlines import GUESSED_YEARS

    calendars = getattr(request.app.state, "calendars", None)
    if calendars is None:
        return {"status": "not loaded"}
    calendar = calendars.last()
    this_year = utcnow().astimezone(county_zone()).year
    unknown = sorted(
        {y for y in (this_year, this_year + 1) if not calendar.is_known(y)} | GUESSED_YEARS
    )
    known = calendar.known_years()
    return {
        "known_years": list(known) if known else [],
        "unknown_years": unknown,
        "warning": (
            f"no official calendar for {', '.join(map(str, unknown))}: deadlines there are "
            "counted Monday to Friday; add the year to calendar.json in the data directory"
            if unknown
            else None
        ),
    }
