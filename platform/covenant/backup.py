"""Backups of the whole database, and restoring one (``covenant backup FILE`` / ``covenant restore FILE``).

* PostgreSQL: ``pg_dump`` in its custom format, restored with ``pg_restore`` (the PostgreSQL client tools,
  of the server's major version or newer, must be installed);
* SQLite: SQLite's online backup API, which copies a consistent snapshot while the app keeps running.

A restore replaces the database's whole content. It refuses a database that holds data (any row outside
Alembic's bookkeeping) unless forced, and should run with the web, worker and relay processes stopped.
Afterwards ``covenant db upgrade`` brings an older backup up to the code's schema.
"""

from __future__ import annotations

import asyncio
import glob
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from covenant.config import Settings
from covenant.db import create_engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
BOOKKEEPING_TABLES = frozenset({"alembic_version"})
"""Tables whose rows do not make a database "hold data" (a freshly migrated database has them)."""


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    engine: str
    """``postgresql`` or ``sqlite``."""
    size: int
    revision: str | None
    """The Alembic revision the backup was taken at (or restored to)."""


# -- entry points -------------------------------------------------------------------------------------


async def backup(settings: Settings, path: Path, *, overwrite: bool = False) -> Outcome:
    """Write a backup of the configured database to ``path`` (written aside, then renamed into place)."""
    path, partial = _backup_target(path, overwrite=overwrite)
    try:
        if settings.is_sqlite:
            await asyncio.to_thread(_sqlite_backup, _sqlite_path(settings), partial)
        else:
            await _run(_pg_tool("pg_dump"), "--format=custom", f"--file={partial}", env=_pg_env(settings))
        size = _move(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(path, _engine_name(settings), size, await revision_of(settings))


async def restore(settings: Settings, path: Path, *, force: bool = False) -> Outcome:
    """Replace the configured database's content with the backup in ``path``."""
    path = _absolute(path)
    kind = backup_kind(path)
    wanted = _engine_name(settings)
    if kind != wanted:
        raise BackupError(f"{path} is a {kind} backup but the configured database is {wanted}")
    if not force:
        holding = await tables_with_rows(settings)
        if holding:
            shown = ", ".join(holding[:5]) + (" …" if len(holding) > 5 else "")
            raise BackupError(
                f"the database holds data ({len(holding)} tables with rows: {shown}); "
                "restore over it with --force, or point COVENANT_DATABASE_URL at an empty database"
            )
    if settings.is_sqlite:
        await asyncio.to_thread(_sqlite_restore, path, _sqlite_path(settings))
    else:
        await _pg_restore(settings, path)
    return Outcome(path, wanted, _size(path), await revision_of(settings))


def _exists(path: Path) -> bool:
    return path.exists()


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


def _size(path: Path) -> int:
    return path.stat().st_size


def _backup_target(path: Path, *, overwrite: bool) -> tuple[Path, Path]:
    """The backup file's absolute path and the partial file written first (removed if left over)."""
    path = _absolute(path)
    if path.exists() and not overwrite:
        raise BackupError(f"{path} exists; choose another file or overwrite it with --force")
    if not path.parent.is_dir():
        raise BackupError(f"folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    return path, partial


def _move(partial: Path, path: Path) -> int:
    partial.replace(path)
    return _size(path)


def backup_kind(path: Path) -> str:
    """``postgresql`` or ``sqlite``, from the file's first bytes."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    if head == SQLITE_MAGIC:
        return "sqlite"
    raise BackupError(f"{path} is neither a pg_dump custom-format file nor a SQLite database")


async def tables_with_rows(settings: Settings) -> list[str]:
    """The tables that hold at least one row (Alembic's bookkeeping aside), sorted."""
    if settings.is_sqlite and not _exists(_sqlite_path(settings)):
        return []
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            if settings.is_sqlite:
                rows = await conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                )
                tables = {name: sql or "" for name, sql in rows}
                # Full-text indexes (virtual tables and their shadow tables) are derived, not data.
                virtual = [n for n, sql in tables.items() if sql.upper().startswith("CREATE VIRTUAL TABLE")]
                found = {n for n in tables if not any(n == v or n.startswith(f"{v}_") for v in virtual)}
            else:
                names_sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                found = set((await conn.execute(text(names_sql))).scalars())
            names = sorted(found - BOOKKEEPING_TABLES)
            holding = []
            for name in names:
                quoted = conn.dialect.identifier_preparer.quote(name)
                if (await conn.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1"))).first() is not None:  # noqa: S608
                    holding.append(name)
            return holding
    finally:
        await engine.dispose()


async def revision_of(settings: Settings) -> str | None:
    """The database's Alembic revision, or None when it has none."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception:
        return None
    finally:
        await engine.dispose()


# -- SQLite -------------------------------------------------------------------------------------------


def _engine_name(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.effective_database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database).expanduser().resolve()


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # A self-contained file: no -wal companion needed to read it.
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.commit()
    finally:
        dst.close()
        src.close()


def _sqlite_restore(backup_file: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        check = src.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"{backup_file} fails SQLite's integrity check: {check[0] if check else '?'}")
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=WAL")  # as the app runs it (DESIGN §7)
            dst.commit()
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot restore {backup_file}: {exc}") from exc
    finally:
        src.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """The newest installed ``name`` (pg_dump, pg_restore): Debian's versioned folders first, then PATH."""
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(n) for n in re.findall(r"\d+", p)] or [0]
    )
    for folder in reversed(folders):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (the PostgreSQL client tools are needed for this database)")
    return found


def _pg_env(settings: Settings) -> dict[str, str]:
    """libpq's variables for the configured database: the password never appears on a command line."""
    url = make_url(settings.effective_database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env |= {"PGDATABASE": url.database or "", "PGCONNECT_TIMEOUT": "10", "PGAPPNAME": "covenant-backup"}
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.username:
        env["PGUSER"] = url.username
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str) and ssl:
        env["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl.lower(), ssl)
    return env


async def _run(*command: str, env: dict[str, str]) -> None:
    result = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        raise BackupError(f"{Path(command[0]).name} failed: {' / '.join(lines[:3]) or f'exit {result.returncode}'}")


async def _pg_restore(settings: Settings, path: Path) -> None:
    env = _pg_env(settings)
    # The tool reads the whole file before anything is dropped: a damaged or foreign file stops here.
    await _run(_pg_tool("pg_restore"), "--list", str(path), env=env)
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            schema = (await conn.execute(text("SELECT current_schema()"))).scalar() or "public"
            quoted = conn.dialect.identifier_preparer.quote(schema)
            await conn.execute(text(f"DROP SCHEMA {quoted} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {quoted}"))
    finally:
        await engine.dispose()
    await _run(
        _pg_tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={env['PGDATABASE']}",
        str(path),
        env=env,
    )
