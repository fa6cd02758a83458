"""The ``hotline`` command: serve, migrate, keys, demo data, openapi."""

from __future__ import annotations

import asyncio
import json
import sys
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
from hotline.cli.keys import keys_app
from hotline.cli.report import report
from hotline.cli.suggest import suggest_app
from hotline.cli.tickets import tickets_app
from hotline.config import Settings

app = typer.Typer(
    help="hotline: the service behind a county's 12345 government hotline.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(keys_app, name="keys")
app.command("report")(report)
app.add_typer(suggest_app, name="suggest")
app.add_typer(tickets_app, name="tickets")
grids_app = typer.Typer(help="Grids: import a county file.", no_args_is_help=True)
app.add_typer(grids_app, name="grids")
demo_app = typer.Typer(
    help="Demo data: load the demo county, or generate synthetic counties.",
    invoke_without_command=True,
)
app.add_typer(demo_app, name="demo")


@app.command()
def serve(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            help="Seconds an idle client connection stays open (set it above a load "
            "balancer's idle timeout).",
        ),
    ] = 5,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo county and demo API keys if absent.")
    ] = False,
) -> None:
    """Apply migrations, optionally load the demo, and serve the HTTP API."""
    import uvicorn

    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    if demo:
        _load_demo(settings)
    console.print(f"hotline listening on http://{host}:{port} ({workers} worker(s))")
    uvicorn.run(
        "hotline.app:serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_keep_alive=keep_alive,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips=settings.server.trusted_proxies,
    )


@app.command()
def migrate(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """Bring the database schema to the latest version."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    console.print("schema at head")


def _load_demo(settings: Settings) -> None:
    from hotline.demo.loader import load_demo

    path, created = asyncio.run(load_demo(settings))
    if created:
        console.print(f"demo loaded; API keys written to [bold]{path}[/bold]")
    else:
        console.print(f"demo already loaded; API keys are in [bold]{path}[/bold]")


@demo_app.callback()
def demo_cmd(
    ctx: typer.Context, data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None
) -> None:
    """Load the demo county, its people and their API keys (once per data directory)."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    _load_demo(settings)


@demo_app.command("generate")
def demo_generate(
    grids: Annotated[int, typer.Option(min=1, max=1_000_000, help="Number of grids.")] = 1000,
    output: Annotated[Path, typer.Option(help="Where to write the GeoJSON.")] = Path(
        "county.geojson"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the jitter.")] = 0,
) -> None:
    """Write a synthetic county of N grids as GeoJSON (for tests and benchmarks)."""
    from hotline.demo.county import synthetic_county

    with console.status(f"generating {grids} grids"):
        doc = synthetic_county(grids, seed=seed)
        output.write_text(json.dumps(doc, ensure_ascii=False))
    console.print(f"wrote {output} ({len(doc['features'])} features)")


@grids_app.command("import")
def grids_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON file.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Import a county file: every polygon validated, all or nothing, with progress."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        console.print(f"[red]{file} is not JSON:[/red] {exc}")
        raise typer.Exit(2) from exc
    asyncio.run(_import(settings, doc))


async def _import(settings: Settings, doc: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.kit.clock import utcnow
    from hotline.org.units import ImportRejected, import_county

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
                    tasks[phase] = progress.add_task(phase, total=total)
                progress.update(tasks[phase], completed=done, total=total)

            async with unit_of_work(create_sessionmaker(engine)) as session:
                counts = await import_county(session, doc, now=utcnow(), progress=report)
    except ImportRejected as exc:
        problems = exc.extra["problems"]
        console.print(f"[red]Nothing imported: {len(problems)} problem(s)[/red]")
        for p in problems[:50]:
            console.print(f"  feature {p['index']} {p['code'] or ''}: {p['problem']}")
        if len(problems) > 50:
            console.print(f"  … and {len(problems) - 50} more")
        raise typer.Exit(1) from exc
    finally:
        await engine.dispose()
    console.print(
        f"imported {counts.features} units ({counts.created} new, {counts.updated} updated)"
    )


@app.command()
def sweep(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    now: Annotated[
        str | None,
        typer.Option("--now", help="Evaluate as of this ISO 8601 instant (drills, backfills)."),
    ] = None,
) -> None:
    """Run one sweeper pass: remind before breaches, mark breaches, escalate."""
    from datetime import datetime

    settings = settings_for(data_dir, database_url)
    at = None
    if now is not None:
        try:
            at = datetime.fromisoformat(now)
        except ValueError as exc:
            console.print(f"[red]--now {now!r} is not ISO 8601[/red]")
            raise typer.Exit(2) from exc
        if at.tzinfo is None:
            console.print("[red]--now needs an offset, e.g. 2026-10-01T09:00:00+08:00[/red]")
            raise typer.Exit(2)
    migrate_schema(settings)
    report = asyncio.run(_sweep(settings, at))
    console.print(
        f"swept in {report.seconds:.2f}s: {report.reminded} reminded, {report.overdue} overdue, "
        f"{report.escalated} escalated"
    )


async def _sweep(settings: Settings, at: Any) -> Any:
    from hotline.app import CALENDAR_FILE
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.jobs import sweep as sweeper
    from hotline.kit.clock import county_zone
    from hotline.routing.state import RoutingCache
    from hotline.sla import deadlines
    from hotline.sla.calendars import CalendarCache

    calendars = CalendarCache(county_zone(), settings.data_dir / CALENDAR_FILE)
    engine = create_engine(settings)
    try:
        maker = create_sessionmaker(engine)
        maker.configure(info={deadlines.REMIND_SHARE: settings.sweeper.remind_share})
        return await sweeper.sweep(
            maker, RoutingCache(), calendars, now=at, share=settings.sweeper.remind_share
        )
    finally:
        await engine.dispose()


metrics_app = typer.Typer(help="Metrics: the dashboard's daily roll-up.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")


@metrics_app.command("refresh")
def metrics_refresh(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
    full: Annotated[bool, typer.Option("--full", help="Rebuild every day.")] = False,
) -> None:
    """Bring the roll-up up to date (the sweeper does it on every pass); the first run builds it."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    done = asyncio.run(_metrics_refresh(settings, full))
    what = "built" if done.full else f"refreshed {done.days} day(s)"
    console.print(f"metrics roll-up {what} through change {done.watermark}")


async def _metrics_refresh(settings: Settings, full: bool) -> Any:
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.kit.clock import utcnow
    from hotline.metrics import rollup

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            return await rollup.refresh(session, utcnow(), full=full)
    finally:
        await engine.dispose()


webhooks_app = typer.Typer(help="Webhooks: deliver the outbox.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("deliver")
def webhooks_deliver(
    data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None
) -> None:
    """Deliver every webhook message that is due now (what `hotline serve` does each second)."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    attempts = asyncio.run(_deliver(settings))
    console.print(f"{attempts} delivery attempt(s)")


async def _deliver(settings: Settings) -> int:
    import httpx

    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.webhook import delivery

    engine = create_engine(settings)
    try:
        async with httpx.AsyncClient() as client:
            return await delivery.drain(
                create_sessionmaker(engine),
                client,
                answer_within=settings.webhooks.timeout,
                allow_private_targets=settings.webhooks.allow_private_targets,
            )
    finally:
        await engine.dispose()


calendar_app = typer.Typer(
    help="China's working-day calendar as the service sees it.", no_args_is_help=True
)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Argument(min=1900, max=2200, help="The year to show.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Show a year's holidays and make-up working days as every API process sees them (the
    package, calendar.json, and years set with PUT /v1/calendar/{year}). Exits 1 when no
    calendar knows the year: deadlines there are counted Monday to Friday."""
    settings = settings_for(data_dir, database_url)
    try:
        migrate_schema(settings)
        calendar = asyncio.run(_calendar(settings))
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    days = calendar.year(year)
    working = sum(label in ("workday", "makeup-workday") for _, label in days)
    typer.echo(f"{year}: {working} working days ({calendar.source(year) or 'unknown'})")
    for day, label in days:
        if label in ("holiday", "makeup-workday"):
            typer.echo(f"  {day.isoformat()} {day.strftime('%a')}  {label}")
    if not calendar.is_known(year):
        console.print(
            f"[bold red]{year} is not in the official calendar, nor in "
            f"{settings.data_dir / 'calendar.json'}, nor set through the API: computed Monday "
            "to Friday, fixed-date holidays excepted[/bold red]"
        )
        raise typer.Exit(1)


async def _calendar(settings: Settings) -> Any:
    from hotline.app import CALENDAR_FILE
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.kit.clock import county_zone
    from hotline.sla.calendars import CalendarCache

    cache = CalendarCache(county_zone(), settings.data_dir / CALENDAR_FILE)
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            return await cache.current(session)
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
