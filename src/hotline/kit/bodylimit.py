"""ASGI middleware refusing request bodies over a size limit with 413, before any parsing."""

from __future__ import annotations

import json
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.errors import CONTENT_LANGUAGE, EN, PayloadTooLarge, language_of


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` for a chunked body; an HTTPException so frameworks pass it on."""

    def __init__(self) -> None:
        super().__init__(413, "Request body too large")


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        overrides: dict[str, int] | None = None,
        patterns: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = overrides or {}
        # Paths with an id in them (a photo upload): regular expressions matched in full.
        self.patterns = [(re.compile(p), n) for p, n in (patterns or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send, limit)

    def _limit(self, path: str) -> int:
        if path in self.overrides:
            return self.overrides[path]
        return next((n for p, n in self.patterns if p.fullmatch(path)), self.max_bytes)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        asked = dict(scope.get("headers") or []).get(b"accept-language", b"")
        lang = language_of(asked.decode("latin-1"))
        title, detail = PayloadTooLarge.title, f"请求内容超过 {limit} 字节"
        if lang == EN:
            title, detail = PayloadTooLarge.title_en, f"The body exceeds {limit} bytes"
        body = json.dumps(
            {
                "type": "https://hotline.example/problems/payload_too_large",
                "title": title,
                "status": 413,
                "detail": detail,
                "code": "payload_too_large",
                "instance": scope.get("path", ""),
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-language", CONTENT_LANGUAGE[lang].encode()),
                    (b"vary", b"Accept-Language"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
