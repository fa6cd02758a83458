"""Typed settings, read from the environment with the prefix ``HOTLINE_``.

Nested groups use a double underscore: ``HOTLINE_DATABASE__URL``. The data directory holds the
embedded SQLite database, the generated secrets and ``demo-keys.json``.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - the value production refuses


class Environment(StrEnum):
    development = "development"
    production = "production"


class DatabaseSettings(BaseModel):
    # None means the embedded SQLite file inside the data directory.
    url: str | None = None
    echo: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)
    # Seconds a request waits for a connection or a statement before failing with 503.
    timeout: float = Field(default=5.0, gt=0)
    # Seconds one statement of background work may take: the loops of `hotline serve` (sweeper,
    # metrics roll-up, hot spots, webhook outbox) and CLI commands. Never less than `timeout`.
    background_timeout: float = Field(default=300.0, gt=0)

    @field_validator("url")
    @classmethod
    def _empty_is_default(cls, value: str | None) -> str | None:
        return value or None


class SecuritySettings(BaseModel):
    # Keys the hash of callers' phones used for repeat detection (DESIGN.md §8). Empty: a random
    # key is generated once and kept in the data directory.
    phone_hash_key: SecretStr = SecretStr("")
    # Bad keys from one client address within a minute before it is refused (429).
    bad_key_limit: int = Field(default=20, ge=1)


class ServerSettings(BaseModel):
    # The proxies (addresses or networks, comma-separated; "*" for any) whose X-Forwarded-For
    # and X-Forwarded-Proto are believed: the client address then is the one they forward, as
    # the bad-key throttle and the logs see it. From anything else those headers are ignored.
    # Behind a load balancer, set it to the balancer's addresses (e.g. "10.0.0.0/8").
    trusted_proxies: str = Field(default="127.0.0.1,::1", min_length=1)


class SweeperSettings(BaseModel):
    # `hotline serve` sweeps every `interval` seconds; `hotline sweep` runs one pass.
    enabled: bool = True
    interval: float = Field(default=30.0, gt=0)
    # A reminder goes out once this share of a clock has run.
    remind_share: float = Field(default=0.8, gt=0, lt=1)
    # The hot-spot detector runs after a sweep at most this often (seconds).
    hotspot_interval: float = Field(default=600.0, gt=0)


class SuggestionSettings(BaseModel):
    # Intake takes the top suggestion for a ticket posted without a category when its score
    # reaches this; below it the ticket goes to triage with the top three (docs/routing.md:
    # the validation curve it was chosen from).
    threshold: float = Field(default=0.4, gt=0, le=1)
    # The sweeper retrains at most this often (seconds; nightly by default) ...
    retrain_interval: float = Field(default=86_400.0, gt=0)
    # ... and only when at least this many tickets closed since the active model was trained.
    retrain_minimum: int = Field(default=200, ge=1)
    # Training reads at most this many closed tickets, the newest: 100,000 train in under a
    # minute and 1 GiB on 2 cores (docs/performance.md); years of imported history would not.
    train_limit: int = Field(default=100_000, ge=1)


class WebhookSettings(BaseModel):
    # `hotline serve` delivers the outbox every `interval` seconds.
    enabled: bool = True
    interval: float = Field(default=1.0, gt=0)
    # Seconds a receiver may take to answer one delivery.
    timeout: float = Field(default=10.0, gt=0)
    # Seconds a claimed delivery is reserved for its deliverer. A deliverer that dies (or loses
    # the database) before marking its posts leaves them pending: they go out again after it.
    lease: float = Field(default=60.0, gt=0)
    # Let subscriptions and deliveries reach loopback, link-local, private and other
    # non-public addresses (webhook.targets): for tests and receivers on a closed network.
    # Off, a URL must resolve to public addresses only, at subscription and at every post.
    allow_private_targets: bool = False

    @model_validator(mode="after")
    def _lease_outlasts_a_post(self) -> Self:
        # A shorter lease would let a second deliverer post a row still being posted.
        if self.lease <= self.timeout:
            raise ValueError("webhooks.lease must be longer than webhooks.timeout")
        return self


class AttachmentSettings(BaseModel):
    # Where photos are kept: empty, `attachments/` in the data directory. Several API
    # processes or replicas share one directory (one volume); files are written whole and
    # renamed into place, named by a random id.
    dir: Path | None = None
    # One photo's bytes as sent (a larger one is 413), and its pixels (a decompression bomb).
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_pixels: int = Field(default=50_000_000, ge=1)
    # Photos one ticket may hold (the next is 409 attachment_limit).
    per_ticket: int = Field(default=30, ge=1)
    # The longest side of the served copy and of the thumbnail, in pixels.
    served_px: int = Field(default=2560, ge=64)
    thumb_px: int = Field(default=320, ge=16)
    # A photo taken farther than this from the ticket's place is flagged far_from_place.
    far_metres: float = Field(default=5000.0, gt=0)


class CountySettings(BaseModel):
    timezone: str = "Asia/Shanghai"
    name: str = "法库县"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Environment = Environment.development
    data_dir: Path = Path("hotline-data")
    database: DatabaseSettings = DatabaseSettings()
    security: SecuritySettings = SecuritySettings()
    server: ServerSettings = ServerSettings()
    county: CountySettings = CountySettings()
    sweeper: SweeperSettings = SweeperSettings()
    webhooks: WebhookSettings = WebhookSettings()
    suggestion: SuggestionSettings = SuggestionSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    max_body_bytes: int = 64 * 1024
    # County files (POST /v1/grids/import) are larger; bigger ones go through the CLI.
    max_import_bytes: int = 64 * 1024 * 1024

    @model_validator(mode="after")
    def _refuse_placeholder_in_production(self) -> Self:
        if self.environment is Environment.production:
            key = self.security.phone_hash_key.get_secret_value()
            if key in ("", PLACEHOLDER_SECRET):
                raise ValueError(
                    "HOTLINE_SECURITY__PHONE_HASH_KEY must be set to a real secret in production"
                )
            if self.database.url is None:
                raise ValueError("HOTLINE_DATABASE__URL must be set in production")
        return self

    @property
    def database_url(self) -> str:
        """The SQLAlchemy async URL: the configured one, normalised to an async driver."""
        if self.database.url is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / 'hotline.db').resolve()}"
        return async_url(self.database.url)

    @property
    def attachment_dir(self) -> Path:
        return self.attachments.dir or self.data_dir / "attachments"

    def phone_hash_key(self) -> bytes:
        """The configured key, else one generated on first use and kept in the data directory."""
        configured = self.security.phone_hash_key.get_secret_value()
        if configured:
            return configured.encode()
        path = self.data_dir / "phone-hash.key"
        if not path.exists():
            # Several processes may start at once (serve --workers): each writes a whole key to
            # a file of its own and links it in place; the first link wins, so every process
            # reads one complete key, never another's half-written or different one.
            self.data_dir.mkdir(parents=True, exist_ok=True)
            mine = path.with_name(f".{path.name}.{os.getpid()}")
            with os.fdopen(os.open(mine, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(mine, path)
            except FileExistsError:
                pass
            finally:
                mine.unlink()
        return path.read_text().strip().encode()


def async_url(url: str) -> str:
    """Accept the URLs people paste (``postgresql://``, ``sqlite:///``) and pick async drivers."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url.removeprefix(plain)
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
