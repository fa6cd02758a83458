"""What every command shares: the data directory and database options, and the console."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hotline.config import Settings

console = Console(stderr=True, soft_wrap=True)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="HOTLINE_DATA_DIR",
        help="Data directory: the SQLite database, secrets and demo-keys.json.",
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="HOTLINE_DATABASE__URL",
        help="Database URL (default: SQLite in the data directory), e.g. postgresql://u@host/db.",
    ),
]
DEFAULT_DATA_DIR = Path("hotline-data")


def settings_for(data_dir: Path, database_url: str | None) -> Settings:
    """Settings for a command, exported so that server worker processes read the same."""
    os.environ["HOTLINE_DATA_DIR"] = str(data_dir.resolve())
    if database_url:
        os.environ["HOTLINE_DATABASE__URL"] = database_url
    try:
        return Settings()
    except ValueError as exc:
        console.print(f"[red]Configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def migrate_schema(settings: Settings) -> None:
    from hotline.db import migrate

    migrate.upgrade(settings.database_url)
