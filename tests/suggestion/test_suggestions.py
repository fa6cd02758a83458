"""POST /v1/suggestions, the stored models, and intake without a category (issue 16)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from hotline.app import create_app
from hotline.db.session import unit_of_work
from hotline.hotspot.runner import Clustering
from hotline.kit.scrub import MASK
from hotline.suggestion import repository, training
from tests.conftest import Demo

WATER = [
    "家里停水两天了没人管",
    "自来水发黄有沙子不敢喝",
    "楼上水压太小水龙头滴水",
    "水管爆了水流了一地",
    "小区又停水了什么时候来水",
    "自来水有股漂白粉味",
    "村里自来水管冻裂断水了",
]
HEAT = [
    "暖气片不热屋里才十二度",
    "交了取暖费暖气还是凉的",
    "供热管道漏水淌了一地",
    "暖气上热下凉放气也没用",
    "供暖太晚屋里冰凉",
    "顶楼暖气一直不热",
    "换热站坏了整栋楼冰凉",
]
NOISE = [
    "楼下烧烤店吵到后半夜",
    "工地夜里打桩吵得睡不着",
    "广场舞音响太大声",
    "隔壁KTV凌晨还在唱",
    "商铺大喇叭循环喊甩卖",
    "装修电钻周末也不停",
    "夜里大货车一直按喇叭",
]
CORPUS = {"utility.water": WATER, "utility.heating": HEAT, "environment.noise": NOISE}
REPLY = "已联系来电人张三（电话13812345678）和邻居李先生，供水公司明日恢复供水"
NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)


async def closed_history(client: httpx.AsyncClient, demo: Demo) -> list[dict[str, Any]]:
    """Seven tickets of each of three categories, answered on the phone (closed, with a reply
    that names the caller and their phone)."""
    made = []
    for category, texts in CORPUS.items():
        for text in texts:
            r = await client.post(
                "/v1/tickets",
                json={
                    "kind": "complaint",
                    "category": category,
                    "content": text,
                    "caller": {"name": "张三", "phone": "13812345678"},
                    "location": {"address": "东湖公园北侧"},
                },
                headers=demo.headers("agent"),
            )
            assert r.status_code == 201, r.text
            t = r.json()
            r = await client.post(
                f"/v1/tickets/{t['id']}/answer", json={"text": REPLY}, headers=demo.headers("agent")
            )
            assert r.status_code == 200, r.text
            made.append(t)
    return made


async def train(app: Any) -> training.Trained:
    return await training.train(app.state.sessionmaker, since=None, now=NOW)


def expire(app: Any) -> None:
    """Let the next request check the active version (it is checked every 2 s)."""
    app.state.suggestions._checked = -float("inf")


async def suggest(client: httpx.AsyncClient, demo: Demo, text: str, role: str = "agent") -> Any:
    r = await client.post("/v1/suggestions", json={"content": text}, headers=demo.headers(role))
    assert r.status_code == 200, r.text
    return r.json()


class TestAnswer:
    async def test_seed_model_before_any_history(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        answer = await suggest(client, demo, "我家停水了")
        assert answer["model"] == {
            "version": 0,
            "kind": "seed",
            "trained_at": None,
            "ticket_count": 0,
        }
        assert answer["categories"][0]["code"] == "utility.water"
        assert answer["similar"] == [] and answer["units"] == []

    async def test_scores_top_five_best_first_summing_to_at_most_one(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await closed_history(client, demo)
        trained = await train(app)
        assert (trained.kind, trained.ticket_count) == ("trained", 21)
        assert trained.figures["top1"]["denominator"] == trained.figures["held_out"] > 0
        expire(app)
        answer = await suggest(client, demo, "屋里暖气不热，冻得不行", role="dispatcher")
        scores = [c["score"] for c in answer["categories"]]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)
        assert all(0 <= s <= 1 for s in scores) and sum(scores) <= 1
        assert answer["categories"][0] == {
            "code": "utility.heating",
            "name": "供暖",
            "score": scores[0],
        }
        assert answer["model"]["version"] == trained.version
        assert answer["model"]["ticket_count"] == 21
        units = [u["score"] for u in answer["units"]]
        assert units and all(0 <= s <= 1 for s in units) and sum(units) <= 1

    async def test_urgency_names_the_words(self, client: httpx.AsyncClient, demo: Demo) -> None:
        answer = await suggest(client, demo, "楼道里燃气泄漏，还有人被困在电梯里")
        assert answer["urgency"] == {"level": "emergency", "words": ["燃气泄漏", "被困"]}
        answer = await suggest(client, demo, "小区停水三天了")
        assert answer["urgency"] == {"level": "utility", "words": ["停水"]}
        assert (await suggest(client, demo, "楼下烧烤店太吵"))["urgency"] is None

    async def test_similar_tickets_are_closed_ones_with_masked_replies(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        made = await closed_history(client, demo)
        await train(app)
        expire(app)
        answer = await suggest(client, demo, "家里停水两天了")
        assert 1 <= len(answer["similar"]) <= 5
        first = answer["similar"][0]
        assert first["number"] == made[0]["number"]  # the same text
        assert first["category"] == "utility.water" and first["close_reason"] == "answered"
        text = str(answer)
        assert "张三" not in text and "13812345678" not in text and "1381234" not in text
        assert "李先生" not in text
        assert MASK in first["reply_excerpt"] and "恢复供水" in first["reply_excerpt"]

    @pytest.mark.parametrize("role", ["viewer", "worker", "admin"])
    async def test_other_roles_are_refused(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        r = await client.post(
            "/v1/suggestions", json={"content": "停水"}, headers=demo.headers(role)
        )
        assert r.status_code == 403

    async def test_empty_content_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        r = await client.post(
            "/v1/suggestions", json={"content": "  "}, headers=demo.headers("agent")
        )
        assert r.status_code == 422


class TestVersions:
    async def test_use_rolls_back_and_every_process_follows_within_seconds(
        self, app: Any, settings: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await closed_history(client, demo)
        first = await train(app)
        second = await train(app)
        assert second.version > first.version
        other = create_app(settings)
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as elsewhere:
                now = [1000.0]
                other.state.suggestions._clock = lambda: now[0]
                assert (await suggest(elsewhere, demo, "停水"))["model"]["version"] == (
                    second.version
                )
                async with unit_of_work(app.state.sessionmaker) as session:
                    await training.use(session, first.version, NOW)
                now[0] += 1.0  # within the check interval the process keeps what it has
                assert (await suggest(elsewhere, demo, "停水"))["model"]["version"] == (
                    second.version
                )
                now[0] += 2.5
                assert (await suggest(elsewhere, demo, "停水"))["model"]["version"] == (
                    first.version
                )
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert await repository.active_version(session) == first.version
            rows = await repository.models(session)
        assert [r.active for r in rows] == [False, True]

    async def test_use_of_an_unknown_version_is_not_found(self, app: Any) -> None:
        from hotline.errors import NotFound

        with pytest.raises(NotFound):
            async with unit_of_work(app.state.sessionmaker) as session:
                await training.use(session, 999, NOW)


class TestIntakeWithoutCategory:
    async def post(self, client: httpx.AsyncClient, demo: Demo, text: str) -> Any:
        r = await client.post(
            "/v1/tickets",
            json={"kind": "complaint", "content": text, "location": {"address": "东湖公园北侧"}},
            headers=demo.headers("agent"),
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def test_routed_on_a_confident_suggestion(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await closed_history(client, demo)
        trained = await train(app)
        expire(app)
        app.state.suggestions.threshold = 0.05
        ticket = await self.post(client, demo, "小区停水了，自来水一直不来")
        assert ticket["category"] == "utility.water" and ticket["status"] == "dispatched"
        suggested = ticket["route"]["category_suggested"]
        assert suggested["code"] == "utility.water" and suggested["accepted"] is True
        assert suggested["model_version"] == trained.version
        assert suggested["score"] >= 0.05
        events = (
            await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("agent"))
        ).json()
        actions = (
            [e["action"] for e in events["items"]]
            if "items" in events
            else [e["action"] for e in events]
        )
        assert actions[:3] == ["created", "category_suggested", "dispatched"]
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            row = await repository.of_ticket(session, ticket["id"])
        assert row is not None and row.accepted and row.top3[0] == "utility.water"

    async def test_under_the_threshold_goes_to_triage_with_three_candidates(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        app.state.suggestions.threshold = 0.99
        ticket = await self.post(client, demo, "我家停水了")
        assert ticket["status"] == "triage" and ticket["route"]["method"] == "triage"
        assert ticket["route"]["category_suggested"]["accepted"] is False
        candidates = ticket["route"]["category_candidates"]
        assert len(candidates) == 3 and candidates[0]["code"] == "utility.water"
        assert ticket["category"] == "utility.water"  # provisional, the dispatcher decides

    async def test_open311_still_requires_service_code(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        key = demo.headers("agent")["Authorization"].removeprefix("Bearer ")
        r = await client.post(
            "/open311/v2/requests.json",
            data={"api_key": key, "description": "停水", "lat": "42.5", "long": "123.4"},
        )
        assert r.status_code == 400


class TestCorrections:
    async def events(self, client: httpx.AsyncClient, demo: Demo, ticket_id: int) -> list[Any]:
        r = await client.get(f"/v1/tickets/{ticket_id}/events", headers=demo.headers("agent"))
        body = r.json()
        return list(body["items"] if isinstance(body, dict) else body)

    async def test_the_dispatchers_choice_from_triage_is_a_correction(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        routed = await TestIntakeWithoutCategory().post(client, demo, "小区停水了")
        grid = routed["route"]["grid_code"] or routed["route"]["unit_code"]
        app.state.suggestions.threshold = 0.99
        ticket = await TestIntakeWithoutCategory().post(client, demo, "我家停水了")
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/dispatch",
            json={"unit_code": grid, "category": "utility.heating"},
            headers=demo.headers("dispatcher"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["category"] == "utility.heating"
        corrected = [
            e
            for e in await self.events(client, demo, ticket["id"])
            if e["action"] == "category_corrected"
        ]
        assert [e["details"] for e in corrected] == [
            {
                "from": "utility.water",
                "to": "utility.heating",
                "by": "triage",
                "suggested": "utility.water",
                "model_version": 0,
            }
        ]

    async def test_recategorise_keeps_state_and_owner(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await TestIntakeWithoutCategory().post(client, demo, "小区停水了")
        path = f"/v1/tickets/{ticket['id']}/category"
        r = await client.post(
            path,
            json={"category": "public.other", "note": "不是供水"},
            headers=demo.headers("dispatcher"),
        )
        assert r.status_code == 200, r.text
        after = r.json()
        assert (after["category"], after["status"], after["route"]["unit_code"]) == (
            "public.other",
            ticket["status"],
            ticket["route"]["unit_code"],
        )
        details = (await self.events(client, demo, ticket["id"]))[-1]["details"]
        assert details["by"] == "recategorise" and details["from"] == ticket["category"]
        again = await client.post(
            path, json={"category": "public.other"}, headers=demo.headers("dispatcher")
        )
        assert again.status_code == 409
        unknown = await client.post(
            path, json={"category": "no.such"}, headers=demo.headers("dispatcher")
        )
        assert unknown.status_code == 422
        agent = await client.post(
            path, json={"category": "utility.gas"}, headers=demo.headers("agent")
        )
        assert agent.status_code == 403


class TestFigures:
    async def test_suggestion_figures_with_numerators_and_denominators(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Any
    ) -> None:
        clock.set("2026-06-02T09:00:00+08:00")
        intake = TestIntakeWithoutCategory()
        app.state.suggestions.threshold = 0.01
        taken = await intake.post(client, demo, "我家停水了")
        app.state.suggestions.threshold = 0.99
        triaged = await intake.post(client, demo, "我家停水了")
        r = await client.post(
            f"/v1/tickets/{triaged['id']}/dispatch",
            json={"unit_code": taken["route"]["unit_code"], "category": "utility.heating"},
            headers=demo.headers("dispatcher"),
        )
        assert r.status_code == 200, r.text
        r = await client.get(
            "/v1/metrics/summary",
            params={"from": "2026-06-02", "to": "2026-06-02"},
            headers=demo.headers("viewer"),
        )
        assert r.status_code == 200, r.text
        figures = r.json()["suggestions"]
        assert figures["accuracy_on_intake"] == {"value": 0.5, "numerator": 1, "denominator": 2}
        assert figures["top3_on_intake"]["denominator"] == 2
        assert figures["automatic_acceptance"] == {"value": 0.5, "numerator": 1, "denominator": 2}
        right = figures["first_dispatch_right"]
        assert right["denominator"] == 2 and right["numerator"] == 2


class TestRetraining:
    async def test_due_after_the_interval_when_enough_tickets_closed(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        maker = app.state.sessionmaker
        assert not await training.retrain_due(maker, NOW, 0, 1)  # nothing closed yet
        await closed_history(client, demo)
        assert await training.retrain_due(maker, NOW, 86_400, 21)
        assert not await training.retrain_due(maker, NOW, 86_400, 22)
        await training.train(maker, since=None, now=datetime.now(UTC))
        later = datetime.now(UTC)
        assert not await training.retrain_due(maker, later, 86_400, 1)  # trained just now
        assert not await training.retrain_due(maker, later, 0, 1)  # nothing closed since

    async def test_the_server_retrains_in_its_child_process_on_the_newest_tickets(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        """jobs.serve's retrain: at most ``limit`` closed tickets, fitted by the serving
        process's child (hotspot.runner), whose answer is stored and served like any model."""
        await closed_history(client, demo)
        clustering = Clustering()
        try:
            trained = await training.train(
                app.state.sessionmaker,
                since=None,
                now=datetime.now(UTC),
                limit=5,
                fitter=functools.partial(clustering.run, training.fit_and_dump),
            )
        finally:
            clustering.close()
        assert trained.kind == "trained" and trained.ticket_count == 5
        expire(app)
        r = await suggest(client, demo, "小区停水了")
        assert r["model"]["version"] == trained.version, r


class TestUnreadableModel:
    async def test_a_blob_that_cannot_be_loaded_serves_the_seed(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        from hotline.suggestion.models import SuggestionModel

        async with unit_of_work(app.state.sessionmaker) as session:
            row = await repository.add(
                session,
                SuggestionModel(
                    kind="trained", trained_at=NOW, ticket_count=1, figures={}, blob=b"junk"
                ),
            )
            await repository.activate(session, row.version, NOW)
        expire(app)
        answer = await suggest(client, demo, "我家停水了")
        assert answer["model"]["version"] == 0
        assert answer["categories"][0]["code"] == "utility.water"
