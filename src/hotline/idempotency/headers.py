"""The ``Idempotency-Key`` header of an action and the answer a replay sends."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response

from hotline.idempotency.service import Stored

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description=(
            "Retrying with the same key answers the first answer (its status and body, with "
            "`Idempotent-Replayed: true`) instead of acting twice; kept 48 h"
        ),
    ),
]


def answer(stored: Stored, *, replayed: bool, headers: dict[str, str] | None = None) -> Response:
    """The stored answer as a response; a replay says so in ``Idempotent-Replayed``."""
    extra = dict(headers or {})
    if replayed:
        extra["Idempotent-Replayed"] = "true"
    return Response(
        stored.body, status_code=stored.status_code, media_type="application/json", headers=extra
    )
