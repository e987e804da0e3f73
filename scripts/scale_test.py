"""``make scale-test``: the at-scale topology as plain processes, with kills, checked end to end.

Against the machine's PostgreSQL (127.0.0.1:5432, user ``postgres``) and Redis (127.0.0.1:6379) it

1. creates a throwaway database, migrates it (``covenant db upgrade``), loads ``covenant demo`` and an
   administrator, and empties one Redis database (``--redis-db``, 12 by default; nothing else touches it);
2. starts 2 web processes (``covenant serve`` on two free ports), 2 workers and 2 relays, all sharing one
   secret key and no sticky anything, plus an SMTP sink in this process (so mail is a real side effect);
3. sets up mayor's offices through the web like an operator would: the administrator invites each on one
   process, grants the role on the other, the invitation mail arrives through a worker, and the new user
   chooses a password from the link and signs in;
4. drives mixed load across both web processes: each mayor's office drafts, publishes and reports
   progress on commitments, each write on one process and read back through the other, while anonymous
   readers browse the public pages and API; halfway it SIGKILLs one web process and one worker and goes on
   with the survivors (an interrupted write is reconciled, never blindly repeated);
5. checks: every acknowledged write is visible through the surviving process, exactly once (titles,
   timeline entries); every write emitted its event exactly once; the outbox is all published; the inbox
   holds exactly (event, subscriber) for every event and subscriber of the catalogue; no dead letters;
   every mail reached the SMTP sink exactly once; a session started on one process works on the other
   and signing out on one ends it on the other.

It prints a summary, exits 1 on any failed check (2 when PostgreSQL or Redis is missing) and always
stops its processes, drops the database and empties its Redis database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_SECONDS = 300.0
"""A hard stop. Alone on a 2-core machine the whole run takes about 100 s; the target is under three minutes."""
PASSWORD = "scale-test-" + secrets.token_urlsafe(18)
ADMIN_EMAIL = "scale-admin@covenant-scale.eu"
UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INTERRUPTED = (httpx.TransportError,)
"""What a request to a process killed under it raises (connection refused, reset, incomplete read)."""


# -- plumbing ---------------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def covenant_command() -> list[str]:
    """The ``covenant`` console script of this interpreter's environment (``make install`` puts it there)."""
    script = Path(sys.executable).parent / "covenant"
    return [str(script)] if script.exists() else [sys.executable, "-m", "covenant.cli"]


class CheckFailed(Exception):
    pass


class Unavailable(Exception):
    """PostgreSQL or Redis cannot be reached: nothing was started, exit 2."""


@dataclass
class Checks:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed.append(what)
        else:
            self.failed.append(f"{what}{': ' + detail if detail else ''}")
            log(f"FAILED {what}{': ' + detail if detail else ''}")
        return ok


@dataclass
class Proc:
    name: str
    args: list[str]
    logfile: Path
    popen: subprocess.Popen[bytes] | None = None
    killed: bool = False
    peak_rss_mb: float = 0.0

    def note_memory(self) -> None:
        """Remember the process's peak resident memory (VmHWM), the figure a container limit must cover."""
        if self.popen is None:
            return
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.logfile.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"    {line}" for line in text[-lines:])


class Topology:
    """The child processes, their shared environment and their cleanup."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.procs: list[Proc] = []

    def run(self, *args: str, timeout: float = 120) -> str:
        """Run a one-off ``covenant`` command to completion; its output, or CheckFailed."""
        result = subprocess.run(  # noqa: S603 - our own command line
            [*covenant_command(), *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise CheckFailed(f"covenant {' '.join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}")
        return result.stdout

    def start(self, name: str, *args: str) -> Proc:
        proc = Proc(name, [*covenant_command(), *args], self.workdir / f"{name}.log")
        with proc.logfile.open("wb") as out:
            proc.popen = subprocess.Popen(  # noqa: S603 - our own command line
                proc.args, cwd=self.workdir, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.procs.append(proc)
        return proc

    def kill(self, proc: Proc) -> None:
        """SIGKILL: no shutdown hook runs, in-flight work is simply lost (that is the point)."""
        assert proc.popen is not None
        proc.note_memory()
        proc.popen.send_signal(signal.SIGKILL)
        proc.popen.wait(timeout=10)
        proc.killed = True

    def dead_unexpectedly(self) -> list[Proc]:
        return [p for p in self.procs if not p.killed and p.popen is not None and p.popen.poll() is not None]

    def stop_all(self) -> None:
        """SIGTERM each (they stop cleanly), SIGKILL whatever is still there after a grace period."""
        running = [p for p in self.procs if p.popen is not None and p.popen.poll() is None]
        for proc in running:
            proc.note_memory()
            with contextlib.suppress(ProcessLookupError):
                proc.popen.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        end = time.monotonic() + 10
        for proc in running:
            assert proc.popen is not None
            try:
                proc.popen.wait(timeout=max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout=5)


# -- an SMTP sink: the workers deliver mail here, so a duplicate delivery would be seen ---------------


class SmtpSink:
    """Just enough SMTP (RFC 5321, no extensions) for :mod:`smtplib` to deliver to it."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        say("220 scale-test sink")
        try:
            while line := await reader.readline():
                verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                if verb == "DATA":
                    say("354 go on")
                    await writer.drain()
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b".\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    message = email.message_from_bytes(bytes(data), policy=email.policy.default)
                    assert isinstance(message, email.message.EmailMessage)
                    self.messages.append(message)
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    await writer.drain()
                    break
                elif verb in {"EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP"}:
                    say("250 ok")
                else:
                    say("502 not implemented")
                await writer.drain()
        finally:
            writer.close()

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


# -- the web processes, as a browser sees them -----------------------------------------------------


@dataclass
class Web:
    name: str
    base: str
    proc: Proc
    alive: bool = True


class Cluster:
    def __init__(self, webs: list[Web]) -> None:
        self.webs = webs

    def alive(self) -> list[Web]:
        return [w for w in self.webs if w.alive]

    def pick(self) -> Web:
        return random.choice(self.alive())

    def other(self, web: Web) -> Web:
        """Another live process than ``web`` when there is one (read-your-write across processes)."""
        others = [w for w in self.alive() if w is not web]
        return others[0] if others else web


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("covenant_csrf") or ""}


async def ensure_csrf(client: httpx.AsyncClient, web: Web) -> None:
    if not client.cookies.get("covenant_csrf"):
        await client.get(f"{web.base}/login")


async def sign_in(client: httpx.AsyncClient, web: Web, email_address: str, password: str) -> None:
    await client.get(f"{web.base}/login")
    response = await client.post(
        f"{web.base}/login", data={"email": email_address, "password": password}, headers=csrf(client)
    )
    if response.status_code != 303 or not client.cookies.get("covenant_session"):
        raise CheckFailed(f"signing in {email_address} on {web.name}: HTTP {response.status_code}")


async def form_post(client: httpx.AsyncClient, web: Web, path: str, data: dict[str, Any]) -> httpx.Response:
    await ensure_csrf(client, web)
    return await client.post(f"{web.base}{path}", data=data, headers=csrf(client))


# -- the run ----------------------------------------------------------------------------------------


@dataclass
class Mayor:
    email: str
    city_id: str
    city_name: str
    client: httpx.AsyncClient


@dataclass
class Tracked:
    """A commitment this run wrote, with what the database must show for it at the end."""

    city_id: str
    title: str
    commitment_id: str | None = None
    published: bool = False
    narratives: list[str] = field(default_factory=list)
    percentage: int = 0


@dataclass
class Stats:
    writes: int = 0
    write_reads: int = 0
    public_reads: int = 0
    interrupted: int = 0
    reconciled: int = 0
    errors: list[str] = field(default_factory=list)


class ScaleTest:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_id = f"{os.getpid()}_{int(time.time())}"
        self.database = f"covenant_scale_{self.run_id}"
        self.pg_admin_dsn = args.pg
        pg = urlsplit(args.pg)
        self.database_dsn = pg._replace(path=f"/{self.database}").geturl()
        self.redis_url = f"{args.redis.rstrip('/')}/{args.redis_db}"
        self.workdir = Path(tempfile.gettempdir())  # a fresh folder of its own once the run starts
        self.sink = SmtpSink()
        self.checks = Checks()
        self.stats = Stats()
        self.tracked: list[Tracked] = []
        self.topology: Topology | None = None
        self.cluster: Cluster | None = None
        self.kill_at = 0
        self.kill_done = asyncio.Event()
        self.quarter_way = asyncio.Event()
        self.halfway = asyncio.Event()
        self.started = time.monotonic()
        self.cleaned = False

    # -- environment -------------------------------------------------------------------------------
    async def preflight(self) -> None:
        try:
            conn = await asyncpg.connect(self.pg_admin_dsn, timeout=5)
            await conn.close()
        except (OSError, asyncpg.PostgresError) as exc:
            raise Unavailable(f"PostgreSQL is not reachable at {self.pg_admin_dsn}: {exc}") from exc
        try:
            redis.Redis.from_url(self.redis_url, socket_timeout=5).ping()
        except redis.RedisError as exc:
            raise Unavailable(f"Redis is not reachable at {self.redis_url}: {exc}") from exc

    async def create_database(self) -> None:
        conn = await asyncpg.connect(self.pg_admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()
        redis.Redis.from_url(self.redis_url).flushdb()

    async def drop_database(self) -> None:
        with contextlib.suppress(Exception):
            conn = await asyncpg.connect(self.pg_admin_dsn)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            finally:
                await conn.close()
        with contextlib.suppress(Exception):
            redis.Redis.from_url(self.redis_url).flushdb()

    def environment(self, base_url: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
        env.update(
            {
                "COVENANT_DATABASE_URL": "postgresql+asyncpg://" + self.database_dsn.split("://", 1)[1],
                "COVENANT_BROKER_URL": self.redis_url,
                "COVENANT_SECRET_KEY": secrets.token_urlsafe(48),
                "COVENANT_VAR_DIR": str(self.workdir / "var"),
                "COVENANT_BASE_URL": base_url,
                "COVENANT_SMTP_HOST": "127.0.0.1",
                "COVENANT_SMTP_PORT": str(self.sink.port),
                "COVENANT_SMTP_STARTTLS": "false",
                "COVENANT_LOG_FORMAT": "json",
                "COVENANT_LOG_LEVEL": "WARNING",
                "COVENANT_RELAY_POLL_SECONDS": "0.3",
                "COVENANT_DRAMATIQ_MIN_BACKOFF_MS": "200",
                # A killed worker's unacknowledged messages come back after this, not after a minute.
                "COVENANT_DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "10000",
                "COVENANT_DRAMATIQ_MAINTENANCE_CHANCE": "100000",
                "COVENANT_LOGIN_ATTEMPTS_PER_MINUTE": "1000",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    # -- phases ------------------------------------------------------------------------------------
    async def main(self) -> int:
        await self.preflight()
        self.workdir = Path(tempfile.mkdtemp(prefix="covenant-scale-"))
        await self.sink.start()
        await self.create_database()
        log(f"database {self.database}, Redis {self.redis_url}, work dir {self.workdir}")
        try:
            await self.scenario()
        except CheckFailed as exc:
            self.checks.failed.append(str(exc))
            log(f"FAILED {exc}")
        finally:
            await self.cleanup()
        return self.summary()

    async def scenario(self) -> None:
        ports = [free_port(), free_port()]
        topology = self.topology = Topology(self.workdir, self.environment(f"http://127.0.0.1:{ports[0]}"))
        await asyncio.to_thread(topology.run, "db", "upgrade", timeout=180)
        await asyncio.to_thread(topology.run, "demo", timeout=180)
        await asyncio.to_thread(topology.run, "users", "create-admin", "--email", ADMIN_EMAIL, "--password", PASSWORD)
        log(f"migrated and demo loaded ({time.monotonic() - self.started:.0f}s)")

        webs = [
            Web(f"web{i + 1}", f"http://127.0.0.1:{port}", topology.start(f"web{i + 1}", "serve", "--port", str(port)))
            for i, port in enumerate(ports)
        ]
        workers = [topology.start(f"worker{i + 1}", "worker", "--threads", "4") for i in range(2)]
        for i in range(2):
            topology.start(f"relay{i + 1}", "relay")
        self.cluster = Cluster(webs)
        await self.wait_ready(webs)
        log(f"2 web, 2 workers, 2 relays up ({time.monotonic() - self.started:.0f}s)")

        async with httpx.AsyncClient(timeout=30) as admin:
            await sign_in(admin, webs[0], ADMIN_EMAIL, PASSWORD)
            await self.check_sessions(webs)
            mayors = await self.set_up_mayors(admin, webs)
        try:
            await self.drive_load(mayors, webs, workers[1])
        finally:
            for mayor in mayors:
                await mayor.client.aclose()
        await self.verify()

    async def wait_ready(self, webs: list[Web], within: float = 90) -> None:
        assert self.topology is not None
        end = time.monotonic() + within
        async with httpx.AsyncClient(timeout=5) as client:
            for web in webs:
                while True:
                    if dead := self.topology.dead_unexpectedly():
                        raise CheckFailed(f"{dead[0].name} exited at start:\n{dead[0].tail()}")
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"{web.base}/health/ready")).status_code == 200:
                            break
                    if time.monotonic() > end:
                        raise CheckFailed(f"{web.name} not ready after {within:.0f}s:\n{web.proc.tail()}")
                    await asyncio.sleep(0.5)

    async def check_sessions(self, webs: list[Web]) -> None:
        """Sign in on one process, be known on the other, sign out there, be unknown on the first."""
        async with httpx.AsyncClient(timeout=30) as client:
            await sign_in(client, webs[0], ADMIN_EMAIL, PASSWORD)
            cookie = client.cookies.get("covenant_session") or ""
            me = await client.get(f"{webs[1].base}/api/v1/me")
            self.checks.check(
                me.status_code == 200 and me.json().get("email") == ADMIN_EMAIL,
                "a session started on web1 is known to web2",
                f"HTTP {me.status_code}",
            )
            out = await form_post(client, webs[1], "/logout", {})
            if out.status_code != 303:
                raise CheckFailed(f"signing out on web2: HTTP {out.status_code}")
        # The browser forgot the cookie; someone who kept a copy must not get in through web1 either.
        async with httpx.AsyncClient(timeout=30, cookies={"covenant_session": cookie}) as stale:
            after = await stale.get(f"{webs[0].base}/api/v1/me")
        self.checks.check(
            after.status_code == 401, "signing out on web2 ends the session on web1", f"HTTP {after.status_code}"
        )

    async def signatory_cities(self, count: int) -> list[tuple[str, str]]:
        conn = await asyncpg.connect(self.database_dsn)
        try:
            rows = await conn.fetch(
                "SELECT c.id::text AS id, c.name FROM city c JOIN city_membership m ON m.city_id = c.id "
                "WHERE m.status = 'signatory' ORDER BY c.name LIMIT $1",
                count,
            )
        finally:
            await conn.close()
        if len(rows) < count:
            raise CheckFailed(f"the demo has {len(rows)} signatory cities, the load needs {count}")
        return [(r["id"], r["name"]) for r in rows]

    async def set_up_mayors(self, admin: httpx.AsyncClient, webs: list[Web]) -> list[Mayor]:
        """Invite on web1, grant on web2, the mail goes through a worker, the password is set from its link."""
        mayors = []
        for n, (city_id, city_name) in enumerate(await self.signatory_cities(self.args.mayors)):
            address = f"mayor{n + 1}-{self.run_id}@covenant-scale.eu"
            created = await form_post(
                admin, webs[0], "/admin/users/", {"email": address, "display_name": f"Mayor's office of {city_name}"}
            )
            if created.status_code != 303:
                raise CheckFailed(f"inviting {address}: HTTP {created.status_code}")
            user_path = created.headers["location"]
            granted = await form_post(
                admin, webs[1], f"{user_path}/grants", {"role": "mayors_office", "city_id": city_id}
            )
            if granted.status_code != 303:
                raise CheckFailed(f"granting {address} on web2 with web1's session: HTTP {granted.status_code}")
            link = await self.invitation_link(address)
            client = httpx.AsyncClient(timeout=30)
            target = webs[(n + 1) % 2]
            path = urlsplit(link).path
            await client.get(f"{target.base}{path}")
            reset = await form_post(client, target, path, {"password": PASSWORD, "password_confirm": PASSWORD})
            if reset.status_code != 303:
                raise CheckFailed(f"choosing {address}'s password on {target.name}: HTTP {reset.status_code}")
            await sign_in(client, webs[n % 2], address, PASSWORD)
            mayors.append(Mayor(address, city_id, city_name, client))
        self.checks.check(True, f"{len(mayors)} mayor's offices invited, granted and signed in across processes")
        return mayors

    async def invitation_link(self, address: str, within: float = 30) -> str:
        end = time.monotonic() + within
        while time.monotonic() < end:
            for message in self.sink.mails_to(address):
                body = message.get_body(preferencelist=("plain",))
                text = body.get_content() if body is not None else ""
                if match := re.search(r"https?://\S+/password/reset/\S+", text):
                    return match.group(0)
            await asyncio.sleep(0.2)
        raise CheckFailed(f"no invitation mail for {address} within {within:.0f}s (relay → worker → SMTP)")

    # -- load ----------------------------------------------------------------------------------------
    async def drive_load(self, mayors: list[Mayor], webs: list[Web], victim_worker: Proc) -> None:
        per_mayor = self.args.commitments
        steps = 2 + len(self.args.progress)  # create, publish, progress updates
        total = len(mayors) * per_mayor * steps
        self.kill_at = total // 2
        stop_readers = asyncio.Event()
        readers = [asyncio.create_task(self.reader(stop_readers)) for _ in range(self.args.readers)]
        forgetters = asyncio.create_task(self.forgotten_passwords(mayors, stop_readers))
        killer = asyncio.create_task(self.kill_midway(webs[1], victim_worker))
        try:
            await asyncio.gather(*(self.mayor_load(m, per_mayor) for m in mayors))
        finally:
            stop_readers.set()
            self.quarter_way.set()
            if not killer.done():
                killer.cancel()
            await asyncio.gather(*readers, forgetters, return_exceptions=True)
            with contextlib.suppress(asyncio.CancelledError):
                await killer
        log(
            f"load done: {self.stats.writes} writes, {self.stats.write_reads} read-backs, "
            f"{self.stats.public_reads} public reads, {self.stats.interrupted} interrupted by the kill "
            f"({time.monotonic() - self.started:.0f}s)"
        )

    async def kill_midway(self, web: Web, worker: Proc) -> None:
        assert self.topology is not None
        await self.halfway.wait()
        web.alive = False  # new requests go to the survivor; ones in flight to it die with it
        self.topology.kill(web.proc)
        self.topology.kill(worker)
        log(f"SIGKILLed {web.name} and {worker.name} after {self.stats.writes} writes")
        self.kill_done.set()

    def note_write(self) -> None:
        self.stats.writes += 1
        if self.stats.writes >= self.kill_at // 2:
            self.quarter_way.set()
        if self.stats.writes >= self.kill_at:
            self.halfway.set()

    async def mayor_load(self, mayor: Mayor, count: int) -> None:
        assert self.cluster is not None
        for i in range(count):
            item = Tracked(mayor.city_id, f"Scale {self.run_id} {mayor.city_name[:40]} #{i + 1}")
            self.tracked.append(item)
            await self.create(mayor, item)
            if item.commitment_id is None:
                continue
            await self.publish(mayor, item)
            for step, percentage in enumerate(self.args.progress):
                await self.progress(mayor, item, step, percentage)

    async def attempt(self, what: str, do: Any, applied: Any, redo: bool = True) -> Any:
        """Run the write ``do(web)``. Interrupted by a kill: look through a survivor whether it was
        applied (``applied()``), and only if not, do it there. Never a blind retry."""
        assert self.cluster is not None
        web = self.cluster.pick()
        try:
            return await do(web), web
        except INTERRUPTED as exc:
            self.stats.interrupted += 1
            if web.alive:
                raise CheckFailed(f"{what} on {web.name} (still running) failed: {exc!r}") from exc
            if await applied():
                self.stats.reconciled += 1
                return None, None
            if not redo:
                return None, None
            survivor = self.cluster.pick()
            return await do(survivor), survivor

    async def create(self, mayor: Mayor, item: Tracked) -> None:
        today = date.today()
        data = {
            "title": item.title,
            "description": "Written by the scale test.",
            "language": "en",
            "priority": random.choice(["urban_planning", "technology", "security_public_spaces"]),
            "modules": "practices",
            "indicator": "Places covered",
            "baseline": "0",
            "target_value": "10",
            "unit": "places",
            "start_date": date(today.year - 1, 1, 1).isoformat(),
            "due_date": date(today.year + 2, 12, 31).isoformat(),
            "weight": "1",
            "status": "planned",
        }

        async def do(web: Web) -> httpx.Response:
            return await form_post(mayor.client, web, f"/cities/{mayor.city_id}/commitments/", data)

        async def applied() -> bool:
            item.commitment_id = await self.find_by_title(mayor, item.title)
            return item.commitment_id is not None

        response, web = await self.attempt(f"creating {item.title}", do, applied)
        if response is not None:
            if response.status_code != 303:
                raise CheckFailed(f"creating a commitment on {web.name}: HTTP {response.status_code}")
            match = re.search(r"/commitments/([0-9a-f-]{36})/edit", response.headers.get("location", ""))
            if match is None:
                raise CheckFailed(f"creating a commitment: no id in {response.headers.get('location')!r}")
            item.commitment_id = match.group(1)
        self.note_write()
        await self.read_back(mayor, item, web, lambda c: c["title"] == item.title)

    async def publish(self, mayor: Mayor, item: Tracked) -> None:
        path = f"/cities/{mayor.city_id}/commitments/{item.commitment_id}/publish"

        async def applied() -> bool:
            return bool((await self.fetch(mayor, item) or {}).get("published"))

        response, web = await self.attempt(
            f"publishing {item.title}", lambda web: form_post(mayor.client, web, path, {}), applied
        )
        if response is not None and response.status_code != 303:
            raise CheckFailed(f"publishing on {web.name}: HTTP {response.status_code}")
        item.published = True
        self.note_write()
        await self.read_back(mayor, item, web, lambda c: c["published"] is True)

    async def progress(self, mayor: Mayor, item: Tracked, step: int, percentage: int) -> None:
        narrative = f"step {step + 1} of {item.title}"
        path = f"/cities/{mayor.city_id}/commitments/{item.commitment_id}/progress"
        data = {"reported_on": date.today().isoformat(), "percentage": str(percentage), "narrative": narrative}

        async def applied() -> bool:
            current = await self.fetch(mayor, item) or {}
            return any(u.get("narrative") == narrative for u in current.get("updates", []))

        response, web = await self.attempt(
            f"progress of {item.title}", lambda web: form_post(mayor.client, web, path, data), applied
        )
        if response is not None and response.status_code != 303:
            raise CheckFailed(f"progress on {web.name}: HTTP {response.status_code}")
        item.narratives.append(narrative)
        item.percentage = percentage
        self.note_write()
        await self.read_back(mayor, item, web, lambda c: c["progress"] == percentage)

    async def fetch(self, mayor: Mayor, item: Tracked, web: Web | None = None) -> dict[str, Any] | None:
        assert self.cluster is not None
        web = web or self.cluster.pick()
        response = await mayor.client.get(f"{web.base}/api/v1/commitments/{item.commitment_id}")
        return response.json() if response.status_code == 200 else None

    async def find_by_title(self, mayor: Mayor, title: str) -> str | None:
        assert self.cluster is not None
        web = self.cluster.pick()
        response = await mayor.client.get(f"{web.base}/api/v1/cities/{mayor.city_id}/commitments/")
        if response.status_code != 200:
            raise CheckFailed(f"listing the city's commitments on {web.name}: HTTP {response.status_code}")
        ids = [c["id"] for c in response.json() if c["title"] == title]
        if len(ids) > 1:
            raise CheckFailed(f"{title!r} exists {len(ids)} times after an interrupted create")
        return ids[0] if ids else None

    async def read_back(self, mayor: Mayor, item: Tracked, written_on: Web | None, ok: Any) -> None:
        """The write must be visible at once through another process than the one that took it."""
        assert self.cluster is not None
        web = self.cluster.other(written_on) if written_on is not None else self.cluster.pick()
        try:
            current = await self.fetch(mayor, item, web)
        except INTERRUPTED:
            if web.alive:
                raise
            current = await self.fetch(mayor, item)
        self.stats.write_reads += 1
        if current is None or not ok(current):
            raise CheckFailed(f"{item.title}: the write is not visible through {web.name}: {current!r}")

    async def reader(self, stop: asyncio.Event) -> None:
        """An anonymous visitor browsing the public site and API on whichever process answers."""
        assert self.cluster is not None
        paths = ["/", "/commitments", "/api/v1/commitments/?size=10", "/cities", "/health/ready", "/calendar"]
        async with httpx.AsyncClient(timeout=30) as client:
            while not stop.is_set():
                web = self.cluster.pick()
                path = random.choice(paths)
                try:
                    response = await client.get(f"{web.base}{path}")
                except INTERRUPTED:
                    if web.alive:
                        self.stats.errors.append(f"GET {path} on live {web.name}: connection failed")
                    continue
                self.stats.public_reads += 1
                if response.status_code >= 500:
                    self.stats.errors.append(f"GET {path} on {web.name}: HTTP {response.status_code}")
                await asyncio.sleep(0.02)

    async def forgotten_passwords(self, mayors: list[Mayor], stop: asyncio.Event) -> None:
        """Mail during the kill window: each mayor's office asks for a reset link once, mid-run."""
        assert self.cluster is not None
        await self.quarter_way.wait()
        async with httpx.AsyncClient(timeout=30) as client:
            for mayor in mayors:
                web = self.cluster.pick()
                with contextlib.suppress(*INTERRUPTED):
                    await form_post(client, web, "/password/forgot", {"email": mayor.email})
                await asyncio.sleep(0.3)

    # -- verification ------------------------------------------------------------------------------
    async def verify(self) -> None:
        assert self.cluster is not None
        assert self.topology is not None
        survivor = self.cluster.alive()[0]
        self.checks.check(self.kill_done.is_set(), "a web process and a worker were SIGKILLed mid-run")
        self.checks.check(
            not self.stats.errors, "no 5xx and no failed request on a live process", "; ".join(self.stats.errors[:5])
        )
        dead = self.topology.dead_unexpectedly()
        self.checks.check(not dead, "no process died other than the two killed", ", ".join(p.name for p in dead))

        expected_events = await self.wait_quiet()
        conn = await asyncpg.connect(self.database_dsn)
        try:
            await self.verify_events(conn, expected_events)
            await self.verify_writes(conn, survivor)
            await self.verify_mail(conn)
        finally:
            await conn.close()

        async with httpx.AsyncClient(timeout=30) as client:
            await sign_in(client, survivor, ADMIN_EMAIL, PASSWORD)
            ready = await client.get(f"{survivor.base}/health/ready")
            self.checks.check(ready.status_code == 200, f"{survivor.name} still ready after the kills")

    def subscribers_by_event(self) -> dict[str, list[str]]:
        """What the catalogue says (the same entry points and settings as the processes)."""
        os.environ.update(self.topology.env if self.topology else {})
        from covenant.config import get_settings
        from covenant.events.catalogue import build_catalogue
        from covenant.plugins import ModuleRegistry

        registry = ModuleRegistry.from_entry_points(get_settings().modules)
        registry.import_models()
        catalogue = build_catalogue(registry)
        return {name: list(entry.subscribers) for name, entry in catalogue.events.items()}

    async def wait_quiet(self, within: float = 75) -> dict[str, list[str]]:
        """Until the outbox is published and the inbox holds every (event, subscriber) once."""
        subscribers = await asyncio.to_thread(self.subscribers_by_event)
        end = time.monotonic() + within
        conn = await asyncpg.connect(self.database_dsn)
        try:
            while True:
                pending = await conn.fetchval("SELECT count(*) FROM event_outbox WHERE published_at IS NULL")
                names = await conn.fetch("SELECT name, count(*) AS n FROM event_outbox GROUP BY name")
                expected = sum(r["n"] * len(subscribers.get(r["name"], [])) for r in names)
                applied = await conn.fetchval("SELECT count(*) FROM event_inbox")
                dead = await conn.fetchval("SELECT count(*) FROM event_dead_letter")
                queued = await conn.fetchval("SELECT count(*) FROM mail_message WHERE status = 'queued'")
                if (pending == 0 and applied >= expected and not queued) or dead:
                    break
                if time.monotonic() > end:
                    log(f"not quiet after {within:.0f}s: {pending} unpublished, {applied}/{expected} applied")
                    break
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
        log(f"events settled ({time.monotonic() - self.started:.0f}s)")
        return subscribers

    async def verify_events(self, conn: asyncpg.Connection, subscribers: dict[str, list[str]]) -> None:
        outbox = await conn.fetch("SELECT event_id::text AS event_id, name, published_at FROM event_outbox")
        unpublished = [r["name"] for r in outbox if r["published_at"] is None]
        self.checks.check(not unpublished, f"all {len(outbox)} outbox events published", f"{len(unpublished)} not")
        expected = Counter((r["event_id"], s) for r in outbox for s in subscribers.get(r["name"], []))
        inbox = Counter(
            (r["event_id"], r["subscriber"])
            for r in await conn.fetch("SELECT event_id::text AS event_id, subscriber FROM event_inbox")
        )
        missing = expected - inbox
        extra = inbox - expected
        self.checks.check(
            not missing and not extra,
            f"event_inbox = events x subscribers exactly ({sum(expected.values())} deliveries applied once)",
            f"{sum(missing.values())} missing, {sum(extra.values())} unexpected",
        )
        dead = await conn.fetch("SELECT subscriber, event_name, error FROM event_dead_letter")
        self.checks.check(not dead, "no dead letters", "; ".join(f"{d['subscriber']}: {d['error']}" for d in dead[:3]))
        resent = await conn.fetchval("SELECT count(*) FROM event_outbox WHERE attempts > 1")
        log(f"{resent} outbox events were sent more than once (a relay raced or a message was resent)")

    async def verify_writes(self, conn: asyncpg.Connection, survivor: Web) -> None:
        done = [t for t in self.tracked if t.commitment_id is not None]
        self.checks.check(
            len(done) == len(self.tracked), f"all {len(self.tracked)} commitments written", f"{len(done)} have an id"
        )
        titles = Counter(
            r["title"]
            for r in await conn.fetch("SELECT title FROM commitment WHERE title LIKE $1", f"Scale {self.run_id} %")
        )
        duplicated = [t for t, n in titles.items() if n != 1]
        self.checks.check(
            set(titles) == {t.title for t in self.tracked} and not duplicated,
            "each commitment exists exactly once",
            f"duplicated: {duplicated[:3]}",
        )
        published = Counter(
            r["cid"]
            for r in await conn.fetch(
                "SELECT payload->>'commitment_id' AS cid FROM event_outbox WHERE name = 'commitment.published'"
            )
        )
        progressed = Counter(
            r["cid"]
            for r in await conn.fetch(
                "SELECT payload->>'commitment_id' AS cid FROM event_outbox WHERE name = 'commitment.progressed'"
            )
        )
        wrong = []
        async with httpx.AsyncClient(timeout=30) as client:
            for item in done:
                response = await client.get(f"{survivor.base}/api/v1/commitments/{item.commitment_id}")
                body = response.json() if response.status_code == 200 else {}
                narratives = [u["narrative"] for u in body.get("updates", []) if u["narrative"].endswith(item.title)]
                if (
                    body.get("published") is not True
                    or body.get("progress") != item.percentage
                    or sorted(narratives) != sorted(item.narratives)
                    or published[item.commitment_id] != 1
                    or progressed[item.commitment_id] != len(item.narratives)
                ):
                    wrong.append(f"{item.title}: {body.get('progress')}%, {len(narratives)} updates")
        self.checks.check(
            not wrong,
            f"every write visible through {survivor.name}, each with exactly one event",
            "; ".join(wrong[:3]),
        )

    async def verify_mail(self, conn: asyncpg.Connection) -> None:
        rows = await conn.fetch("SELECT id::text AS id, status FROM mail_message")
        not_sent = [r["status"] for r in rows if r["status"] != "sent"]
        self.checks.check(not not_sent, f"all {len(rows)} mails sent", f"statuses {Counter(not_sent)}")
        received: Counter[str] = Counter()
        for message in self.sink.messages:
            if match := UUID_PATTERN.search(str(message["Message-ID"])):
                received[match.group(0)] += 1
        twice = [k for k, n in received.items() if n > 1]
        self.checks.check(
            set(received) == {r["id"] for r in rows} and not twice,
            "each mail reached the SMTP server exactly once",
            f"{len(received)} received for {len(rows)} mails, {len(twice)} twice",
        )

    # -- the end -----------------------------------------------------------------------------------
    async def cleanup(self) -> None:
        if self.cleaned:
            return
        self.cleaned = True
        if self.topology is not None:
            failed = bool(self.checks.failed)
            await asyncio.to_thread(self.topology.stop_all)
            if failed:
                for proc in self.topology.procs:
                    log(f"last lines of {proc.name}{' (killed)' if proc.killed else ''}:\n{proc.tail()}")
        await self.sink.stop()
        await self.drop_database()
        if self.workdir.name.startswith("covenant-scale-"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def summary(self) -> int:
        elapsed = time.monotonic() - self.started
        print()
        print("scale test: 2 web, 2 workers, 2 relays on PostgreSQL + Redis; SIGKILL of web2 and worker2 mid-run")
        print(
            f"  {self.stats.writes} writes, {self.stats.write_reads} cross-process read-backs, "
            f"{self.stats.public_reads} public reads, {self.stats.interrupted} requests cut by the kill "
            f"({self.stats.reconciled} found applied on the survivor), {len(self.sink.messages)} mails"
        )
        if self.topology is not None:
            peaks: dict[str, float] = {}
            for proc in self.topology.procs:
                role = proc.name.rstrip("0123456789")
                peaks[role] = max(peaks.get(role, 0.0), proc.peak_rss_mb)
            print("  peak memory (VmHWM): " + ", ".join(f"{role} {mb:.0f} MiB" for role, mb in peaks.items()))
        for what in self.checks.passed:
            print(f"  ok    {what}")
        for what in self.checks.failed:
            print(f"  FAIL  {what}")
        print(f"  took {elapsed:.0f}s")
        print(f"scale-test: {len(self.checks.passed)} passed, {len(self.checks.failed)} failed")
        return 1 if self.checks.failed or not self.checks.passed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--pg",
        default=os.environ.get("COVENANT_SCALE_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="A PostgreSQL URL allowed to CREATE and DROP DATABASE (env COVENANT_SCALE_PG).",
    )
    parser.add_argument(
        "--redis",
        default=os.environ.get("COVENANT_SCALE_REDIS", "redis://127.0.0.1:6379"),
        help="Redis server, without a database number (env COVENANT_SCALE_REDIS).",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=int(os.environ.get("COVENANT_SCALE_REDIS_DB", "12")),
        help="The Redis database the run empties and uses (env COVENANT_SCALE_REDIS_DB).",
    )
    parser.add_argument("--mayors", type=int, default=4, help="Mayor's offices writing at once.")
    parser.add_argument("--commitments", type=int, default=5, help="Commitments each mayor's office writes.")
    parser.add_argument("--readers", type=int, default=3, help="Anonymous visitors reading at once.")
    parser.add_argument(
        "--progress", type=int, nargs="+", default=[30, 60, 100], help="Progress updates of each commitment."
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.chdir(ROOT)
    args = parse_args(argv)
    test = ScaleTest(args)

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        return asyncio.run(asyncio.wait_for(test.main(), DEADLINE_SECONDS))
    except Unavailable as exc:
        print(f"scale test: {exc}", file=sys.stderr)
        return 2
    except TimeoutError:
        print("scale test: took too long; see the log above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("scale test: interrupted", file=sys.stderr)
        return 130
    finally:
        # A cancelled run may not have reached its own cleanup: processes, database and Redis go anyway.
        if not test.cleaned:
            asyncio.run(test.cleanup())


if __name__ == "__main__":
    sys.exit(main())
