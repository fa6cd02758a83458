"""PATCH bodies: leaving a field out keeps it; an explicit null empties it only where empty
means something. Elsewhere a null is a 422 naming the field, never a database error."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import model_validator

from hotline.errors import Invalid


def refuse_nulls(names: Iterable[str]) -> Any:
    """A before-validator for a model: ``_nulls = refuse_nulls({"name", ...})``."""
    fields = frozenset(names)

    def check(cls: type, data: Any) -> Any:
        if isinstance(data, dict):
            bad = sorted(k for k in fields if k in data and data[k] is None)
            if bad:
                raise Invalid(
                    f"{'、'.join(bad)} 不能为 null；不修改就不要传",
                    en=f"{', '.join(bad)} cannot be null; leave it out to keep it",
                )
        return data

    return model_validator(mode="before")(classmethod(check))  # type: ignore[arg-type]
