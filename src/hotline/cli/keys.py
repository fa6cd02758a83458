"""``hotline keys``: create, list and revoke API keys (only their hashes are stored)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

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

DEFAULT_URL = "http://127.0.0.1:8000"
keys_app = typer.Typer(
    help="API keys: create them (the key is printed once).", no_args_is_help=True
)


@keys_app.command("create")
def keys_create(
    role: Annotated[
        str,
        typer.Option(help="agent, dispatcher, worker, member, officer, arbiter, viewer, admin"),
    ],
    name: Annotated[str, typer.Option(help="Who the key belongs to.")],
    unit: Annotated[
        str | None,
        typer.Option(
            help="Unit code: a grid (worker), a department (member), a village, township, "
            "county or department (officer)."
        ),
    ] = None,
    staff_id: Annotated[
        int | None, typer.Option(help="Staff id (workers and members; officers may have one).")
    ] = None,
    qr: Annotated[
        bool,
        typer.Option(
            "--qr",
            help="Also print a QR code of the field page's address with the key in its "
            "fragment (…/m#key=…): scanned by the phone, it signs in at once.",
        ),
    ] = False,
    url: Annotated[
        str, typer.Option(help="The service's address as the phone reaches it (for --qr).")
    ] = DEFAULT_URL,
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
    if qr and parsed not in (Role.worker, Role.member, Role.officer):
        console.print("[red]--qr opens the field page, for worker, member and officer keys[/red]")
        raise typer.Exit(2)
    if qr and not _is_base_url(url):
        console.print(f"[red]--url must be an http(s) address such as {DEFAULT_URL}[/red]")
        raise typer.Exit(2)
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    if parsed in (Role.worker, Role.member, Role.officer):
        if unit is None:
            console.print(f"[red]A {parsed.value} key needs --unit[/red]")
            raise typer.Exit(2)
        problem = asyncio.run(_home_problem(settings, parsed.value, unit, staff_id))
        if problem is not None:
            console.print(f"[red]{problem}[/red]")
            raise typer.Exit(2)
    key = asyncio.run(_create_key(settings, parsed, name, unit, staff_id))
    if qr:
        console.print(f"Scan with the phone to open the field page signed in ({field_url(url)}):")
        print_qr(field_url(url, key))
    console.print("Store this key now; it cannot be shown again:")
    typer.echo(key)


def field_url(base: str, key: str | None = None) -> str:
    """The field page under ``base``; with ``key``, in the fragment, which browsers never send
    to a server, so the key reaches no access log on the way."""
    page = base.rstrip("/") + "/m"
    return f"{page}#key={quote(key, safe='')}" if key is not None else page


def print_qr(text: str) -> None:
    """``text`` as a QR code in the terminal: colours on a terminal, half blocks elsewhere."""
    import qrcode

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    # Dark modules drawn light: most terminals are dark, and scanners read the code either way.
    code.print_ascii(out=sys.stdout, tty=sys.stdout.isatty(), invert=True)
    sys.stdout.flush()


def _is_base_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


@keys_app.command("list")
def keys_list(data_dir: DataDir = DEFAULT_DATA_DIR, database_url: DatabaseUrl = None) -> None:
    """List keys: prefix, role, unit, name, created, revoked (never the key itself)."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    for row in asyncio.run(_keys(settings)):
        revoked = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "active"
        typer.echo(
            f"{row.prefix}  {row.role:<10} {row.unit_code or '-':<18} {revoked:<24} {row.name}"
        )


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix: hl_<prefix>_…")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a key; every API process refuses it from its next request."""
    settings = settings_for(data_dir, database_url)
    migrate_schema(settings)
    if not asyncio.run(_revoke(settings, prefix.removeprefix("hl_").split("_")[0])):
        console.print(f"[red]No active key with prefix {prefix}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {prefix}")


async def _keys(settings: Settings) -> list[Any]:
    from hotline.auth import repository
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            return list(await repository.keys(session))
    finally:
        await engine.dispose()


async def _revoke(settings: Settings, prefix: str) -> bool:
    from hotline.auth import repository
    from hotline.db import config_state
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.kit.clock import utcnow

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            revoked = await repository.revoke(session, prefix, utcnow())
            await config_state.bump(session, "keys")
            return revoked
    finally:
        await engine.dispose()


async def _home_problem(
    settings: Settings, role: str, unit: str, staff_id: int | None
) -> str | None:
    """Why a key of ``role`` cannot belong to ``unit`` (or to that staff member), or None."""
    from hotline.db.engine import create_engine, create_sessionmaker
    from hotline.db.session import unit_of_work
    from hotline.org import repository
    from hotline.org.staff import home_problem

    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            found = await repository.unit(session, unit)
            if found is None:
                return f"No unit {unit}"
            problem = home_problem(role, found.kind)
            if problem is None and staff_id is not None:
                person = await repository.staff(session, staff_id)
                if person is None or person.unit_code != unit or person.role != role:
                    problem = f"Staff {staff_id} is not a {role} of {unit}"
            return problem
    finally:
        await engine.dispose()


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
