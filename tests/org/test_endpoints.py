"""Organisation over HTTP: units, county import, grids, staff, members, catalogue."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.auth.roles import Role
from hotline.demo.county import synthetic_county
from hotline.org.models import Unit
from tests.conftest import Demo, Keys

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[120.0, 40.0], [120.01, 40.0], [120.01, 40.01], [120.0, 40.01], [120.0, 40.0]]
    ],
}


async def units_count(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Unit)) or 0)


class TestImport:
    async def test_a_county_file_imports_and_lists_as_geojson(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        doc = synthetic_county(120)
        r = await client.post("/v1/grids/import", json=doc, headers=keys[Role.admin])
        assert r.status_code == 200, r.text
        assert r.json() == {
            "features": len(doc["features"]),
            "created": len(doc["features"]),
            "updated": 0,
        }
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/grids", params=params, headers=keys[Role.viewer])).json()
            assert page["type"] == "FeatureCollection"
            seen += [f["id"] for f in page["features"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 120
        again = await client.post("/v1/grids/import", json=doc, headers=keys[Role.admin])
        assert again.json()["updated"] == len(doc["features"])

    async def test_a_file_with_a_bad_polygon_is_refused_whole(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        doc = synthetic_county(30)
        bad = doc["features"][-1]
        ring = bad["geometry"]["coordinates"][0]
        ring[1], ring[2] = ring[2], ring[1]  # a bow-tie
        r = await client.post("/v1/grids/import", json=doc, headers=keys[Role.admin])
        assert r.status_code == 422
        problem = r.json()
        assert problem["code"] == "invalid_county_file"
        assert [p["code"] for p in problem["problems"]] == [bad["properties"]["code"]]
        assert "self-intersection" in problem["problems"][0]["problem"]
        assert await units_count(app) == 0

    async def test_overlap_with_a_stored_grid_is_refused(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        doc = synthetic_county(10)
        assert (
            await client.post("/v1/grids/import", json=doc, headers=keys[Role.admin])
        ).is_success
        intruder = copy.deepcopy(doc)
        for feature in intruder["features"]:
            feature["properties"]["code"] = "X" + feature["properties"]["code"]
            if feature["properties"].get("parent_code"):
                feature["properties"]["parent_code"] = "X" + feature["properties"]["parent_code"]
        before = await units_count(app)
        r = await client.post("/v1/grids/import", json=intruder, headers=keys[Role.admin])
        assert r.status_code == 422
        assert any("overlaps stored grid" in p["problem"] for p in r.json()["problems"])
        assert await units_count(app) == before

    async def test_unknown_parent_is_reported(self, client: httpx.AsyncClient, keys: Keys) -> None:
        doc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": SQUARE,
                    "properties": {"code": "G1", "name": "孤儿网格", "parent_code": "NOPE"},
                }
            ],
        }
        r = await client.post("/v1/grids/import", json=doc, headers=keys[Role.admin])
        assert r.status_code == 422
        assert r.json()["problems"][0]["problem"] == "unknown parent NOPE"

    async def test_not_a_feature_collection(self, client: httpx.AsyncClient, keys: Keys) -> None:
        r = await client.post("/v1/grids/import", json={"type": "Point"}, headers=keys[Role.admin])
        assert r.status_code == 422
        assert r.json()["problems"][0]["index"] == -1

    async def test_only_admin_imports(self, client: httpx.AsyncClient, keys: Keys) -> None:
        doc = synthetic_county(3)
        r = await client.post("/v1/grids/import", json=doc, headers=keys[Role.dispatcher])
        assert r.status_code == 403


class TestUnits:
    async def test_create_read_patch_a_unit(self, client: httpx.AsyncClient, keys: Keys) -> None:
        admin = keys[Role.admin]
        r = await client.post(
            "/v1/units", json={"code": "210124", "name": "法库县", "kind": "county"}, headers=admin
        )
        assert r.status_code == 201, r.text
        r = await client.post(
            "/v1/units",
            json={
                "code": "210124100",
                "name": "法库镇",
                "kind": "township",
                "parent_code": "210124",
                "aliases": ["法库街道", "法库街道"],
            },
            headers=admin,
        )
        assert r.json()["aliases"] == ["法库街道"]
        r = await client.patch("/v1/units/210124100", json={"aliases": ["老城"]}, headers=admin)
        assert r.json()["aliases"] == ["老城"]
        listed = await client.get(
            "/v1/units", params={"parent_code": "210124"}, headers=keys[Role.dispatcher]
        )
        assert [u["code"] for u in listed.json()["items"]] == ["210124100"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"code": "G9", "name": "无边界", "kind": "grid"}, "boundary"),
            (
                {"code": "T9", "name": "乡", "kind": "township", "parent_code": "NOPE"},
                "parent_code",
            ),
            ({"code": "bad code!", "name": "x", "kind": "township"}, "code"),
        ],
    )
    async def test_invalid_units_are_422(
        self, client: httpx.AsyncClient, keys: Keys, body: dict[str, Any], field: str
    ) -> None:
        r = await client.post("/v1/units", json=body, headers=keys[Role.admin])
        assert r.status_code == 422
        problem = r.json()
        assert problem.get("field") == field or field in [e["field"] for e in problem["errors"]]

    async def test_duplicate_code_is_409(self, client: httpx.AsyncClient, keys: Keys) -> None:
        body = {"code": "210124", "name": "法库县", "kind": "county"}
        await client.post("/v1/units", json=body, headers=keys[Role.admin])
        r = await client.post("/v1/units", json=body, headers=keys[Role.admin])
        assert r.status_code == 409

    async def test_workers_cannot_read_units(self, client: httpx.AsyncClient, keys: Keys) -> None:
        assert (await client.get("/v1/units", headers=keys[Role.worker])).status_code == 403


class TestGridsAndPeople:
    async def test_grid_shows_its_worker_and_members_but_not_to_the_viewer(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        code = "210124100002001"
        feature = (await client.get(f"/v1/grids/{code}", headers=demo.headers("admin"))).json()
        assert feature["properties"]["workers"][0]["id"] == demo.person("worker", code)["staff_id"]
        assert feature["properties"]["members"]
        assert "phone" in feature["properties"]["workers"][0]
        viewer = (await client.get(f"/v1/grids/{code}", headers=demo.headers("viewer"))).json()
        assert "workers" not in viewer["properties"]
        assert viewer["geometry"]["type"] == "Polygon"

    async def test_unknown_grid_is_404(self, client: httpx.AsyncClient, demo: Demo) -> None:
        r = await client.get("/v1/grids/000", headers=demo.headers("admin"))
        assert r.status_code == 404

    async def test_one_worker_on_duty_per_grid(self, client: httpx.AsyncClient, demo: Demo) -> None:
        code = "210124100002001"
        r = await client.post(
            "/v1/staff",
            json={
                "name": "新网格员",
                "role": "worker",
                "unit_code": code,
                "on_duty": True,
                "phone": "13900009999",
            },
            headers=demo.headers("admin"),
        )
        assert r.status_code == 201, r.text
        workers = (
            await client.get("/v1/staff", params={"unit_code": code}, headers=demo.headers("admin"))
        ).json()
        assert [w["on_duty"] for w in workers] == [False, True]

    async def test_a_worker_belongs_to_a_grid_and_a_member_to_a_department(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.post(
            "/v1/staff",
            json={"name": "错配", "role": "member", "unit_code": "210124100002001"},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 422
        assert r.json()["field"] == "unit_code"

    async def test_attach_and_detach_a_member(self, client: httpx.AsyncClient, demo: Demo) -> None:
        member = demo.person("member", "210124-D-WATER")
        code = "210124105203003"
        admin = demo.headers("admin")
        current = (await client.get(f"/v1/staff/{member['staff_id']}", headers=admin)).json()
        target = next(
            f["id"]
            for f in (await client.get("/v1/grids", headers=admin)).json()["features"]
            if f["id"] not in current["grids"]
        )
        r = await client.post(
            f"/v1/grids/{target}/members", json={"staff_id": member["staff_id"]}, headers=admin
        )
        assert r.status_code == 201, r.text
        assert target in r.json()["grids"]
        again = await client.post(
            f"/v1/grids/{target}/members", json={"staff_id": member["staff_id"]}, headers=admin
        )
        assert again.status_code == 409
        r = await client.delete(f"/v1/grids/{target}/members/{member['staff_id']}", headers=admin)
        assert r.status_code == 204
        r = await client.delete(f"/v1/grids/{code}/members/999999", headers=admin)
        assert r.status_code == 404


class TestBoundaryEdit:
    async def test_moving_a_boundary_changes_routing_at_once(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin, agent = demo.headers("admin"), demo.headers("agent")
        r = await client.post(
            "/v1/units",
            json={
                "code": "G-FAR",
                "name": "飞地网格",
                "kind": "grid",
                "parent_code": "210124100002",
                "boundary": SQUARE,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        body = {
            "kind": "help",
            "category": "urban.road",
            "content": "路灯不亮",
            "location": {"lat": 40.005, "lon": 120.005},
        }
        first = (await client.post("/v1/tickets", json=body, headers=agent)).json()
        assert first["route"]["grid_code"] == "G-FAR"
        moved = copy.deepcopy(SQUARE)
        moved["coordinates"][0] = [[x + 1, y] for x, y in SQUARE["coordinates"][0]]
        r = await client.patch("/v1/grids/G-FAR", json={"boundary": moved}, headers=admin)
        assert r.status_code == 200, r.text
        second = (await client.post("/v1/tickets", json=body, headers=agent)).json()
        assert second["status"] == "triage"

    async def test_a_boundary_overlapping_a_neighbour_is_refused(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        neighbour = (await client.get("/v1/grids/210124100002002", headers=admin)).json()
        r = await client.patch(
            "/v1/grids/210124100002001", json={"boundary": neighbour["geometry"]}, headers=admin
        )
        assert r.status_code == 422
        assert "overlaps stored grid 210124100002002" in r.json()["detail"]


class TestCatalogue:
    async def test_rule_crud_and_validation(self, client: httpx.AsyncClient, demo: Demo) -> None:
        admin = demo.headers("admin")
        r = await client.post(
            "/v1/catalogue-rules", json={"unit_code": "210124-D-GAS"}, headers=admin
        )
        assert r.status_code == 422
        r = await client.post(
            "/v1/catalogue-rules",
            json={"category": "no.such", "unit_code": "210124-D-GAS"},
            headers=admin,
        )
        assert r.json()["field"] == "category"
        r = await client.post(
            "/v1/catalogue-rules",
            json={"category": "safety.hazard", "unit_code": "210124-D-GAS", "priority": 5},
            headers=admin,
        )
        assert r.status_code == 201
        rule_id = r.json()["id"]
        r = await client.patch(
            f"/v1/catalogue-rules/{rule_id}", json={"active": False}, headers=admin
        )
        assert r.json()["active"] is False
        assert (
            await client.delete(f"/v1/catalogue-rules/{rule_id}", headers=admin)
        ).status_code == 204
        assert (
            await client.delete(f"/v1/catalogue-rules/{rule_id}", headers=admin)
        ).status_code == 404
        listed = (
            await client.get("/v1/catalogue-rules", headers=demo.headers("dispatcher"))
        ).json()
        assert rule_id not in [x["id"] for x in listed]
