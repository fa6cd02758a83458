"""The methods a path answers, HEAD for every GET and OPTIONS for every path.

FastAPI's routes answer only the methods they declare: HEAD on a GET route and OPTIONS anywhere
were 405s. ``MethodsMiddleware`` answers HEAD as the GET without its body (same status and
headers, ``Content-Length`` included, as RFC 9110 §9.3.2 asks) and OPTIONS with 204 and the
path's ``Allow``, and gives every 405 the ``Allow`` of all the path's routes (Starlette names
only the first route's, FastAPI's included routers none). A CORS preflight (OPTIONS with
``Access-Control-Request-Method``) is the CORS layer's, answered before it reaches this one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def allowed(app: FastAPI, path: str) -> set[str]:
    """Every method the routes most specific to ``path`` serve (fewest path parameters, as
    ``/v1/grids/import`` is its own route, not a grid called "import"), HEAD with GET and
    OPTIONS with any."""
    matching = [(params, m) for pattern, params, m in _patterns(app) if pattern.match(path)]
    fewest = min((params for params, _ in matching), default=0)
    methods: set[str] = set()
    for params, route_methods in matching:
        if params == fewest:
            methods |= route_methods
    if "GET" in methods:
        methods.add("HEAD")
    if methods:
        methods.add("OPTIONS")
    return methods


Compiled = list[tuple[re.Pattern[str], int, frozenset[str]]]


def _patterns(app: FastAPI) -> Compiled:
    return _compiled(app, len(app.routes))


@lru_cache(maxsize=8)
def _compiled(app: FastAPI, _routes: int) -> Compiled:
    # Keyed by the number of top-level routes too, so a route added later is seen.
    out = []
    for context in iter_route_contexts(app.routes):
        if context.path is None or not context.methods:
            continue
        pattern, _format, convertors = compile_path(context.path)
        out.append((pattern, len(convertors), frozenset(context.methods)))
    return out


class MethodsMiddleware:
    def __init__(self, app: ASGIApp, *, routes: FastAPI) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, self._allow_on_405(scope, send))
            return
        methods = allowed(self.routes, scope["path"])
        if scope["method"] == "OPTIONS" and methods:
            header = ", ".join(sorted(methods)).encode()
            await send(
                {"type": "http.response.start", "status": 204, "headers": [(b"allow", header)]}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["method"] == "HEAD" and "GET" in methods:
            await self.app({**scope, "method": "GET"}, receive, _headless(send))
            return
        await self.app(scope, receive, self._allow_on_405(scope, send))

    def _allow_on_405(self, scope: Scope, send: Send) -> Send:
        async def allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = ", ".join(sorted(allowed(self.routes, scope["path"])))
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", methods.encode())]}
            await send(message)

        return allow


def _headless(send: Send) -> Send:
    """``send`` without the body: the headers (and Content-Length) of the GET, no bytes."""

    async def headless(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return headless
