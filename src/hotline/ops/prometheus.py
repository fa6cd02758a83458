"""``GET /metrics`` in Prometheus text format, and the middleware that times requests.

Requests are labelled by route template (``/v1/tickets/{ticket_id}``), never by raw path, so
the label set stays bounded. Business gauges (tickets by state, overdue now) are read from the
database at scrape time; process figures (long-poll waiters, sweeper passes) are this process's
own: with several worker processes, scrape each or sum them.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.change import notify
from hotline.db.session import unit_of_work
from hotline.kit.clock import utcnow
from hotline.sla import years
from hotline.ticket import repository as ticket_repository

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "hotline_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "hotline_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TICKETS = Gauge("hotline_tickets", "Tickets by state", ["status"], registry=REGISTRY)
OVERDUE = Gauge(
    "hotline_tickets_overdue", "Open tickets past their sign or reply deadline", registry=REGISTRY
)
WAITERS = Gauge("hotline_longpoll_waiters", "Long polls waiting in this process", registry=REGISTRY)
SWEEPS = Gauge("hotline_sweeper_passes", "Sweeper passes run by this process", registry=REGISTRY)
SWEEP_SECONDS = Gauge(
    "hotline_sweeper_seconds_total", "Time spent sweeping in this process", registry=REGISTRY
)
SWEEP_LAST = Gauge(
    "hotline_sweeper_last_pass_seconds", "Duration of this process's last pass", registry=REGISTRY
)
CALENDAR_KNOWN = Gauge(
    "hotline_calendar_year_known",
    "1 if the working-day calendar knows the year (this year, next year, and every year a "
    "deadline had to guess), 0 if deadlines there are counted Monday to Friday",
    ["year"],
    registry=REGISTRY,
)
router = APIRouter(tags=["health"])


class PrometheusMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - started)


async def _business(request: Request) -> None:
    now = utcnow()
    async with unit_of_work(request.app.state.sessionmaker, read_only=True) as session:
        calendar = await request.app.state.calendars.current(session)
        this = now.astimezone(calendar.zone).year
        CALENDAR_KNOWN.clear()
        for year in sorted({this, this + 1, *years.unknown_years(calendar, now)}):
            CALENDAR_KNOWN.labels(str(year)).set(1 if calendar.is_known(year) else 0)
        TICKETS.clear()
        for status, count in await ticket_repository.count_by_status(session):
            TICKETS.labels(status).set(count)
        OVERDUE.set(await ticket_repository.count_overdue(session, now))


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text"}},
)
async def metrics(request: Request) -> Response:
    await _business(request)
    WAITERS.set(notify.hub.waiting)
    swept = request.app.state.jobs.stats.get("sweep")
    if swept is not None:
        SWEEPS.set(swept.ticks)
        SWEEP_SECONDS.set(swept.seconds)
        if swept.last is not None:
            SWEEP_LAST.set(swept.last)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
