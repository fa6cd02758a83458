"""The migration that clears what older versions kept of failed deliveries: the target's answer
in ``last_error``, quoted again in ``disabled_reason``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hotline.db import migrate

BEFORE = "e7a9c3d1f5b8"
SECRET = "ami-id: i-0123456789 aws_secret_access_key=wJalrXUtnFEMI"


def test_upgrading_drops_the_answers_older_versions_kept(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, BEFORE)
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO webhook (id, url, secret, description, event_types, active,"
            " disabled_reason, created_at, updated_at)"
            " VALUES (1, 'http://169.254.169.254/latest/meta-data', 's', '', '[]', 0, ?,"
            " '2026-11-30 00:00:00', '2026-11-30 00:00:00')",
            (f"every delivery failed since 2026-11-29; last: 200 {SECRET}",),
        )
        for n, (status, error) in enumerate([(500, SECRET), (None, f"ConnectError: {SECRET}")]):
            db.execute(
                "INSERT INTO webhook_delivery (webhook_id, msg_id, event_type, payload, status,"
                " attempts, next_attempt_at, last_status_code, last_error, created_at)"
                " VALUES (1, ?, 'ticket.created', '{}', 'dead', 3, '2026-11-30 00:00:00', ?, ?,"
                " '2026-11-30 00:00:00')",
                (f"msg_{n}", status, error),
            )
    migrate.upgrade(url)
    with sqlite3.connect(path) as db:
        errors = [e for (e,) in db.execute("SELECT last_error FROM webhook_delivery ORDER BY id")]
        (reason,) = db.execute("SELECT disabled_reason FROM webhook").fetchone()
    assert errors[0] == "HTTP 500"
    assert "older version" in errors[1]
    assert all(SECRET not in text for text in [*errors, reason])
