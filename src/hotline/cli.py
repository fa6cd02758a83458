"""The ``hotline`` command: serve, migrate, keys, demo data, openapi."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hotline.config import Settings

app = typer.Typer(
    help="hotline: the service behind a county's 12345 government hotline.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(
    help="API keys: create them (the key is printed once).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
console = Console(stderr=True)

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


def _migrate(settings: Settings) -> None:
    from hotline.db import migrate

    migrate.upgrade(settings.database_url)


@app.command()
def serve(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo county and demo API keys if absent.")
    ] = False,
) -> None:
    """Apply migrations, optionally load the demo, and serve the HTTP API."""
    import uvicorn

    settings = settings_for(data_dir, database_url)
    _migrate(settings)
    if demo:
        _load_demo(settings)
    console.print(f"hotline listening on http://{host}:{port} ({workers} worker(s))")
    uvicorn.run(
        "hotline.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )


@app.command()
def migrate(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """Bring the database schema to the latest version."""
    settings = settings_for(data_dir, database_url)
    _migrate(settings)
    console.print("schema at head")


def _load_demo(settings: Settings) -> None:
    from hotline.demo.loader import load_demo

    path, created = asyncio.run(load_demo(settings))
    if created:
        console.print(f"demo loaded; API keys written to [bold]{path}[/bold]")
    else:
        console.print(f"demo already loaded; API keys are in [bold]{path}[/bold]")


@app.command("demo")
def demo_cmd(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """Load the demo county and one demo API key per role (once per data directory)."""
    settings = settings_for(data_dir, database_url)
    _migrate(settings)
    _load_demo(settings)


@keys_app.command("create")
def keys_create(
    role: Annotated[
        str, typer.Option(help="agent, dispatcher, worker, member, arbiter, viewer, admin")
    ],
    name: Annotated[str, typer.Option(help="Who the key belongs to.")],
    unit: Annotated[str | None, typer.Option(help="Unit code (grid or department).")] = None,
    staff_id: Annotated[int | None, typer.Option(help="Staff id for workers and members.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Create an API key. The key is printed once; only its hash is stored."""
    from hotline.auth.roles import Role

    try:
        parsed = Role(role)
    except ValueError as exc:
        console.print(f"[red]Unknown role {role!r}[/red]; one of: {', '.join(Role)}")
        raise typer.Exit(2) from exc
    settings = settings_for(data_dir, database_url)
    _migrate(settings)
    key = asyncio.run(_create_key(settings, parsed, name, unit, staff_id))
    console.print("Store this key now; it cannot be shown again:")
    typer.echo(key)


async def _create_key(
    settings: Settings, role: Any, name: str, unit: str | None, staff_id: int | None
) -> str:
    from hotline.auth.service import create_key
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            minted = await create_key(
                session, name=name, role=role, unit_code=unit, staff_id=staff_id
            )
        return minted.key
    finally:
        await engine.dispose()


@app.command()
def openapi(
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the file differs from the app.")
    ] = False,
    output: Annotated[Path, typer.Option(help="Where the YAML lives.")] = Path("openapi.yaml"),
) -> None:
    """Write the OpenAPI document generated from the app, or check the file is current."""
    from hotline.openapi_export import render

    text = render()
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            console.print(f"[red]{output} is out of date[/red]; run `hotline openapi`")
            raise typer.Exit(1)
        console.print(f"{output} is current")
        return
    output.write_text(text)
    console.print(f"wrote {output}")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
