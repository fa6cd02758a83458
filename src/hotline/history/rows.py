"""Checking one row of an import (pure): the ticket's column values, or every problem it has,
each naming its field. The catalogue and the units are passed in as plain mappings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from hotline.history.files import Row
from hotline.kit.clock import local_iso
from hotline.ticket.schemas import Kind, Urgency

REQUIRED = ("content", "category", "created_at")
OPTIONAL = ("closed_at", "unit_code", "reply", "external_id", "kind", "status")
FIELDS = REQUIRED + OPTIONAL
# History is closed, or waits where the earlier system left it. States that hold a clock by
# their nature (a return window, a ruling, rework) are not imported: no clock starts here.
STATUSES = ("closed", "triage", "dispatched", "signed", "replied")
OWNED = ("dispatched", "signed", "replied")
MAX_CONTENT = 4000
MAX_EXTERNAL_ID = 64


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    problem: str


@dataclass(frozen=True)
class Category:
    default_urgency: str | None


@dataclass(frozen=True)
class Place:
    """A unit and the places a ticket it owns lies in (ticket.area/village/township_code)."""

    kind: str
    grid: str | None
    village: str | None
    township: str | None


@dataclass(frozen=True)
class Catalogue:
    categories: Mapping[str, Category]
    places: Mapping[str, Place]
    zone: tzinfo
    now: datetime


def _instant(value: Any, zone: tzinfo) -> datetime:
    """ISO 8601 text (or an Excel date); without an offset it is the county's local time."""
    if isinstance(value, datetime):
        at = value
    elif isinstance(value, str):
        at = datetime.fromisoformat(value.strip())
    else:
        raise ValueError
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip()


def check(row: Row, catalogue: Catalogue) -> tuple[dict[str, Any] | None, list[Problem]]:
    """The ticket's values (those an import sets; the rest are the columns' defaults), or None
    and the row's problems."""
    v, problems = row.values, []

    def bad(field: str, problem: str) -> None:
        problems.append(Problem(row.line, field, problem))

    def given(name: str) -> bool:
        return v.get(name) not in (None, "")

    for name in sorted(set(v) - set(FIELDS)):
        bad(name, f"unknown field (known: {', '.join(FIELDS)})")
    for name in REQUIRED:
        if not given(name):
            bad(name, "required")

    content = _text(v["content"]) if given("content") else None
    if given("content") and not content:
        bad("content", "must be text")
    elif content is not None and len(content) > MAX_CONTENT:
        bad("content", f"longer than {MAX_CONTENT} characters")

    category = _text(v["category"]) if given("category") else None
    known = catalogue.categories.get(category) if category else None
    if category and known is None:
        bad("category", f"unknown category {category}")

    times: dict[str, datetime | None] = {"created_at": None, "closed_at": None}
    for name in times:
        if not given(name):
            continue
        try:
            at = _instant(v[name], catalogue.zone)
        except ValueError:
            bad(name, "not an ISO 8601 time, e.g. 2024-03-05T09:30:00+08:00")
            continue
        if at > catalogue.now:
            bad(name, "in the future")
        times[name] = at
    created, closed = times["created_at"], times["closed_at"]

    status = _text(v["status"]) if given("status") else "closed"
    if status not in STATUSES:
        bad("status", f"must be one of {', '.join(STATUSES)}")
    if closed is not None and status != "closed":
        bad("closed_at", f"given for a ticket that is {status}, not closed")
    if closed is not None and created is not None and closed < created:
        bad("closed_at", "before created_at")

    kind = _text(v["kind"]) if given("kind") else Kind.other.value
    if kind not in Kind.__members__:
        bad("kind", f"must be one of {', '.join(Kind.__members__)}")

    unit_code = _text(v["unit_code"]) if given("unit_code") else None
    place = catalogue.places.get(unit_code) if unit_code else None
    if unit_code and place is None:
        bad("unit_code", f"unknown unit {unit_code}")
    if unit_code is None and status in OWNED:
        bad("unit_code", f"required for a ticket that is {status}")

    external_id = _text(v["external_id"]) if given("external_id") else None
    if given("external_id") and not external_id:
        bad("external_id", "must be text")
    elif external_id is not None and not (
        0 < len(external_id) <= MAX_EXTERNAL_ID and external_id.isprintable()
    ):
        bad("external_id", f"1 to {MAX_EXTERNAL_ID} printable characters")

    reply = _text(v["reply"]) if given("reply") else None
    if given("reply") and not reply:
        bad("reply", "must be text")
    elif reply is not None and len(reply) > MAX_CONTENT:
        bad("reply", f"longer than {MAX_CONTENT} characters")

    if problems:
        return None, problems
    assert created is not None and known is not None and category is not None
    return _values(
        content=content,
        category=category,
        urgency=known.default_urgency or Urgency.normal.value,
        kind=str(kind),
        status=str(status),
        created=created,
        closed=closed,
        unit_code=unit_code,
        place=place,
        reply=reply,
        external_id=external_id,
    ), []


def _values(
    *,
    content: str | None,
    category: str,
    urgency: str,
    kind: str,
    status: str,
    created: datetime,
    closed: datetime | None,
    unit_code: str | None,
    place: Place | None,
    reply: str | None,
    external_id: str | None,
) -> dict[str, Any]:
    owner = {"method": "imported", "unit_code": unit_code, "explanation": "imported from history"}
    return {
        "status": status,
        "kind": kind,
        "category_code": category,
        "urgency": urgency,
        "line": "main",
        "content": content,
        "route": owner if unit_code else {"method": "imported", "explanation": "imported"},
        "unit_code": unit_code,
        "grid_code": unit_code if place and place.kind == "grid" else None,
        "area_code": place.grid if place else None,
        "village_code": place.village if place else None,
        "township_code": place.township if place else None,
        "reply": {"text": reply, "at": local_iso(closed), "imported": True} if reply else None,
        "replied_at": closed if reply and closed else None,
        "closed_at": closed,
        "dispatched_at": created if unit_code else None,
        "external_id": external_id,
        "imported": True,
        "created_at": created,
        "updated_at": closed or created,
    }


def seen_twice(rows: list[tuple[int, str]]) -> list[Problem]:
    """Problems for external ids that appear on more than one line of the file."""
    first: dict[str, int] = {}
    problems = []
    for line, external_id in rows:
        if external_id in first:
            problems.append(
                Problem(line, "external_id", f"{external_id} is also on line {first[external_id]}")
            )
        else:
            first[external_id] = line
    return problems
