"""Routing on intake, over HTTP, in the demo county."""

from __future__ import annotations

from typing import Any

import httpx
import prcoords
import pytest

from hotline.demo.county import SHARED_ALIAS
from tests.conftest import Demo

ROAD = {"kind": "complaint", "category": "urban.road", "content": "路面坑洼，井盖缺失"}


async def post(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json={**ROAD, **fields}, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def grid(client: httpx.AsyncClient, demo: Demo, code: str) -> dict[str, Any]:
    r = await client.get(f"/v1/grids/{code}", headers=demo.headers("admin"))
    return dict(r.json())


def centre(feature: dict[str, Any]) -> tuple[float, float]:
    from shapely.geometry import shape

    point = shape(feature["geometry"]).representative_point()
    return point.y, point.x


class TestAddress:
    async def test_village_alias_reaches_the_village_grid_worker(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, location={"address": "法库县东湖公园北侧马路"})
        route = ticket["route"]
        assert ticket["status"] == "dispatched"
        assert route["method"] == "address"
        assert route["grid_code"] == "210124100002001"
        assert "「东湖公园」" in route["explanation"]
        assert "东湖社区" in route["explanation"]
        worker = demo.person("worker", "210124100002001")
        assert route["assignee_id"] == worker["staff_id"]
        assert route["assignee_name"] == worker["name"]

    async def test_village_and_its_grid_alias_route_to_the_grid(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, location={"address": "北关社区锦绣家园5号楼"})
        assert ticket["route"]["grid_code"] == "210124100001002"

    async def test_shared_alias_is_triage_with_candidates(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, location={"address": f"{SHARED_ALIAS}东门"})
        assert ticket["status"] == "triage"
        candidates = {c["code"] for c in ticket["route"]["candidates"]}
        assert candidates == {"210124100001003", "210124102201002"}
        assert "ambiguous" in ticket["route"]["explanation"]

    async def test_shared_alias_with_its_village_is_decided(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, location={"address": f"三面船村{SHARED_ALIAS}"})
        assert ticket["route"]["grid_code"] == "210124102201002"

    async def test_unknown_place_is_triage(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post(client, demo, location={"address": "火星基地一号"})
        assert ticket["status"] == "triage"
        assert ticket["route"]["candidates"] == []


class TestPoint:
    async def test_point_in_a_grid_routes_there(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        feature = await grid(client, demo, "210124103201003")
        lat, lon = centre(feature)
        ticket = await post(client, demo, location={"lat": lat, "lon": lon})
        assert ticket["route"]["method"] == "point"
        assert ticket["route"]["grid_code"] == "210124103201003"
        assert ticket["location"]["wgs84"] == {"lat": lat, "lon": lon}

    @pytest.mark.parametrize("crs", ["gcj02", "bd09"])
    async def test_map_coordinates_are_normalised_before_routing(
        self, client: httpx.AsyncClient, demo: Demo, crs: str
    ) -> None:
        feature = await grid(client, demo, "210124103201003")
        lat, lon = centre(feature)
        shifted = (prcoords.wgs_gcj if crs == "gcj02" else prcoords.wgs_bd)(
            prcoords.Coords(lat, lon)
        )
        ticket = await post(
            client, demo, location={"lat": shifted.lat, "lon": shifted.lon, "crs": crs}
        )
        assert ticket["route"]["grid_code"] == "210124103201003"
        assert ticket["location"]["crs"] == crs
        assert ticket["location"]["lat"] == shifted.lat
        assert ticket["location"]["wgs84"]["lat"] == pytest.approx(lat, abs=1e-6)

    async def test_point_outside_the_county_goes_to_triage(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, location={"lat": 39.9, "lon": 116.4})
        assert ticket["status"] == "triage"
        assert "lies in no grid" in ticket["route"]["explanation"]

    async def test_explicit_grid_code_beats_the_point(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(
            client, demo, location={"grid_code": "210124100001001", "lat": 39.9, "lon": 116.4}
        )
        assert ticket["route"]["method"] == "grid_code"
        assert ticket["route"]["grid_code"] == "210124100001001"


class TestCatalogue:
    async def test_utility_goes_straight_to_its_department(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(
            client, demo, category="utility.water", location={"address": "东湖公园"}
        )
        route = ticket["route"]
        assert route["method"] == "catalogue"
        assert route["unit_code"] == "210124-D-WATER"
        assert route["grid_code"] is None
        assert route["assignee_id"] is None

    async def test_enterprise_line_goes_to_the_business_bureau(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, line="enterprise", location={"address": "东湖公园"})
        assert ticket["route"]["unit_code"] == "210124-D-BUSINESS"

    async def test_a_new_area_rule_routes_the_next_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.post(
            "/v1/catalogue-rules",
            json={
                "category": "urban.road",
                "area_code": "210124100",
                "unit_code": "210124-D-HOUSING",
            },
            headers=demo.headers("admin"),
        )
        assert r.status_code == 201, r.text
        ticket = await post(client, demo, location={"address": "东湖公园"})
        assert ticket["route"]["unit_code"] == "210124-D-HOUSING"
        assert ticket["route"]["rule_id"] == r.json()["id"]


class TestAssignment:
    async def test_without_a_worker_on_duty_the_ticket_waits_in_the_grid_queue(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        worker = demo.person("worker", "210124100002001")
        r = await client.patch(
            f"/v1/staff/{worker['staff_id']}",
            json={"on_duty": False},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 200
        ticket = await post(client, demo, location={"address": "东湖公园"})
        assert ticket["status"] == "dispatched"
        assert ticket["route"]["grid_code"] == "210124100002001"
        assert ticket["route"]["assignee_id"] is None
        assert "grid queue" in ticket["route"]["explanation"]

    async def test_dispatched_event_follows_created(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, location={"address": "东湖公园"})
        events = (
            await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("agent"))
        ).json()
        assert [(e["action"], e["to_status"]) for e in events] == [
            ("created", "triage"),
            ("dispatched", "dispatched"),
        ]
        assert events[1]["details"]["grid_code"] == "210124100002001"

    async def test_the_grid_worker_reads_the_ticket_with_a_masked_phone(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(
            client,
            demo,
            location={"address": "东湖公园"},
            caller={"name": "张三", "phone": "13812345678"},
        )
        other = demo.headers("worker", "210124100001001")
        assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=other)).status_code == 404
        mine = await client.get(
            f"/v1/tickets/{ticket['id']}", headers=demo.headers("worker", "210124100002001")
        )
        assert mine.status_code == 200
        assert mine.json()["caller"]["phone"] == "13812345678"  # assigned to them
