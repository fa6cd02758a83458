"""CORS for the public reads only: a browser map on any site may read them, nothing else.

Starlette's ``CORSMiddleware`` answers for the whole app; ``PublicCORSMiddleware`` hands it
only the paths under ``prefixes`` (Open311's reads need no key, so any origin may read them and
no credentials are allowed). Every other path is left as it is: the staff API and its bearer
keys are for the service's own pages and for servers, not for other sites' scripts.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send


class PublicCORSMiddleware:
    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str], max_age: int = 86400) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_credentials=False,
            max_age=max_age,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefixes):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
