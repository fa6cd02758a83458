"""The `after` photo a category's reply needs (catalogue data), and uploads replayed with an
Idempotency-Key after a lost answer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.attachment.photos import photo, upload, uploaded
from tests.conftest import Demo
from tests.workflow.test_actions import act, done, post_ticket, refused, timeline, worker

BUILDING = "urban.construction"  # the demo marks it: a reply needs an `after` photo
FIXED = {"text": "违建已拆除"}


class TestRequiredPhoto:
    async def test_the_catalogue_says_which_categories_need_one(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get("/v1/categories", headers=demo.headers("agent"))
        needs = {c["code"] for c in r.json() if c["requires_after_photo"]}
        assert needs == {"urban.construction", "urban.greening"}

    async def test_a_reply_waits_for_the_after_photo(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, category=BUILDING)
        await done(client, worker(demo), ticket, "sign")
        problem = refused(await act(client, worker(demo), ticket, "reply", FIXED), 409)
        assert problem["code"] == "photo_required"
        assert problem["missing"] == "after"
        assert problem["category"] == BUILDING
        # A photo of another stage does not do.
        await uploaded(client, worker(demo), ticket, photo(), stage="before")
        problem = refused(await act(client, worker(demo), ticket, "reply", FIXED), 409)
        assert problem["code"] == "photo_required"
        await uploaded(client, worker(demo), ticket, photo(), stage="after")
        after = await done(client, worker(demo), ticket, "reply", FIXED)
        assert after["status"] == "replied"

    async def test_a_rework_needs_a_new_after_photo(
        self, client: httpx.AsyncClient, demo: Demo, clock: Any
    ) -> None:
        clock.set("2026-06-01T09:00:00+08:00")
        ticket = await post_ticket(client, demo, category=BUILDING)
        await done(client, worker(demo), ticket, "sign")
        await uploaded(client, worker(demo), ticket, photo(), stage="after")
        await done(client, worker(demo), ticket, "reply", FIXED)
        clock.set("2026-06-01T12:00:00+08:00")
        unhappy = {
            "reached": True,
            "resolution": "unresolved",
            "satisfaction": "unsatisfied",
            "unit_at_fault": True,
        }
        reworked = await done(client, demo.headers("agent"), ticket, "callback", unhappy)
        assert reworked["status"] == "rework"
        clock.set("2026-06-01T13:00:00+08:00")
        await done(client, worker(demo), ticket, "sign")
        problem = refused(await act(client, worker(demo), ticket, "reply", FIXED), 409)
        assert problem["code"] == "photo_required"
        await uploaded(client, worker(demo), ticket, photo(), stage="after")
        await done(client, worker(demo), ticket, "reply", FIXED)

    async def test_other_categories_reply_without_photos(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await done(client, worker(demo), ticket, "sign")
        await done(client, worker(demo), ticket, "reply", FIXED)


class TestReplayedUpload:
    async def test_a_retry_after_a_lost_answer_adds_nothing(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        shot = photo()
        first = await upload(client, worker(demo), ticket, shot, note="现场", key="outbox-1")
        assert first.status_code == 201, first.text
        assert "idempotent-replayed" not in first.headers
        again = await upload(client, worker(demo), ticket, shot, note="现场", key="outbox-1")
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        listed = await client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=worker(demo))
        assert [a["id"] for a in listed.json()] == [first.json()["id"]]
        added = [
            e for e in await timeline(client, demo, ticket) if e["action"] == "attachment_added"
        ]
        assert len(added) == 1

    async def test_the_same_key_with_another_photo_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await uploaded(client, worker(demo), ticket, photo(), key="outbox-2")
        other = photo(size=(320, 240))
        problem = refused(await upload(client, worker(demo), ticket, other, key="outbox-2"), 422)
        assert problem["field"] == "Idempotency-Key"
        problem = refused(
            await upload(client, worker(demo), ticket, photo(), stage="before", key="outbox-2"),
            422,
        )
        assert problem["field"] == "Idempotency-Key"

    async def test_two_identical_uploads_at_once_store_one_photo(
        self, client: httpx.AsyncClient, demo: Demo, settings: Any
    ) -> None:
        ticket = await post_ticket(client, demo)
        shot = photo()
        answers = await asyncio.gather(
            *(upload(client, worker(demo), ticket, shot, key="outbox-3") for _ in range(3))
        )
        assert [r.status_code for r in answers] == [201, 201, 201], [r.text for r in answers]
        assert len({r.content for r in answers}) == 1
        listed = await client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=worker(demo))
        assert len(listed.json()) == 1
        # The twins' files were removed: one photo's three files remain.
        assert len([p for p in settings.attachment_dir.rglob("*") if p.is_file()]) == 3
