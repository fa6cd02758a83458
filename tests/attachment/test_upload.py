"""POST /v1/tickets/{id}/attachments and the reads of photos, in the demo county: sizes, types
judged by the bytes, metadata stripped from what is served, the original's EXIF read for the
centre, the place and dispatch checks, the per-ticket limit, who may upload and read, the
timeline and the webhooks (ids only)."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select

from hotline.attachment.models import Attachment
from hotline.config import Settings
from hotline.webhook.models import Delivery
from tests.attachment.photos import (
    GRID,
    MIB,
    OTHER_GRID,
    TOWNSHIP,
    grid_centre,
    opened,
    photo,
    upload,
    uploaded,
)
from tests.conftest import Demo
from tests.workflow.test_actions import (
    add_worker,
    attached_member,
    auth,
    post_ticket,
    refused,
    timeline,
    whistled,
    worker,
)


def fetched(r: httpx.Response) -> Image.Image:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    return opened(r.content)


class TestSizes:
    async def test_a_photo_of_ten_mib_plus_one_byte_is_413(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        base = photo()
        data = base + b"\0" * (10 * MIB + 1 - len(base))
        problem = refused(await upload(client, worker(demo), ticket, data), 413)
        assert problem["code"] == "payload_too_large"

    async def test_a_photo_of_exactly_ten_mib_is_taken(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        base = photo()
        # Bytes after the JPEG's end are ignored by decoders: a valid photo of exactly 10 MiB.
        data = base + b"\0" * (10 * MIB - len(base))
        shown = await uploaded(client, worker(demo), ticket, data)
        assert shown["bytes"] < MIB  # the served copy is re-encoded

    async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(await upload(client, worker(demo), ticket, b"\xff" * (30 * MIB)), 413)
        assert problem["code"] == "payload_too_large"

    async def test_a_decompression_bomb_is_413(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        # 64 megapixels of one colour: a few kilobytes of PNG.
        bomb = photo("PNG", size=(8000, 8000), mode="1", taken=None, gps=None)
        assert len(bomb) < MIB
        problem = refused(await upload(client, worker(demo), ticket, bomb, name="x.png"), 413)
        assert "50000000" in problem["detail"]

    async def test_an_empty_file_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        refused(await upload(client, worker(demo), ticket, b""), 422)


class TestTypes:
    async def test_a_png_named_jpg_is_fine_and_served_as_jpeg(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        shown = await uploaded(client, worker(demo), ticket, photo("PNG"), name="photo.jpg")
        assert shown["content_type"] == "image/jpeg"
        r = await client.get(shown["url"], headers=worker(demo))
        assert fetched(r).format == "JPEG"

    async def test_webp_and_transparent_png_are_taken(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await uploaded(client, worker(demo), ticket, photo("WEBP"), name="a.webp")
        clear = photo("PNG", mode="RGBA", taken=None, gps=None)
        await uploaded(client, worker(demo), ticket, clear, name="b.png", content_type="image/png")

    async def test_a_gif_or_a_pdf_named_jpg_is_415(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        gif = photo("GIF", taken=None, gps=None)
        problem = refused(await upload(client, worker(demo), ticket, gif, name="photo.jpg"), 415)
        assert problem["code"] == "unsupported_media_type"
        assert problem["format"] == "GIF"
        pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
        problem = refused(await upload(client, worker(demo), ticket, pdf, name="photo.jpg"), 415)
        assert problem["code"] == "unsupported_media_type"

    async def test_a_truncated_jpeg_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        whole = photo(size=(1200, 900))
        problem = refused(await upload(client, worker(demo), ticket, whole[: len(whole) // 3]), 422)
        assert problem["field"] == "file"

    async def test_a_stage_not_before_during_after_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(await upload(client, worker(demo), ticket, photo(), stage="later"), 422)
        assert {e["field"] for e in problem["errors"]} == {"stage"}


class TestMetadata:
    async def test_the_served_copy_and_thumbnail_carry_no_exif_but_the_original_is_read(
        self, client: httpx.AsyncClient, demo: Demo, settings: Settings
    ) -> None:
        ticket = await post_ticket(client, demo)
        original = photo(size=(1600, 1200), gps=(42.123456, 123.654321))
        shown = await uploaded(client, worker(demo), ticket, original, note="修补前")
        assert shown["note"] == "修补前"
        assert shown["stage"] == "after"
        for url in (shown["url"], shown["thumb_url"]):
            served = fetched(await client.get(url, headers=worker(demo)))
            assert dict(served.getexif()) == {}
            assert served.getexif().get_ifd(0x8825) == {}
            assert "exif" not in served.info
        thumb = fetched(await client.get(shown["thumb_url"], headers=worker(demo)))
        assert max(thumb.size) == 320
        full = fetched(await client.get(shown["url"], headers=worker(demo)))
        assert full.size == (1600, 1200) == (shown["width"], shown["height"])

        # The field does not see the EXIF; the centre does, read from the original.
        assert shown["exif"] is None and shown["check"] is None
        (centre,) = (
            await client.get(
                f"/v1/tickets/{ticket['id']}/attachments", headers=demo.headers("dispatcher")
            )
        ).json()
        assert abs(centre["exif"]["lat"] - 42.123456) < 1e-5
        assert abs(centre["exif"]["lon"] - 123.654321) < 1e-5
        taken = datetime.fromisoformat(centre["exif"]["taken_at"])
        assert taken.isoformat() == "2026-06-01T10:30:00+08:00"

        # The original is kept as sent, privately, under a random name.
        files = [p for p in settings.attachment_dir.rglob("*") if p.is_file()]
        (kept,) = [p for p in files if p.name.endswith(".original")]
        assert kept.read_bytes() == original
        assert "photo" not in kept.name
        assert len(files) == 3

    async def test_the_exif_orientation_is_applied(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        # Orientation 6: the camera was turned; the picture is shown rotated 90°.
        shown = await uploaded(client, worker(demo), ticket, photo(size=(600, 400), orientation=6))
        assert (shown["width"], shown["height"]) == (400, 600)
        full = fetched(await client.get(shown["url"], headers=worker(demo)))
        assert full.size == (400, 600)

    async def test_a_photo_without_exif_has_unknown_checks(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await uploaded(client, worker(demo), ticket, photo(taken=None, gps=None))
        (shown,) = (
            await client.get(
                f"/v1/tickets/{ticket['id']}/attachments", headers=demo.headers("agent")
            )
        ).json()
        assert shown["exif"] == {"taken_at": None, "lat": None, "lon": None}
        assert shown["check"] == {"distance_m": None, "minutes_since_dispatch": None, "flags": []}


def exif_time(at: datetime) -> str:
    from hotline.kit.clock import county_zone

    return at.astimezone(county_zone()).strftime("%Y:%m:%d %H:%M:%S")


class TestChecks:
    async def test_near_and_after_dispatch_is_not_flagged(
        self, client: httpx.AsyncClient, demo: Demo, clock: Any
    ) -> None:
        clock.set("2026-06-01T09:00:00+08:00")
        lat, lon = await grid_centre(client, demo)
        ticket = await post_ticket(client, demo, location={"lat": lat, "lon": lon})
        assert ticket["route"]["grid_code"] == GRID
        shot = photo(taken="2026:06:01 09:45:00", gps=(lat + 0.001, lon))
        clock.set("2026-06-01T10:00:00+08:00")
        await uploaded(client, worker(demo), ticket, shot)
        (shown,) = (
            await client.get(
                f"/v1/tickets/{ticket['id']}/attachments", headers=demo.headers("dispatcher")
            )
        ).json()
        assert 100 < shown["check"]["distance_m"] < 120  # 0.001° of latitude: about 111 m
        assert shown["check"]["minutes_since_dispatch"] == 45
        assert shown["check"]["flags"] == []

    async def test_far_away_or_before_dispatch_is_flagged(
        self, client: httpx.AsyncClient, demo: Demo, clock: Any
    ) -> None:
        clock.set("2026-06-01T09:00:00+08:00")
        lat, lon = await grid_centre(client, demo)
        ticket = await post_ticket(client, demo, location={"lat": lat, "lon": lon})
        clock.set("2026-06-01T10:00:00+08:00")
        far = photo(taken="2026:06:01 09:30:00", gps=(lat + 0.06, lon))  # about 6.7 km north
        early = photo(taken="2026:06:01 08:00:00", gps=(lat, lon))
        await uploaded(client, worker(demo), ticket, far, stage="before")
        await uploaded(client, worker(demo), ticket, early, stage="during")
        first, second = (
            await client.get(
                f"/v1/tickets/{ticket['id']}/attachments", headers=demo.headers("officer", TOWNSHIP)
            )
        ).json()
        assert first["check"]["flags"] == ["far_from_place"]
        assert first["check"]["distance_m"] > 5000
        assert second["check"]["flags"] == ["before_dispatch"]
        assert second["check"]["minutes_since_dispatch"] == -60


class TestLimit:
    async def test_the_thirty_first_photo_is_409_naming_the_limit(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        assert Settings().attachments.per_ticket == 30
        app.state.settings.attachments.per_ticket = 3
        ticket = await post_ticket(client, demo)
        small = photo(size=(32, 32))
        for _ in range(3):
            await uploaded(client, worker(demo), ticket, small)
        problem = refused(await upload(client, worker(demo), ticket, small), 409)
        assert problem["code"] == "attachment_limit"
        assert problem["limit"] == 3
        listed = await client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=worker(demo))
        assert len(listed.json()) == 3


class TestWho:
    async def test_the_owner_the_centre_and_the_officers_above_upload(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        for headers in (
            worker(demo),
            demo.headers("agent"),
            demo.headers("dispatcher"),
            demo.headers("officer", TOWNSHIP),
        ):
            await uploaded(client, headers, ticket, photo(size=(32, 32)))

    async def test_a_summoned_member_uploads_an_unsummoned_one_may_not(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        member = await attached_member(client, demo, GRID)
        ticket, _ = await whistled(client, demo, members=[member["staff_id"]])
        await uploaded(client, auth(member), ticket, photo(), stage="during")
        other = await attached_member(client, demo, GRID, attached=False)
        refused(await upload(client, auth(other), ticket, photo()), 404)

    async def test_others_are_refused(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        problem = refused(await upload(client, colleague["headers"], ticket, photo()), 403)
        assert problem["code"] == "forbidden"
        refused(await upload(client, worker(demo, OTHER_GRID), ticket, photo()), 404)
        refused(await upload(client, demo.headers("viewer"), ticket, photo()), 403)
        refused(await upload(client, worker(demo), 999999, photo()), 404)
        listed = await client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=worker(demo))
        assert listed.json() == []

    async def test_who_reads_the_photos(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        shown = await uploaded(client, worker(demo), ticket, photo())
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        # Whoever reads the ticket reads its photos.
        for headers in (colleague["headers"], demo.headers("admin")):
            fetched(await client.get(shown["url"], headers=headers))
        # The dashboard's viewer never does; another grid's worker does not know they exist.
        viewer = demo.headers("viewer")
        refused(await client.get(shown["url"], headers=viewer), 403)
        refused(await client.get(f"/v1/tickets/{ticket['id']}/attachments", headers=viewer), 403)
        stranger = worker(demo, OTHER_GRID)
        refused(await client.get(shown["url"], headers=stranger), 404)
        refused(await client.get(shown["thumb_url"], headers=stranger), 404)
        refused(await client.get("/v1/attachments/999999", headers=worker(demo)), 404)
        refused(await client.get(shown["url"]), 401)


class TestTimelineAndWebhooks:
    async def test_the_timeline_and_the_webhook_carry_only_the_id_and_stage(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        r = await client.post(
            "/v1/webhooks",
            json={"url": "https://sms.example/hook", "event_types": ["ticket.attachment_added"]},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 201, r.text
        ticket = await post_ticket(client, demo)
        shown = await uploaded(client, worker(demo), ticket, photo(), note="现场照片")
        assert shown["ticket_version"] == ticket["version"] + 1
        last = (await timeline(client, demo, ticket))[-1]
        assert last["action"] == "attachment_added"
        assert last["details"] == {"attachment_id": shown["id"], "stage": "after"}
        assert last["to_status"] == last["from_status"] == "dispatched"

        async with app.state.sessionmaker() as session:
            (delivery,) = (await session.scalars(select(Delivery))).all()
            row = await session.scalar(select(Attachment))
        assert row is not None
        data = delivery.payload["data"]
        assert data["attachment"] == {"id": shown["id"], "stage": "after"}
        text = json.dumps(delivery.payload, ensure_ascii=False)
        for leak in ("现场照片", "/v1/attachments", "123.4", row.storage_key):
            assert leak not in text

    async def test_a_served_photo_is_cached_privately(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        shown = await uploaded(client, worker(demo), ticket, photo())
        r = await client.get(shown["url"], headers=worker(demo))
        assert r.headers["cache-control"].startswith("private")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert Image.open(io.BytesIO(r.content)).format == "JPEG"
