"""Reading tickets back: one, a filtered page, the timeline, the catalogue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hotline.auth.roles import Role
from tests.conftest import Keys, ticket_body


async def post(client: httpx.AsyncClient, keys: Keys, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json=ticket_body(**overrides), headers=keys[Role.agent])
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestReadOne:
    @pytest.mark.parametrize("role", [Role.agent, Role.dispatcher, Role.arbiter, Role.admin])
    async def test_hotline_centre_reads_any_ticket_with_the_caller(
        self, client: httpx.AsyncClient, keys: Keys, role: Role
    ) -> None:
        created = await post(client, keys)
        r = await client.get(f"/v1/tickets/{created['id']}", headers=keys[role])
        assert r.status_code == 200
        # The create answer alone carries the caller's history (caller.service.before).
        assert "caller_history" not in r.json()
        assert r.json() == {k: v for k, v in created.items() if k != "caller_history"}

    async def test_unknown_id_is_404_problem(self, client: httpx.AsyncClient, keys: Keys) -> None:
        r = await client.get("/v1/tickets/999999", headers=keys[Role.agent])
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "not_found"

    async def test_viewer_never_gets_a_ticket(self, client: httpx.AsyncClient, keys: Keys) -> None:
        created = await post(client, keys)
        r = await client.get(f"/v1/tickets/{created['id']}", headers=keys[Role.viewer])
        assert r.status_code == 403

    async def test_worker_of_another_grid_gets_404(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        created = await post(client, keys)
        r = await client.get(f"/v1/tickets/{created['id']}", headers=keys[Role.worker])
        assert r.status_code == 404

    async def test_non_numeric_id_is_422(self, client: httpx.AsyncClient, keys: Keys) -> None:
        r = await client.get("/v1/tickets/abc", headers=keys[Role.agent])
        assert r.status_code == 422


class TestList:
    async def test_filters_combine(self, client: httpx.AsyncClient, keys: Keys) -> None:
        water = await post(client, keys)
        await post(client, keys, category="utility.power", urgency="utility")
        await post(client, keys, kind="consult", line="enterprise")
        r = await client.get(
            "/v1/tickets",
            params={"category": "utility.water", "kind": "complaint", "status": "triage"},
            headers=keys[Role.agent],
        )
        assert [t["id"] for t in r.json()["items"]] == [water["id"]]
        r = await client.get("/v1/tickets", params={"line": "enterprise"}, headers=keys[Role.agent])
        assert [t["line"] for t in r.json()["items"]] == ["enterprise"]
        r = await client.get("/v1/tickets", params={"urgency": "utility"}, headers=keys[Role.agent])
        assert [t["category"] for t in r.json()["items"]] == ["utility.power"]

    async def test_pages_cover_everything_once_newest_first(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        ids = [(await post(client, keys))["id"] for _ in range(7)]
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/tickets", params=params, headers=keys[Role.agent])).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)

    async def test_created_window_filters(self, client: httpx.AsyncClient, keys: Keys) -> None:
        created = await post(client, keys)
        at = created["created_at"]
        inside = await client.get(
            "/v1/tickets", params={"created_after": at}, headers=keys[Role.agent]
        )
        assert [t["id"] for t in inside.json()["items"]] == [created["id"]]
        before = await client.get(
            "/v1/tickets", params={"created_before": at}, headers=keys[Role.agent]
        )
        assert before.json()["items"] == []

    @pytest.mark.parametrize(
        "params",
        [
            {"cursor": "not-a-cursor"},
            {"cursor": "WyJ4Il0"},
            {"limit": 0},
            {"limit": 100000},
            {"status": "lost"},
            {"created_after": "yesterday"},
            {"created_after": "2026-01-01T00:00:00"},
        ],
    )
    async def test_bad_parameters_are_422(
        self, client: httpx.AsyncClient, keys: Keys, params: dict[str, Any]
    ) -> None:
        r = await client.get("/v1/tickets", params=params, headers=keys[Role.agent])
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"

    async def test_worker_lists_only_their_grid(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        await post(client, keys)
        r = await client.get("/v1/tickets", headers=keys[Role.worker])
        assert r.status_code == 200
        assert r.json()["items"] == []


class TestTimelineAndCatalogue:
    async def test_events_of_unknown_ticket_is_404(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.get("/v1/tickets/424242/events", headers=keys[Role.agent])
        assert r.status_code == 404

    async def test_categories_list_the_seeded_taxonomy(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.get("/v1/categories", headers=keys[Role.viewer])
        codes = {c["code"]: c for c in r.json()}
        assert codes["utility.water"]["name"] == "供水"
        assert codes["business.environment"]["group"] == "营商环境"
        assert len(codes) >= 30
