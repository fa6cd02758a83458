"""A query parameter the route does not declare is refused: a misspelt filter (``phone`` for
``caller_phone``, ``q``, ``unit``) is a 422 naming it, not an answer that silently ignored it.

``KnownQuery`` is one dependency of the whole app (``FastAPI(dependencies=...)``), so a route
added by any package is covered without asking. The names a route takes are the query
parameters of its dependant and sub-dependencies, by their aliases (``from`` for ``from_``),
plus what ``beyond`` adds for the few routes that read their query string themselves. They are
worked out once per route; a request pays a dictionary lookup and a set difference, and nothing
at all without a query string. Routes that are not ``APIRoute`` (the docs, ``/openapi.json``)
never reach the check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo
from starlette.routing import BaseRoute

from hotline.errors import Invalid

# "METHOD /path/{template}" → the names the route takes beyond its declared ones; None: any.
Beyond = Mapping[str, frozenset[str] | None]


def _aliases(name: str, info: FieldInfo) -> set[str]:
    # The names FastAPI looks a parameter up by: its validation alias (or choices), else alias.
    if isinstance(info.validation_alias, AliasChoices):
        return {c for c in info.validation_alias.choices if isinstance(c, str)}
    if isinstance(info.validation_alias, str):
        return {info.validation_alias}
    return {info.alias or name}


def declared(dependant: Dependant) -> frozenset[str]:
    """The query names ``dependant`` and its sub-dependencies read, a query model's fields too."""
    names: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        todo.extend(current.dependencies)
        for field in current.query_params:
            model = field.field_info.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                for name, info in model.model_fields.items():
                    names |= _aliases(name, info)
            else:
                names |= _aliases(field.name, field.field_info)
    return frozenset(names)


class KnownQuery:
    """The dependency; ``prepare`` works out every route's names when the app is built."""

    def __init__(self, beyond: Beyond) -> None:
        self.beyond = dict(beyond)
        # By id(): routes compare by value and are not hashable; ``routes`` keeps each id taken.
        self.names: dict[int, frozenset[str] | None] = {}
        self.routes: list[BaseRoute] = []

    def prepare(self, app: FastAPI) -> None:
        """Every route's names now; a ``beyond`` entry that names no route is an error, so that
        a moved path cannot quietly lose what it takes."""
        unused = set(self.beyond)
        self.names, self.routes = {}, []
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not isinstance(route, APIRoute):
                continue
            keys = {f"{method} {context.path}" for method in context.methods or ()}
            unused -= keys
            self._add(route, declared(context.dependant), keys)
        if unused:
            raise LookupError(f"query names for routes that do not exist: {sorted(unused)}")

    def _add(self, route: BaseRoute, names: frozenset[str], keys: Iterable[str]) -> None:
        if id(route) not in self.names:
            self.routes.append(route)
        taken: frozenset[str] | None = self.names.get(id(route), frozenset())
        for key in keys:
            extra = self.beyond.get(key, frozenset())
            taken = None if taken is None or extra is None else taken | extra
        self.names[id(route)] = None if taken is None else taken | names

    async def __call__(self, request: Request) -> None:
        if not request.scope["query_string"]:
            return
        route = request.scope["route"]
        try:
            taken = self.names[id(route)]
        except KeyError:  # a route added after the app was built
            self._add(route, declared(route.dependant), ())
            taken = self.names[id(route)]
        if taken is None:
            return
        unknown = request.query_params.keys() - taken
        if unknown:
            raise RequestValidationError([_error(name, taken) for name in sorted(unknown)])


def _error(name: str, taken: frozenset[str]) -> dict[str, object]:
    listed = ", ".join(sorted(taken)) if taken else "no query parameters"
    return {
        "type": "unknown_parameter",
        "loc": ("query", name),
        "msg": f"unknown parameter; this endpoint takes: {listed}",
        "input": None,
        # errors.explain's words, in both languages
        "ctx": {
            "error": Invalid(
                f"不接受此查询参数；可用的参数：{listed}"
                if taken
                else "不接受此查询参数；此地址不带查询参数",
                en=f"unknown parameter; this endpoint takes: {listed}",
            )
        },
    }
