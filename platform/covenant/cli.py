"""The ``covenant`` command: serve, worker, relay, scheduler, db, demo, cycle, users, events, modules."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click
from alembic.util import CommandError as AlembicCommandError
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from covenant.config import Settings, get_settings
from covenant.errors import StartupError
from covenant.plugins import ModuleRegistry

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise StartupError(f"setting COVENANT_{field.upper()} is invalid: {first['msg']}") from exc


def load_registry(settings: Settings) -> ModuleRegistry:
    return ModuleRegistry.from_entry_points(settings.modules)


@click.group(help="Covenant of Mayors for safer public spaces — the platform's command line.")
def cli() -> None:
    pass


@cli.command(help="Serve the web application (embedded: with the relay and a worker in-process).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Web processes (needs a broker).")
def serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    from covenant.app import create_app

    settings = load_settings()
    if workers > 1:
        if settings.embedded_broker or settings.is_sqlite:
            raise StartupError("--workers > 1 needs COVENANT_DATABASE_URL (PostgreSQL) and COVENANT_BROKER_URL")
        create_app(settings)  # fail fast with one clear line before forking
        uvicorn.run(
            "covenant.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            log_level="warning",
        )
        return
    app = create_app(settings)
    click.echo(
        f"Covenant serving on http://{host}:{port} "
        f"({'embedded worker and relay' if settings.embedded_broker else 'broker ' + settings.broker_url})"
    )
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="warning")


@cli.group(help="Database migrations (one linear Alembic history for the core and every module).")
def db() -> None:
    pass


def alembic_config(database_url: str | None = None) -> Any:
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


@db.command(help="Apply migrations up to REVISION (default: head).")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    from alembic import command

    load_settings()
    command.upgrade(alembic_config(), revision)
    click.echo(f"database upgraded to {revision}")


@db.command(help="Revert migrations down to REVISION (e.g. -1, base).")
@click.argument("revision", default="-1")
def downgrade(revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(), revision)
    click.echo(f"database downgraded to {revision}")


@db.command(help="Create a migration from the difference between models and database.")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def revision(message: str, autogenerate: bool) -> None:
    from alembic import command

    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@db.command(help="Show the database's current revision.")
def current() -> None:
    from alembic import command

    command.current(alembic_config(), verbose=False)


@db.command(help="Fail when the models and the migrations disagree.")
def check() -> None:
    from alembic import command

    command.check(alembic_config())
    click.echo("models and migrations agree")


@cli.command(help="Load demo data (core and every enabled module), print the admin sign-in, then return.")
@click.option(
    "--scale",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Also generate a synthetic Covenant of this many cities (bulk-loaded; see benchmarks/generate.py).",
)
def demo(scale: int | None) -> None:
    from covenant.demo import load_demo

    settings = load_settings()
    registry = load_registry(settings)
    lines = asyncio.run(load_demo(settings, registry))
    for line in lines:
        click.echo(line)
    if scale is not None:
        _generate_scale(settings, registry, scale)


def _generate_scale(settings: Settings, registry: ModuleRegistry, cities: int) -> None:
    if (PROJECT_ROOT / "benchmarks" / "generate.py").is_file() and str(PROJECT_ROOT) not in sys.path:
        sys.path.append(str(PROJECT_ROOT))
    try:
        from benchmarks.generate import GenerationError, generate
    except ImportError as exc:
        raise click.ClickException("--scale needs the source checkout (its benchmarks/ folder)") from exc
    try:
        report = asyncio.run(generate(settings, cities, registry=registry, echo=click.echo))
    except GenerationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"scale data: {report.summary()}")


@cli.group(help="Enabled action modules.")
def modules() -> None:
    pass


@modules.command("list", help="List the installed modules and whether they are enabled.")
def modules_list() -> None:
    settings = load_settings()
    registry = load_registry(settings)
    if not len(registry):
        click.echo("no modules enabled (the core runs alone)")
        return
    for module in sorted(registry, key=lambda m: m.action):
        subs = ", ".join(module.subscriptions) or "-"
        pubs = ", ".join(e.event_name() for e in module.publishes) or "-"
        click.echo(
            f"{module.slug:<12} action {module.action}  {module.title}\n"
            f"{'':<12} publishes: {pubs}\n{'':<12} subscribes: {subs}"
        )


def _register_subcommands() -> None:
    from covenant.accounts.cli import users
    from covenant.backup_cli import backup, restore
    from covenant.events.cli import events, relay, scheduler, worker
    from covenant.monitoring.cli import cycle

    for command in (users, events, worker, relay, scheduler, cycle, backup, restore):
        cli.add_command(command)


_register_subcommands()


def _register_module_commands() -> None:
    """Add each enabled module's commands as ``covenant <slug> …`` (skipped quietly when the settings
    are invalid: the command that needs them says so)."""
    try:
        registry = load_registry(load_settings())
    except (StartupError, ValidationError):
        return
    for module in registry:
        if not module.commands or module.slug in cli.commands:
            continue
        group = click.Group(module.slug, help=f"Action {module.action}: {module.title}.")
        for command in module.commands:
            group.add_command(command)
        cli.add_command(group)


def main() -> None:
    _register_module_commands()
    try:
        cli.main(standalone_mode=False)
    except StartupError as exc:
        click.echo(f"covenant: cannot start: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ValidationError as exc:
        click.echo(f"covenant: invalid input: {exc.errors()[0]['msg']}", err=True)
        sys.exit(2)
    except (ConnectionError, OSError) as exc:
        click.echo(f"covenant: cannot reach a service: {exc}", err=True)
        sys.exit(2)
    except AlembicCommandError as exc:
        message = str(exc)
        click.echo(f"covenant: {message[:400]}{' …' if len(message) > 400 else ''}", err=True)
        sys.exit(1)
    except DBAPIError as exc:
        click.echo(f"covenant: database error: {str(exc.orig or exc).splitlines()[0]}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
