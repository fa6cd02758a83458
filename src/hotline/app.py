"""``create_app()``: the lifespan owns the engine, the session factory and the secrets;
``serving_app()`` is the one ``hotline serve`` runs, which also loads its caches and settles its
heap before it answers anyone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

import hotline
from hotline.api import router
from hotline.attachment.endpoints import FORM_OVERHEAD, UPLOAD_PATH
from hotline.auth.roles import Role
from hotline.auth.service import Keys
from hotline.auth.throttle import Throttle
from hotline.change import notify
from hotline.config import Settings, get_settings
from hotline.db import config_state
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.errors import PROBLEM_JSON, install_handlers
from hotline.hotspot.runner import Clustering, InThread
from hotline.jobs import serve as serve_jobs
from hotline.kit.bodylimit import BodyLimitMiddleware
from hotline.kit.clock import Clock, county_zone
from hotline.kit.cors import PublicCORSMiddleware
from hotline.kit.methods import MethodsMiddleware
from hotline.kit.query import KnownQuery
from hotline.open311.schemas import RequestForm
from hotline.ops import access_log, heap
from hotline.ops.prometheus import PrometheusMiddleware
from hotline.org.categories import Categories
from hotline.routing.state import RoutingCache
from hotline.sla import deadlines
from hotline.sla.calendars import CalendarCache
from hotline.sla.policies import Policies
from hotline.suggestion.service import Suggester
from hotline.suggestion.service import clock as suggestion_clock
from hotline.webhook import outbox
from hotline.workflow import repository as workflow_repository

log = logging.getLogger(__name__)

# Adds or overrides years of the official calendar (see docs/clocks.md).
CALENDAR_FILE = "calendar.json"

DESCRIPTION = """\
The service behind a county's 12345 government hotline (12345政务服务便民热线) and its grid
workers (网格员). Call-centre agents post citizens' appeals; the service routes each to a grid and
a person, runs the clocks, and gives the dashboard true figures.

Authenticate with `Authorization: Bearer <API key>`. Every error is `application/problem+json`
(RFC 9457) with a stable `code`. Times are ISO 8601 with offset, in the county's zone.
A query parameter an operation does not declare is a 422 naming it, never silently ignored.
"""

# Routes whose query string is more than their declared parameters (kit.query). The dashboard's
# and the field page's files take any (a cache-busting `?v=`), and so does Open311's 404 for
# what does not exist; Open311's POST merges its query string into its form
# (open311.submit.read_form), and discovery, like every Open311 route, lets a GeoReport client
# send jurisdiction_id and api_key.
QUERY_BEYOND: dict[str, frozenset[str] | None] = {
    "GET /dashboard": None,
    "GET /dashboard/static/{name:path}": None,
    "GET /m": None,
    "GET /m/static/{name:path}": None,
    "GET /m/manifest.webmanifest": None,
    "GET /m/sw.js": None,
    "GET /open311/v2/{rest:path}": None,
    "GET /open311/v2/discovery.{fmt}": frozenset({"jurisdiction_id", "api_key"}),
    "POST /open311/v2/requests.{fmt}": frozenset(
        field.alias or name for name, field in RequestForm.model_fields.items()
    ),
}


def serving_app() -> FastAPI:
    """The app of a ``hotline serve`` process (uvicorn's factory)."""
    return create_app(serving=True)


def create_app(settings: Settings | None = None, *, serving: bool = False) -> FastAPI:
    settings = settings or get_settings()
    access_log.install()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        # Settings the sessions' work needs (sla.deadlines), through the sessionmaker.
        app.state.sessionmaker.configure(
            info={deadlines.REMIND_SHARE: settings.sweeper.remind_share}
        )
        app.state.phone_key = settings.phone_hash_key()
        # The process's caches, each checked against the configuration generation.
        app.state.config = config_state.Watch()
        app.state.keys = Keys()
        app.state.categories = Categories()
        app.state.suggestions = Suggester(settings.suggestion.threshold, clock=suggestion_clock)
        app.state.routing = RoutingCache()
        app.state.policies = Policies()
        app.state.subscribers = outbox.Subscribers()
        app.state.calendars = CalendarCache(county_zone(), settings.data_dir / CALENDAR_FILE)
        await notify.hub.start(
            settings.database_url, app.state.sessionmaker, workflow_repository.keys_between
        )
        app.state.throttle = Throttle(settings.security.bad_key_limit)
        app.state.clock = Clock()
        # Hot-spot clustering: a child process when serving (hotspot.runner says why).
        app.state.clustering = Clustering() if serving else InThread()
        # The one outbound HTTP client (webhooks); tests swap in a MockTransport.
        app.state.http = httpx.AsyncClient(follow_redirects=False)
        jobs = app.state.jobs = serve_jobs.start(app.state, settings)
        if serving:
            app.state.clustering.start()
            await _load_caches(app.state)
            heap.settle()
        try:
            yield
        finally:
            await jobs.stop()
            app.state.clustering.close()
            await app.state.http.aclose()
            await notify.hub.stop()
            await engine.dispose()

    known_query = KnownQuery(QUERY_BEYOND)
    app = FastAPI(
        title="hotline",
        version=hotline.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(known_query)],
    )
    app.state.settings = settings
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides={"/v1/grids/import": settings.max_import_bytes},
        patterns={UPLOAD_PATH: settings.attachments.max_bytes + FORM_OVERHEAD},
    )
    app.add_middleware(MethodsMiddleware, routes=app)
    app.add_middleware(PublicCORSMiddleware, prefixes=["/open311/"])
    app.add_middleware(PrometheusMiddleware)
    install_handlers(app)
    app.include_router(router)
    known_query.prepare(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def _load_caches(state: Any) -> None:
    """Fill the caches a request would otherwise fill first (the routing state of a large
    county takes a good part of a second), so that the first appeals wait for nothing. A
    database that cannot answer yet is no reason not to start: the caches then fill on use."""
    try:
        async with unit_of_work(state.sessionmaker, read_only=True) as session:
            seen = await state.config.read(session)
            await state.routing.current(session, seen.org)
            await state.calendars.current(session, seen.calendar)
            await state.policies.current(session, seen.policies)
            await state.subscribers.current(session, seen.webhooks)
    except Exception as exc:
        log.warning("caches not loaded at start (%s); they fill on first use", exc)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable code"},
        "instance": {"type": "string"},
        "field": {"type": "string", "description": "The offending field, where there is one"},
        "errors": {
            "type": "array",
            "description": "For validation_error: each offending field",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles the endpoint's ``require`` dependency admits, wherever it sits in the tree."""
    for sub in dependant.dependencies:
        roles = getattr(sub.call, "roles", None)
        if roles is not None:
            return frozenset(roles)
        found = _roles(sub)
        if found is not None:
            return found
    return None


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, with FastAPI's default 422 replaced by our problem document."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        roles = _roles(route.dependant)
        if roles is None:
            continue
        operations = schema["paths"].get(getattr(context, "path_format", route.path_format), {})
        for method in route.methods or ():
            operations[method.lower()]["x-roles"] = sorted(r.value for r in roles)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            answers = operation.get("responses", {})
            if "401" in answers:
                # Every authenticated operation: repeated bad keys, and a database away.
                answers.setdefault(
                    "429",
                    {
                        "description": "Too many bad keys from this address; see Retry-After",
                        "content": problem_content,
                    },
                )
            if "422" in answers or "401" in answers:
                answers.setdefault(
                    "503",
                    {
                        "description": "The database is unreachable or busy; retry",
                        "content": problem_content,
                    },
                )
            if "422" in answers:
                answers["422"] = {
                    "description": "Invalid input; `errors` names each field",
                    "content": problem_content,
                }
    app.openapi_schema = schema
    return schema
