"""The scope of a figure: the period (county dates) and the filters, as a ticket query's WHERE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from hotline.kit.clock import county_zone
from hotline.ticket.models import Ticket as T

GROUPS: dict[str, Any] = {
    "township": T.township_code,
    "village": T.village_code,
    "grid": T.area_code,
    "unit": T.unit_code,
    "line": T.line,
    "category": T.category_code,
    "kind": T.kind,
    "urgency": T.urgency,
    "worker": T.assignee_id,
}


@dataclass(frozen=True)
class Scope:
    """The period (county dates, both included) and the filters."""

    start: datetime
    end: datetime
    filters: dict[str, str]

    @classmethod
    def of(cls, first: date, last: date, filters: dict[str, str | None]) -> Scope:
        zone = county_zone()
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        return cls(start, end, {k: v for k, v in filters.items() if v is not None})

    def days(self) -> tuple[date, date] | None:
        """The first and last county day, when the period is whole days."""
        zone = county_zone()
        first, end = self.start.astimezone(zone), self.end.astimezone(zone)
        if first.time() != time() or end.time() != time():
            return None
        return first.date(), end.date() - timedelta(days=1)

    def where(self, query: Any) -> Any:
        """The period and filters; imported tickets never count (docs/metrics.md)."""
        query = query.where(
            T.created_at >= self.start, T.created_at < self.end, T.imported.is_(False)
        )
        for name, value in self.filters.items():
            query = query.where(GROUPS[name] == value)
        return query
