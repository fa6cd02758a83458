"""Opaque keyset cursors: base64url JSON that callers must not build themselves."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from hotline.errors import Unprocessable


def encode(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str, arity: int) -> list[Any]:
    """Decode a cursor made by ``encode``; anything else is a 422 naming ``cursor``."""
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise Unprocessable("Malformed cursor", field="cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise Unprocessable("Malformed cursor", field="cursor")
    return values
