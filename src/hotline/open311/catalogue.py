"""What this endpoint offers: discovery, the category catalogue as services, and the one
service definition every service shares (urgency and line, TicketCreate's own choices)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import NotFound
from hotline.open311.schemas import (
    Open311Attribute,
    Open311Discovery,
    Open311Endpoint,
    Open311Service,
    Open311ServiceDefinition,
    Open311Value,
)
from hotline.org import repository
from hotline.org.models import Category

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the services or their definitions last changed shape: categories come only from
# migrations, so bump this with a migration that changes them, or with ATTRIBUTES.
CHANGESET = datetime(2026, 11, 26, tzinfo=UTC)
CONTACT = "12345政务服务便民热线 The county's 12345 government service hotline"
KEY_SERVICE = (
    "读取无需密钥；提交需话务员密钥，由系统管理员签发。Reading needs no key; posting needs an "
    "agent's API key, issued by the hotline's administrators (hotline keys create --role agent)."
)

ATTRIBUTES = [
    Open311Attribute(
        variable=True,
        code="urgency",
        datatype="singlevaluelist",
        required=False,
        datatype_description=None,
        order=1,
        description="紧急程度，决定办理时限 Urgency: it sets the time limits (default normal)",
        values=[
            Open311Value(key="emergency", name="紧急：危及生命财产安全 Danger to life or property"),
            Open311Value(key="utility", name="水电气暖 Water, power, gas or heating"),
            Open311Value(key="normal", name="一般 Normal"),
        ],
    ),
    Open311Attribute(
        variable=True,
        code="line",
        datatype="singlevaluelist",
        required=False,
        datatype_description=None,
        order=2,
        description="受理热线 The hotline line the appeal belongs to (default main)",
        values=[
            Open311Value(key="main", name="12345 主线 Main line"),
            Open311Value(key="enterprise", name="12345-9 营商热线（迎且）Enterprise line"),
            Open311Value(key="relief", name="12345-5 解纾暖 Relief line"),
        ],
    ),
]


def discovery(base_url: str, jurisdiction_id: str | None) -> Open311Discovery:
    return Open311Discovery(
        changeset=CHANGESET,
        contact=CONTACT,
        key_service=KEY_SERVICE,
        jurisdiction_id=jurisdiction_id,
        endpoints=[
            Open311Endpoint(
                specification=SPECIFICATION,
                url=base_url.rstrip("/") + "/open311/v2",
                changeset=CHANGESET,
                type="production",
                formats=["text/xml", "application/json"],
            )
        ],
    )


async def services(session: AsyncSession) -> list[Open311Service]:
    return [
        Open311Service(
            service_code=c.code,
            service_name=c.name,
            description=c.description or f"{c.name} {c.name_en}",
            metadata=True,
            type="realtime",
            keywords=", ".join(c.keywords),
            group=c.group_name,
        )
        for c in await repository.categories(session)
    ]


async def _service(session: AsyncSession, service_code: str) -> Category:
    category = await repository.category(session, service_code)
    if category is None or not category.active:
        raise NotFound(
            "未找到此 service_code；请查看 services.json",
            en="service_code was not found; see services.json",
        )
    return category


async def definition(session: AsyncSession, service_code: str) -> Open311ServiceDefinition:
    category = await _service(session, service_code)
    return Open311ServiceDefinition(service_code=category.code, attributes=ATTRIBUTES)


async def service_name(session: AsyncSession, service_code: str) -> str:
    """The name services.json gives the service; NotFound as for its definition."""
    return (await _service(session, service_code)).name
