"""Real services and processes for the fault tests: a private PostgreSQL cluster, a private Redis, and the
``covenant`` commands (serve, relay, worker) as subprocesses.

Nothing here touches the machine's shared PostgreSQL or Redis: the tests stop, restart and kill only what
they started themselves, on free ports, in temporary folders.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

FAULTS_DIR = Path(__file__).resolve().parent
SECRET_KEY = "faults-secret-key-that-is-long-enough-for-signing"
MODULES = "faultmodule,faultpeer"


class Unavailable(Exception):
    """A service the fault tests need cannot be started here (the test is skipped with this reason)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def install_fault_modules() -> Path:
    """A folder with the fault modules' entry points (a ``.dist-info``, as pip leaves it), for the
    subprocesses' ``PYTHONPATH``. This process only gets the package itself on ``sys.path``, not the entry
    points, so no other test ever finds the fault modules among the installed ones."""
    site = Path(tempfile.mkdtemp(prefix="covenant-faultmodule-site-"))
    dist = site / "covenant_faultmodule-0.0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: covenant-faultmodule\nVersion: 0.0.1\n")
    (dist / "entry_points.txt").write_text(
        "[covenant.modules]\n"
        "faultmodule = covenant_faultmodule.plugin:module\n"
        "faultpeer = covenant_faultmodule.plugin:peer\n"
    )
    if str(FAULTS_DIR) not in sys.path:
        sys.path.insert(0, str(FAULTS_DIR))
    return site


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float,  # noqa: ASYNC109 - a polling helper
    what: str,
    every: float = 0.2,
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g}s")
        await asyncio.sleep(every)


# -- PostgreSQL --------------------------------------------------------------------------------------


def _postgres_bin() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(n) for n in re.findall(r"\d+", p)] or [0]
    )
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        candidates.insert(0, str(Path(pg_ctl).resolve().parent))
    for folder in reversed(candidates):
        if all((Path(folder) / name).exists() for name in ("initdb", "pg_ctl", "psql")):
            return Path(folder)
    raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl) found")


class PrivatePostgres:
    """A throw-away cluster on a free port. As root, initdb and the server run as the ``postgres`` user."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="covenant-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise Unavailable("running as root and there is no 'postgres' user to run initdb as") from exc
            runuser = shutil.which("runuser")
            if runuser is None:
                raise Unavailable("running as root and runuser is missing")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._as = [runuser, "-u", "postgres", "--"]
        self._databases = 0

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [*self._as, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        if result.returncode != 0:
            raise Unavailable(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()[-500:]}")

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "200",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {result.stderr.strip()}")
        return result.stdout.strip()

    def new_database(self, template: str) -> str:
        self._databases += 1
        name = f"faults_{os.getpid()}_{self._databases}"
        self.psql(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.url(name)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


# -- Redis -------------------------------------------------------------------------------------------


class PrivateRedis:
    """A Redis of our own with an append-only file, as production runs it (DESIGN §3): stopping and
    starting it again keeps the messages it held."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise Unavailable("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, db=0, socket_timeout=5)

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client().ping():
                    return
            except Exception:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise Unavailable(f"redis-server did not start on port {self.port}") from None
            time.sleep(0.05)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): Redis finishes its append-only file and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def describe(self) -> str:
        """Dramatiq's keys and their sizes (for failure messages)."""
        try:
            client = self.client()
            sizes = []
            for key in sorted(k.decode() for k in client.keys("dramatiq:*")):
                kind = client.type(key).decode()
                size = {"list": client.llen, "hash": client.hlen, "set": client.scard, "zset": client.zcard}
                sizes.append(f"{key} {kind} {size[kind](key) if kind in size else '?'}")
            return "\n".join(sizes) or "(no keys)"
        except Exception as exc:
            return f"unreachable: {exc}"

    def queue_lengths(self, queue: str) -> tuple[int, int]:
        """(messages waiting in the queue, messages Redis still holds for it: waiting or unacknowledged)."""
        client = self.client()
        return int(client.llen(f"dramatiq:{queue}")), int(client.hlen(f"dramatiq:{queue}.msgs"))


# -- the covenant processes --------------------------------------------------------------------------


@dataclass
class Stack:
    """``covenant`` subprocesses on one database and one Redis, and checks of what they did."""

    tmp_path: Path
    database_url: str
    redis: PrivateRedis
    site: Path
    overrides: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    web_port: int = 0

    def __post_init__(self) -> None:
        self.markers = self.tmp_path / "markers"
        self.markers.mkdir(exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(self.database_url, poolclass=NullPool)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
        env |= {
            "PYTHONPATH": os.pathsep.join([str(self.site), str(FAULTS_DIR), env.get("PYTHONPATH", "")]),
            "COVENANT_DATABASE_URL": self.database_url,
            "COVENANT_BROKER_URL": self.redis.url,
            "COVENANT_VAR_DIR": str(self.tmp_path / "var"),
            "COVENANT_SECRET_KEY": SECRET_KEY,
            "COVENANT_MODULES": MODULES,
            "COVENANT_RELAY_POLL_SECONDS": "0.2",
            "COVENANT_DRAMATIQ_MAX_RETRIES": "3",
            "COVENANT_DRAMATIQ_MIN_BACKOFF_MS": "300",
            # A killed worker's messages come back after 3 s instead of a minute (DESIGN §3).
            "COVENANT_DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "3000",
            "COVENANT_DRAMATIQ_MAINTENANCE_CHANCE": "200000",
            "FAULTMODULE_MARKERS": str(self.markers),
        }
        return env | self.overrides

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        log = (self.tmp_path / f"{name}.log").open("a")
        process = subprocess.Popen(
            [sys.executable, "-m", "covenant.cli", *args],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.tmp_path,
        )
        self.processes[name] = process
        return process

    def start_worker(self, name: str = "worker") -> subprocess.Popen[str]:
        return self.start(name, "worker", "--threads", "4")

    def start_relay(self, name: str = "relay") -> subprocess.Popen[str]:
        return self.start(name, "relay")

    async def start_web(self) -> str:
        self.web_port = free_port()
        process = self.start("web", "serve", "--host", "127.0.0.1", "--port", str(self.web_port))
        base = self.base_url

        async def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"covenant serve exited with {process.returncode}:\n{self.log('web')}")
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"{base}/health/live")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(up, 180, "covenant serve answers", every=0.1)
        return base

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        process.send_signal(sig)
        process.wait(timeout=30)

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            codes[name] = process.returncode
        self.processes.clear()
        return codes

    def log(self, name: str, tail: int = 4000) -> str:
        path = self.tmp_path / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    def logs(self) -> str:
        logs = "\n".join(f"--- {p.name}\n{self.log(p.stem)}" for p in sorted(self.tmp_path.glob("*.log")))
        return f"{logs}\n--- redis\n{self.redis.describe()}"

    # -- what the database says -----------------------------------------------------------------------

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def invariants(self, *, expected_events: int | None = None, dead_letters_allowed: bool = False) -> Report:
        """Every outbox row published, every subscriber's inbox complete, each effect applied once."""
        from covenant_faultmodule.models import FaultEffect, FaultNote

        from covenant.events.models import DeadLetter, DeadLetterStatus, InboxRecord, OutboxRecord

        catalogue = fault_catalogue()
        async with self.engine.connect() as conn:
            outbox = await conn.execute(select(OutboxRecord.event_id, OutboxRecord.name, OutboxRecord.published_at))
            rows = outbox.all()
            inbox_rows = await conn.execute(select(InboxRecord.event_id, InboxRecord.subscriber))
            inbox = Counter((r.event_id, r.subscriber) for r in inbox_rows)
            effect_rows = await conn.execute(select(FaultEffect.event_id, FaultEffect.subscriber))
            effects = Counter((r.event_id, r.subscriber) for r in effect_rows)
            notes = int(await conn.scalar(select(func.count()).select_from(FaultNote)) or 0)
            dead = Counter(
                (r.event_id, r.subscriber)
                for r in await conn.execute(
                    select(DeadLetter.event_id, DeadLetter.subscriber).where(DeadLetter.status == DeadLetterStatus.DEAD)
                )
            )
        expected = Counter(
            (row.event_id, subscriber.name) for row in rows for subscriber in catalogue.subscribers_of(row.name)
        )
        if dead_letters_allowed:  # a dead-lettered pair waits for its replay: not expected yet
            expected -= dead
        fault_expected = Counter({key: n for key, n in expected.items() if key[1].startswith("fault")})
        return Report(
            events=len(rows),
            unpublished=sum(1 for row in rows if row.published_at is None),
            notes=notes,
            expected=expected,
            inbox=inbox,
            missing=expected - inbox,
            unexpected=inbox - expected,
            effects=effects,
            fault_expected=fault_expected,
            dead_letters=dead,
            expected_events=expected_events,
            dead_letters_allowed=dead_letters_allowed,
        )

    async def wait_for_invariants(self, timeout: float, **kwargs: Any) -> Report:  # noqa: ASYNC109
        report: Report | None = None

        async def holds() -> bool:
            nonlocal report
            report = await self.invariants(**kwargs)
            return report.ok

        try:
            await eventually(holds, timeout, "the invariants", every=0.5)
        except AssertionError:
            raise AssertionError(f"invariants do not hold: {report}\n{self.logs()}") from None
        assert report is not None
        return report

    async def dispose(self) -> None:
        await self.engine.dispose()


@dataclass
class Report:
    events: int
    unpublished: int
    notes: int
    expected: Counter[tuple[UUID, str]]
    inbox: Counter[tuple[UUID, str]]
    missing: Counter[tuple[UUID, str]]
    unexpected: Counter[tuple[UUID, str]]
    effects: Counter[tuple[UUID, str]]
    fault_expected: Counter[tuple[UUID, str]]
    dead_letters: Counter[tuple[UUID, str]]
    expected_events: int | None
    dead_letters_allowed: bool

    @property
    def duplicate_effects(self) -> int:
        return sum(n - 1 for n in self.effects.values() if n > 1)

    @property
    def ok(self) -> bool:
        return (
            self.unpublished == 0
            and not self.missing
            and not self.unexpected
            and self.effects == self.fault_expected
            and (self.expected_events is None or self.events == self.expected_events == self.notes)
            and (self.dead_letters_allowed or not self.dead_letters)
        )

    def __str__(self) -> str:
        return (
            f"events={self.events} (expected {self.expected_events}) notes={self.notes} "
            f"unpublished={self.unpublished} inbox={sum(self.inbox.values())}/{sum(self.expected.values())} "
            f"missing={sum(self.missing.values())} unexpected={sum(self.unexpected.values())} "
            f"effects={sum(self.effects.values())}/{sum(self.fault_expected.values())} "
            f"duplicate_effects={self.duplicate_effects} dead_letters={sum(self.dead_letters.values())}"
        )


def fault_catalogue() -> Any:
    from covenant_faultmodule.plugin import module, peer

    from covenant.events.catalogue import build_catalogue
    from covenant.plugins import ModuleRegistry

    return build_catalogue(ModuleRegistry([module, peer]))


async def post_notes(
    client: httpx.AsyncClient, payloads: Iterable[dict[str, Any]], *, concurrency: int = 8
) -> list[httpx.Response]:
    """POST each payload to the fault module's API, ``concurrency`` at a time, in order of the results."""
    gate = asyncio.Semaphore(concurrency)

    async def one(payload: dict[str, Any]) -> httpx.Response:
        async with gate:
            return await client.post("/api/v1/faultmodule/notes", json=payload)

    return list(await asyncio.gather(*(one(p) for p in payloads)))
