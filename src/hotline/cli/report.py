"""``hotline report``: a report (通报) written to a file, as ``GET /v1/reports/{period}`` does."""

from __future__ import annotations

import asyncio
from datetime import date
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

FORMATS = ("xlsx", "csv", "json")


def report(
    period: Annotated[
        str, typer.Option("--period", help="week, month or quarter.", show_default=False)
    ],
    start: Annotated[
        str,
        typer.Option(
            "--start",
            help="First day, YYYY-MM-DD: a Monday (week), the 1st (month), 1 Jan/Apr/Jul/Oct "
            "(quarter).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The file to write.", show_default=False)
    ],
    format_: Annotated[
        str | None,
        typer.Option("--format", help="xlsx, csv or json (default: from the file's extension)."),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Write the report (通报) of a week, month or quarter: the same file as GET /v1/reports."""
    from hotline.errors import Unprocessable
    from hotline.report.period import Period, PeriodKind

    kind = format_ or output.suffix.lstrip(".").lower()
    if kind not in FORMATS:
        console.print(f"[red]--format must be one of {', '.join(FORMATS)}[/red] (got {kind!r})")
        raise typer.Exit(2)
    try:
        chosen = Period.of(PeriodKind(period), date.fromisoformat(start))
    except ValueError as exc:
        console.print(
            f"[red]--period must be week, month or quarter and --start a date:[/red] {exc}"
        )
        raise typer.Exit(2) from exc
    except Unprocessable as exc:
        console.print(f"[red]{exc.detail_en}[/red]")  # operators read English
        raise typer.Exit(2) from exc
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    with console.status(f"building the report of {chosen.label}"):
        body = asyncio.run(_render(settings, chosen, kind))
    output.write_bytes(body)
    console.print(f"wrote {output} ({chosen.label}, {len(body):,} bytes)")


async def _render(settings: Settings, chosen: Any, kind: str) -> bytes:
    import json

    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.kit.clock import utcnow
    from hotline.report import excel, service
    from hotline.report.schemas import Report

    engine = create_engine(settings)
    try:
        maker = create_sessionmaker(engine)
        async with unit_of_work(maker, read_only=True, snapshot=True) as session:
            built = Report.model_validate(await service.build(session, chosen, utcnow()))
    finally:
        await engine.dispose()
    data = built.model_dump(mode="json")
    if kind == "xlsx":
        return excel.xlsx(data)
    if kind == "csv":
        return excel.csv_text(data)
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
