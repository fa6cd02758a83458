"""Managing the category catalogue over HTTP (issue 16): POST and PATCH /v1/categories, admin
only; a duplicate, an unknown parent, unit or urgency, a cycle refused; a duty unit routes the
category's tickets; a deactivated category keeps its tickets and refuses new ones. Both
databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Demo

WATER = "210124-D-WATER"  # 县水务局, a demo department
GRID = "210124100002001"
NEW = {
    "code": "urban.lamp",
    "name": "路灯",
    "parent": "urban.road",
    "keywords": ["路灯", "不亮"],
    "duty_unit": WATER,
    "default_urgency": "utility",
}


async def create(client: httpx.AsyncClient, demo: Demo, **body: Any) -> httpx.Response:
    return await client.post("/v1/categories", json={**NEW, **body}, headers=demo.headers("admin"))


async def ticket(
    client: httpx.AsyncClient, demo: Demo, category: str, **body: Any
) -> httpx.Response:
    payload = {"kind": "complaint", "category": category, "content": "路灯不亮", **body}
    return await client.post(
        "/v1/tickets",
        json={**payload, "location": {"grid_code": GRID}},
        headers=demo.headers("agent"),
    )


class TestCreate:
    async def test_created_listed_and_routed_to_its_duty_unit(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await create(client, demo)
        assert r.status_code == 201, r.text
        assert r.headers["location"] == "/v1/categories/urban.lamp"
        body = r.json()
        assert body["parent"] == "urban.road" and body["duty_unit"] == WATER
        assert body["default_urgency"] == "utility" and body["active"] is True
        assert body["keywords"] == ["路灯", "不亮"]
        listed = await client.get("/v1/categories", headers=demo.headers("agent"))
        assert "urban.lamp" in [c["code"] for c in listed.json()]
        made = await ticket(client, demo, "urban.lamp")
        assert made.status_code == 201, made.text
        assert made.json()["route"]["unit_code"] == WATER
        assert made.json()["urgency"] == "utility"  # the category's default
        chosen = await ticket(client, demo, "urban.lamp", urgency="normal")
        assert chosen.json()["urgency"] == "normal"  # given: kept
        rules = await client.get("/v1/catalogue-rules", headers=demo.headers("admin"))
        duty = [r for r in rules.json() if r["category"] == "urban.lamp"]
        assert [(r["unit_code"], r["source"]) for r in duty] == [(WATER, "category")]

    async def test_a_duplicate_code_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        assert (await create(client, demo)).status_code == 201
        again = await create(client, demo, name="别的")
        assert again.status_code == 409
        assert again.json()["code"] == "conflict"
        seeded = await create(client, demo, code="urban.road")
        assert seeded.status_code == 409

    @pytest.mark.parametrize(
        ("field", "value"),
        [("parent", "no.such"), ("duty_unit", "NOWHERE"), ("default_urgency", "soon")],
    )
    async def test_an_unknown_reference_is_422_naming_the_field(
        self, client: httpx.AsyncClient, demo: Demo, field: str, value: str
    ) -> None:
        r = await create(client, demo, **{field: value})
        assert r.status_code == 422, r.text
        assert field in r.text
        got = await client.get("/v1/categories/urban.lamp", headers=demo.headers("admin"))
        assert got.status_code == 404

    @pytest.mark.parametrize("role", ["agent", "dispatcher", "viewer", "worker"])
    async def test_only_an_admin_creates_or_changes(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        headers = demo.headers(role)
        r = await client.post("/v1/categories", json=NEW, headers=headers)
        assert r.status_code == 403
        r = await client.patch("/v1/categories/urban.road", json={"name": "改"}, headers=headers)
        assert r.status_code == 403
        road = await client.get("/v1/categories/urban.road", headers=headers)
        assert road.status_code == 200 and road.json()["name"] != "改"


class TestUpdate:
    async def test_fields_change_and_every_reader_sees_them(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await create(client, demo)
        r = await client.patch(
            "/v1/categories/urban.lamp",
            json={
                "name": "路灯照明",
                "keywords": ["路灯"],
                "default_urgency": None,
                "duty_unit": None,
            },
            headers=demo.headers("admin"),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["name"], r.json()["keywords"]) == ("路灯照明", ["路灯"])
        assert r.json()["default_urgency"] is None and r.json()["duty_unit"] is None
        made = await ticket(client, demo, "urban.lamp")
        assert made.json()["urgency"] == "normal"
        assert made.json()["route"]["unit_code"] != WATER  # no duty rule any more: geography
        rules = await client.get("/v1/catalogue-rules", headers=demo.headers("admin"))
        assert [r for r in rules.json() if r["category"] == "urban.lamp"] == []

    async def test_a_parent_below_it_is_a_cycle_and_refused(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await create(client, demo)  # urban.lamp under urban.road
        await create(client, demo, code="urban.lamp.led", name="LED 路灯", parent="urban.lamp")
        admin = demo.headers("admin")
        # urban.road → urban.lamp → urban.lamp.led: neither may become urban.road's parent.
        for parent in ("urban.lamp.led", "urban.lamp", "urban.road"):
            r = await client.patch(
                "/v1/categories/urban.road", json={"parent": parent}, headers=admin
            )
            assert r.status_code == 422, r.text
            assert r.json()["field"] == "parent"
        road = await client.get("/v1/categories/urban.road", headers=admin)
        assert road.json()["parent"] is None
        top = await client.patch("/v1/categories/urban.lamp", json={"parent": None}, headers=admin)
        assert top.status_code == 200 and top.json()["parent"] is None

    async def test_unknown_category_is_404_and_a_null_name_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        assert (
            await client.patch("/v1/categories/no.such", json={"name": "x"}, headers=admin)
        ).status_code == 404
        assert (
            await client.patch("/v1/categories/urban.road", json={"name": None}, headers=admin)
        ).status_code == 422
        assert (
            await client.patch(
                "/v1/categories/urban.road", json={"duty_unit": "NOWHERE"}, headers=admin
            )
        ).status_code == 422


class TestDeactivate:
    async def test_its_tickets_keep_it_and_intake_refuses_it(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        before = await ticket(client, demo, "urban.road")
        assert before.status_code == 201
        admin = demo.headers("admin")
        r = await client.patch("/v1/categories/urban.road", json={"active": False}, headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False
        refused = await ticket(client, demo, "urban.road")
        assert refused.status_code == 422
        assert refused.json()["field"] == "category"
        assert "urban.road" in refused.text
        kept = await client.get(f"/v1/tickets/{before.json()['id']}", headers=admin)
        assert kept.json()["category"] == "urban.road"
        offered = await client.get("/v1/categories", headers=demo.headers("agent"))
        assert "urban.road" not in [c["code"] for c in offered.json()]
        every = await client.get("/v1/categories", params={"inactive": "true"}, headers=admin)
        road = next(c for c in every.json() if c["code"] == "urban.road")
        assert road["active"] is False
        one = await client.get("/v1/categories/urban.road", headers=admin)
        assert one.json()["active"] is False
        back = await client.patch("/v1/categories/urban.road", json={"active": True}, headers=admin)
        assert back.status_code == 200
        assert (await ticket(client, demo, "urban.road")).status_code == 201


class TestAfterPhoto:
    async def test_patch_sets_requires_after_photo(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        r = await client.patch(
            "/v1/categories/urban.road", json={"requires_after_photo": True}, headers=admin
        )
        assert r.status_code == 200, r.text
        assert r.json()["requires_after_photo"] is True
        read = await client.get("/v1/categories/urban.road", headers=demo.headers("agent"))
        assert read.json()["requires_after_photo"] is True
