"""``hotline tickets``: bringing a county's earlier tickets in (history.service)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from hotline.cli.common import (
    DEFAULT_DATA_DIR,
    DatabaseUrl,
    DataDir,
    console,
    migrate_schema,
    settings_for,
)
from hotline.config import Settings

tickets_app = typer.Typer(help="Tickets: import history.", no_args_is_help=True)
SHOWN = 50


@tickets_app.command("import")
def tickets_import(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, help="JSON Lines (.jsonl), CSV (.csv) or Excel (.xlsx)."
        ),
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Import earlier tickets: columns content, category, created_at (ISO 8601; without an
    offset the county's time), optionally closed_at, unit_code, reply, external_id, kind, status
    (default closed). Every row is checked first and nothing is written unless all are good;
    an external_id seen before is skipped. Imported tickets start no clocks and send no
    webhooks."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    asyncio.run(_import(settings, file))


async def _import(settings: Settings, file: Path) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.history import service
    from hotline.kit.clock import utcnow

    engine = create_engine(settings)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console) as progress:
            tasks: dict[str, Any] = {}

            def report(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=total or None)
                progress.update(tasks[phase], completed=done, total=total or None)

            done = await service.import_file(
                create_sessionmaker(engine), file, now=utcnow(), progress=report
            )
    except service.Refused as exc:
        problems = exc.problems
        console.print(f"[red]Nothing imported: {len(problems)} problem(s)[/red]")
        for p in problems[:SHOWN]:
            where = f"line {p.line}" if p.line else file.name
            console.print(f"  {where}, {p.field}: {p.problem}", markup=False)
        if len(problems) > SHOWN:
            console.print(f"  … and {len(problems) - SHOWN} more")
        raise typer.Exit(1) from exc
    finally:
        await engine.dispose()
    console.print(
        f"imported {done.written} ticket(s) of {done.rows}; "
        f"{done.skipped} skipped (external_id seen before)"
    )
    if done.skipped_ids:
        more = " …" if done.skipped > len(done.skipped_ids) else ""
        console.print(f"  skipped: {', '.join(done.skipped_ids)}{more}", markup=False)
