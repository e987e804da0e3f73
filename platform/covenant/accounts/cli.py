"""``covenant users``: create the first admin and list accounts."""

from __future__ import annotations

import asyncio

import click
from sqlalchemy import select

from covenant.accounts import services
from covenant.accounts.models import User
from covenant.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from covenant.db import create_engine, session_factory, transaction


@click.group(help="User accounts.")
def users() -> None:
    pass


@users.command("create-admin", help="Create an administrator, or make an existing user one.")
@click.option("--email", required=True, help="The administrator's e-mail address.")
@click.option("--password", default=None, help="Their password; generated and printed when omitted.")
@click.option("--name", "display_name", default="", help="Their name as shown in the interface.")
def create_admin(email: str, password: str | None, display_name: str) -> None:
    from covenant.cli import load_settings

    if password is not None and not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise click.BadParameter(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters", param_hint="--password")
    if "@" not in email:
        raise click.BadParameter("is not an e-mail address", param_hint="--email")
    settings = load_settings()
    generated = password is None
    user = None
    existing = asyncio.run(_exists(settings, email))
    if generated and existing:
        password = None  # keep the existing password: only the role is added
    elif generated:
        password = services.generate_password()

    async def run() -> tuple[User, bool]:
        engine = create_engine(settings)
        try:
            async with transaction(session_factory(engine)) as session:
                return await services.ensure_admin(session, email=email, password=password, display_name=display_name)
        finally:
            await engine.dispose()

    user, created = asyncio.run(run())
    click.echo(f"{'created' if created else 'updated'} administrator {user.email}")
    if generated and password:
        click.echo(f"password: {password}")


async def _exists(settings: object, email: str) -> bool:
    from covenant.config import Settings

    assert isinstance(settings, Settings)
    engine = create_engine(settings)
    try:
        async with session_factory(engine)() as session:
            return await services.user_by_email(session, email) is not None
    finally:
        await engine.dispose()


@users.command("list", help="List the accounts and their roles.")
def list_users() -> None:
    from covenant.cli import load_settings

    settings = load_settings()

    async def run() -> list[User]:
        engine = create_engine(settings)
        try:
            async with session_factory(engine)() as session:
                return list(await session.scalars(select(User).order_by(User.email)))
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if not rows:
        click.echo("no accounts yet — create one with: covenant users create-admin --email you@example.org")
        return
    for user in rows:
        roles = ", ".join(
            grant.role + (f"@{grant.city_id}" if grant.city_id else "") + (f"[{grant.module}]" if grant.module else "")
            for grant in user.grants
        )
        state = "" if user.is_active else " (disabled)"
        click.echo(f"{user.email}\t{user.display_name}{state}\t{roles or '-'}")


@users.command("purge", help="Delete expired sessions, reset links, failed sign-ins and dead API tokens now.")
def purge() -> None:
    from covenant.accounts.retention import purge_expired
    from covenant.cli import load_settings

    settings = load_settings()

    async def run() -> dict[str, int]:
        engine = create_engine(settings)
        try:
            async with transaction(session_factory(engine)) as session:
                return await purge_expired(session)
        finally:
            await engine.dispose()

    counts = asyncio.run(run())
    click.echo(", ".join(f"{kind}: {count}" for kind, count in counts.items()))
