"""Field types every schema shares, with no domain words."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, PlainSerializer, StringConstraints

from hotline.kit.clock import county_zone

# Times leave the API in the county's zone, with their offset (DESIGN.md §6).
LocalTime = Annotated[
    datetime, PlainSerializer(lambda t: t.astimezone(county_zone()).isoformat(), return_type=str)
]
# A row's id, in a path or a body. The id columns are 32-bit integers on both databases, so a
# larger id cannot exist: it is a 422 on SQLite and PostgreSQL alike (it was a 404 on one and an
# out-of-range 422 on the other), and openapi.yaml states the bounds.
MAX_ID = 2**31 - 1
Id = Annotated[int, Ge(1), Le(MAX_ID)]
# A unit's, a category's or a grid's code.
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,32}$")]


class FromRow(BaseModel):
    """An answer made from a stored row: ``SomeRead.model_validate(row)`` reads the row's
    attributes; a field the table names otherwise says so with ``validation_alias``. A field
    with a default is still in every answer, so the schema lists it as required."""

    model_config = ConfigDict(
        from_attributes=True, json_schema_serialization_defaults_required=True
    )
