"""``hotline suggest``: train a suggestion model on closed tickets, list the stored ones, choose
the one every process serves."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
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

suggest_app = typer.Typer(
    help="Suggestions: train a model on closed tickets, list models, choose the served one.",
    no_args_is_help=True,
)
# reading, held-out model, evaluating, final model, its features, classifier, owners, similar
# index, storing: what training reports, in order.
STEPS = 9


def _share(part: dict[str, int]) -> str:
    n, d = part["numerator"], part["denominator"]
    return f"{n}/{d} = {n / d:.3f}" if d else "0/0"


def print_figures(figures: dict[str, Any]) -> None:
    """Top-1 and top-3 with numerators and denominators, per category, and the curve."""
    from rich.table import Table

    if not figures:
        console.print("Too few closed tickets to hold out a fifth: no accuracy measured")
        return
    console.print(f"held out {figures['held_out']} (stratified 20%)")
    console.print(f"top-1 accuracy {_share(figures['top1'])}")
    console.print(f"top-3 accuracy {_share(figures['top3'])}")
    table = Table("category", "held out", "top-1", "top-3")
    for code, row in figures["per_category"].items():
        table.add_row(code, str(row["held_out"]), str(row["top1"]), str(row["top3"]))
    console.print(table)
    curve = Table("threshold", "taken", "of which right")
    for point in figures["curve"]:
        curve.add_row(f"{point['threshold']:.1f}", str(point["covered"]), str(point["right"]))
    console.print(curve)


@suggest_app.command("train")
def suggest_train(
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Train on tickets closed on or after DATE."),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Train on closed tickets (their text, final category and final owner) and the
    catalogue's names and keywords; print top-1 and top-3 accuracy on a stratified 20% held
    out, store the model as a new version and serve it (every process within 5 s)."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    start = since.date() if since else None
    trained = asyncio.run(_train(settings, start))
    console.print(
        f"Model {trained.version} ({trained.kind}) trained on {trained.ticket_count} closed "
        "tickets, now served"
    )
    print_figures(trained.figures)


async def _train(settings: Settings, since: date | None) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.kit.clock import county_zone, utcnow
    from hotline.suggestion import training

    engine = create_engine(settings)
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    after = (
        datetime(since.year, since.month, since.day, tzinfo=county_zone()).astimezone(UTC)
        if since
        else None
    )
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("training", total=STEPS)

            def report(step: str) -> None:
                progress.update(task, advance=1, description=step)

            trained = await training.train(
                create_sessionmaker(engine),
                since=after,
                now=utcnow(),
                progress=report,
                limit=settings.suggestion.train_limit,
            )
            progress.update(task, completed=STEPS, description="done")
    finally:
        await engine.dispose()
    return trained


@suggest_app.command("use")
def suggest_use(
    version: Annotated[int, typer.Argument(help="The model version to serve.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Serve model VERSION from now on (a rollback): every process within 5 s."""
    from hotline.errors import NotFound

    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    try:
        asyncio.run(_use(settings, version))
    except NotFound as exc:
        console.print(f"[red]No suggestion model {version}[/red]; see hotline suggest list")
        raise typer.Exit(1) from exc
    console.print(f"Model {version} is served")


async def _use(settings: Settings, version: int) -> None:
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.kit.clock import utcnow
    from hotline.suggestion import training

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            await training.use(session, version, utcnow())
    finally:
        await engine.dispose()


@suggest_app.command("list")
def suggest_list(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """List the stored models, newest first: version, kind, when trained, on how many tickets,
    held-out top-1 and top-3, size, and which one is served."""
    from rich.table import Table

    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    rows = asyncio.run(_list(settings))
    table = Table("version", "kind", "trained at", "tickets", "top-1", "top-3", "KiB", "served")
    for r in rows:
        f = r.figures or {}
        table.add_row(
            str(r.version),
            r.kind,
            f"{r.trained_at:%Y-%m-%d %H:%M}Z",
            str(r.ticket_count),
            _share(f["top1"]) if f else "-",
            _share(f["top3"]) if f else "-",
            str((r.size or 0) // 1024),
            "yes" if r.active else "",
        )
    console.print(table if rows else "No model stored: the catalogue's seed is served")


async def _list(settings: Settings) -> Any:
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.suggestion import repository

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            return await repository.models(session)
    finally:
        await engine.dispose()
