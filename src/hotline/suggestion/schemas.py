"""The body and answer of POST /v1/suggestions."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from hotline.kit.types import LocalTime
from hotline.org.schemas import Line
from hotline.ticket.schemas import LocationIn, Strict, Text


class SuggestionCreate(Strict):
    content: Annotated[Text, Field(max_length=4000, description="The appeal as the agent types it")]
    location: LocationIn | None = Field(
        default=None, description="As in POST /v1/tickets; accepted, the text decides"
    )
    line: Line | None = Field(default=None, description="As in POST /v1/tickets")


class Scored(BaseModel):
    code: str
    name: str
    score: float = Field(ge=0, le=1)


class UrgencyRead(BaseModel):
    level: str = Field(description="emergency (danger to life or property) or utility (outage)")
    words: list[str] = Field(description="The listed words the text names")


class SimilarRead(BaseModel):
    number: str | None
    category: str
    category_name: str
    unit_code: str | None = Field(description="The owner it closed with")
    unit_name: str | None
    close_reason: str | None
    reply_excerpt: str = Field(
        description="The start of its reply, names, phones and ID numbers masked"
    )
    score: float = Field(ge=0, le=1, description="Cosine similarity of the texts")


class ModelRead(BaseModel):
    version: int = Field(description="0: the catalogue's seed, before any model is stored")
    kind: str = Field(description="seed or trained")
    trained_at: LocalTime | None
    ticket_count: int = Field(description="Closed tickets it was trained on")


class SuggestionRead(BaseModel):
    categories: list[Scored] = Field(
        description="The top 5 active categories, best first; the scores sum to at most 1"
    )
    units: list[Scored] = Field(
        description="Likely owners, from where tickets of those categories ended up"
    )
    urgency: UrgencyRead | None
    similar: list[SimilarRead] = Field(description="Up to 5 closed tickets like this one")
    model: ModelRead
