"""``make bench``: the benchmark suite, each figure next to its baseline measured in the same run.

1. scale data: a synthetic Covenant of N cities generated and bulk-loaded (PostgreSQL COPY; SQLite
   executemany), timed;
2. HTTP: ``wrk`` at 64 connections on the public signatory list, a city profile, a module dashboard (the
   practice library) and a JSON API list — the real app on PostgreSQL, and the ceiling (a bare Litestar
   app rendering the same templates from memory, :mod:`benchmarks.ceiling`), with 1 and 2 server processes;
3. events: outbox → relay → Redis → worker → handler committed, against a raw Dramatiq no-op actor on the
   same Redis (:mod:`benchmarks.events`); lag at a steady 1,000 events/s;
4. the yearly monitoring cycle at N cities, when the monitoring services exist;
5. the assessment engine, when ``benchmarks/assessment_engine.py`` exists;
6. memory: peak RSS of the web and worker processes under that load, at 1,000 and N cities (and 100,000
   with ``--full``), with the pages' latency at each scale.

Results: ``benchmarks/results/latest.json`` and ``latest.md``, plus dated copies. The databases named by
``BENCH_DATABASE_URL`` (and the same name suffixed ``_1k``, ``_100k``) are DROPPED and rebuilt: their name
must contain "bench". Redis databases ``BENCH_REDIS_URL`` and ``BENCH_RAW_REDIS_URL`` are flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import json
import os
import platform as stdlib_platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PYTHON = sys.executable
DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/covenant_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_RAW_REDIS_URL = "redis://127.0.0.1:6379/15"
SECRET = "benchmark-secret-key-not-for-production-use-000"  # noqa: S105 - local benchmark servers only

PAGES = ("signatory list", "city profile", "module dashboard", "JSON API list")
VARIANTS = ("covenant", "uncached", "ceiling")
"""The app as deployed (anonymous reads served by the public-page cache), the app with that cache off (every
request reads the database), and the bare-Litestar ceiling."""
TARGET_RATIO = 0.5
TARGET_P99_MS = 100.0
TARGET_RSS_MB = 250.0
TARGET_LAG_P99_S = 1.0


@dataclass
class Options:
    database_url: str
    redis_url: str
    raw_redis_url: str
    cities: int = 10_000
    small: int = 1_000
    full: bool = False
    duration: float = 8.0
    warmup: float = 1.0
    connections: int = 64
    processes: tuple[int, ...] = (1, 2)
    burst: int = 20_000
    steady_rate: int = 1_000
    steady_seconds: float = 10.0
    window: float = 30.0
    """Seconds an event burst is given after recording; a slower bus is measured on what it applied."""
    sqlite: bool = True
    reuse: bool = False
    only: frozenset[str] = frozenset()
    port: int = 8710
    echo: Callable[[str], None] = print

    def wants(self, section: str) -> bool:
        return not self.only or section in self.only


# -- small helpers ---------------------------------------------------------------------------------------


def database_url_for(base: str, suffix: str) -> str:
    head, _, name = base.rpartition("/")
    name, sep, query = name.partition("?")
    return f"{head}/{name}{suffix}{sep}{query}"


def database_name(url: str) -> str:
    return url.rpartition("/")[2].partition("?")[0]


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _run_env(database_url: str, broker_url: str, var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
    env |= {
        "COVENANT_DATABASE_URL": database_url,
        "COVENANT_BROKER_URL": broker_url,
        "COVENANT_SECRET_KEY": SECRET,
        "COVENANT_VAR_DIR": str(var_dir),
        "COVENANT_LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform"), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
    }
    return env


class Process:
    """A child process in its own session (so its whole group stops with it), with its log in a file."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._file = self.log.open("w")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and tools
            list(args), env=env, cwd=ROOT, stdout=self._file, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_for_line(self, needle: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            with contextlib.suppress(OSError):
                if needle in self.log.read_text(errors="replace"):
                    return
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._file.close()


@contextlib.contextmanager
def running(*processes: Process) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.stop()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size (VmHWM) of one process, in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def python_processes(root: int) -> list[int]:
    """The Python processes of a server: the root, or its workers when it forked some (uvicorn --workers).
    uvicorn's multiprocessing helper (resource tracker) is not a server process."""
    pids = [root, *descendants(root)]
    servers = []
    for pid in pids:
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "python" in cmdline and "resource_tracker" not in cmdline:
                servers.append(pid)
    workers = [p for p in servers if p != root and "multiprocessing" in _cmdline(p)]
    return workers or [root]


def _cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def wait_http(url: str, timeout: float = 120, process: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 - our own local server
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    memory = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) / 1024 / 1024
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "cpu": cpu or stdlib_platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(memory, 1),
        "os": f"{stdlib_platform.system()} {stdlib_platform.release()}",
        "python": stdlib_platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


# -- wrk -------------------------------------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {%s}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(seed * 7919)
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
"""


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_per_second": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
            "requests": self.requests,
        }


def _duration_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if not match:
        return float("nan")
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> Load:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non2xx.group(1)) if non2xx else 0
    if sockets:
        errors += sum(int(g) for g in sockets.groups())
    if not (rps and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    return Load(
        requests_per_second=float(rps.group(1)),
        p50_ms=_duration_ms(p50.group(1)),
        p99_ms=_duration_ms(p99.group(1)),
        errors=errors,
        requests=int(total.group(1)) if total else 0,
    )


def wrk(base_url: str, paths: Sequence[str], duration: float, connections: int, work: Path) -> Load:
    script = work / f"paths-{abs(hash(tuple(paths)))}.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    threads = min(2, connections)
    result = subprocess.run(  # noqa: S603
        [  # noqa: S607 - wrk from the distribution
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base_url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    return parse_wrk(result.stdout)


# -- preparing databases ---------------------------------------------------------------------------------


async def reset_database(url: str) -> None:
    """Create the database if missing, then empty its public schema."""
    import asyncpg

    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"refusing to reset database {name!r}: a benchmark database's name contains 'bench'")
    admin = await asyncpg.connect(asyncpg_dsn(database_url_for(url, "").rpartition("/")[0] + "/postgres"))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def migrate(url: str) -> None:
    from alembic import command

    from covenant.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


async def generated_cities(url: str) -> int:
    import asyncpg

    from benchmarks.generate import GENERATED_DOMAIN

    try:
        conn = await asyncpg.connect(asyncpg_dsn(url))
    except Exception:
        return 0
    try:
        return int(
            await conn.fetchval("SELECT count(*) FROM city WHERE contact_email LIKE $1", f"%@{GENERATED_DOMAIN}") or 0
        )
    except Exception:
        return 0
    finally:
        await conn.close()


def prepare(options: Options, url: str, cities: int) -> dict[str, Any]:
    """A migrated database holding ``cities`` generated cities; returns the generation's figures."""
    from benchmarks.generate import generate
    from covenant.config import Settings

    if options.reuse and asyncio.run(generated_cities(url)) == cities:
        options.echo(f"  reusing {database_name(url)} ({cities:,} cities)")
        return {"reused": True}
    started = time.perf_counter()
    asyncio.run(reset_database(url))
    migrate(url)
    migrated = time.perf_counter() - started
    settings = Settings(database_url=url, broker_url="", secret_key=SECRET, var_dir=Path(tempfile.gettempdir()))
    report = asyncio.run(generate(settings, cities))
    options.echo(f"  {report.summary()} (+ {migrated:.1f} s of migrations)")
    return {"seconds": round(report.seconds, 1), "rows": report.total_rows, "tables": report.rows}


def generate_sqlite(options: Options) -> dict[str, Any]:
    from benchmarks.generate import generate
    from covenant.config import Settings

    folder = Path(tempfile.mkdtemp(prefix="covenant-bench-sqlite-"))
    try:
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        migrate(url)
        settings = Settings(database_url=url, broker_url="", secret_key=SECRET, var_dir=folder)
        report = asyncio.run(generate(settings, options.cities))
        options.echo(f"  {report.summary()}")
        return {"seconds": round(report.seconds, 1), "rows": report.total_rows}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- HTTP ------------------------------------------------------------------------------------------------


async def choose_paths(url: str, seed: int = 7) -> dict[str, list[str]]:
    """The URLs of each measured page, chosen from the generated data (same seed, same URLs)."""
    import asyncpg

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        public = [
            str(r[0])
            for r in await conn.fetch(
                "SELECT c.id FROM city c JOIN city_membership m ON m.city_id = c.id "
                "WHERE m.status IN ('signatory', 'suspended') ORDER BY c.id"
            )
        ]
        countries = [
            r[0]
            for r in await conn.fetch(
                "SELECT c.country_code FROM city c JOIN city_membership m ON m.city_id = c.id "
                "WHERE m.status = 'signatory' GROUP BY c.country_code ORDER BY count(*) DESC LIMIT 2"
            )
        ]
    finally:
        await conn.close()
    rng = random.Random(seed)
    return {
        "signatory list": [
            *(f"/cities?page={n}" for n in range(1, 7)),
            *(f"/cities?sort=population&page={n}" for n in range(1, 4)),
            "/cities?sort=adhesion_date",
            *(f"/cities?country={c}" for c in countries),
        ],
        "city profile": [f"/cities/{city}" for city in rng.sample(public, min(40, len(public)))],
        "module dashboard": [
            *(f"/m/practices/?page={n}" for n in range(1, 5)),
            "/m/practices/?measure=lighting",
            "/m/practices/?measure=cpted",
            "/m/practices/?place_kind=square",
            "/m/practices/?place_kind=park",
            "/m/practices/?q=lighting",
        ],
        "JSON API list": [
            *(f"/api/v1/cities?page={n}" for n in range(1, 11)),
            "/api/v1/cities?sort=population",
            "/api/v1/cities?sort=adhesion_date&page=2",
        ],
    }


JSON_MODELS = {"JSON API list": "covenant.cities.schemas:CityList"}


def capture(options: Options, url: str, paths: dict[str, list[str]], target: Path) -> None:
    from benchmarks.ceiling import Target, capture_to_file
    from covenant.config import Settings
    from covenant.plugins import ModuleRegistry

    settings = Settings(database_url=url, broker_url="", secret_key=SECRET, var_dir=target.parent)
    targets = [Target(p, JSON_MODELS.get(page)) for page, urls in paths.items() for p in urls]
    asyncio.run(capture_to_file(settings, ModuleRegistry.from_entry_points(None), targets, target))


def serve_app(options: Options, url: str, processes: int, work: Path, *, cached: bool = True) -> Process:
    """``covenant serve`` as deployed; ``cached=False`` turns the public-page cache off, so every request
    takes the database path (what grows with the data)."""
    env = _run_env(url, options.redis_url, work / "var")
    if not cached:
        env["COVENANT_PUBLIC_CACHE_SECONDS"] = "0"
    args = [PYTHON, "-m", "covenant.cli", "serve", "--host", "127.0.0.1", "--port", str(options.port)]
    if processes > 1:
        args += ["--workers", str(processes)]
    return Process(f"app-{processes}{'' if cached else '-uncached'}", args, env, work)


def serve_ceiling(options: Options, url: str, processes: int, snapshots: Path, work: Path) -> Process:
    env = _run_env(url, options.redis_url, work / "var") | {"BENCH_CEILING_SNAPSHOTS": str(snapshots)}
    args = [
        PYTHON,
        "-m",
        "uvicorn",
        "benchmarks.ceiling:create_ceiling",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(options.port + 1),
        "--log-level",
        "warning",
        "--workers",
        str(processes),
    ]
    return Process(f"ceiling-{processes}", args, env, work)


def load_pages(
    options: Options, base: str, paths: dict[str, list[str]], work: Path, duration: float
) -> dict[str, Load]:
    results = {}
    for page in PAGES:
        for path in paths[page]:  # every URL once: templates compiled, statements prepared, caches warm
            with urllib.request.urlopen(base + path, timeout=120):  # noqa: S310 - our own local server
                pass
        wrk(base, paths[page], options.warmup, options.connections, work)
        results[page] = wrk(base, paths[page], duration, options.connections, work)
        options.echo(
            f"    {page:<18} {results[page].requests_per_second:8.1f} req/s  "
            f"p50 {results[page].p50_ms:7.1f} ms  p99 {results[page].p99_ms:7.1f} ms"
            + (f"  errors {results[page].errors}" if results[page].errors else "")
        )
    return results


def http(options: Options, url: str, work: Path) -> dict[str, Any]:
    paths = asyncio.run(choose_paths(url))
    snapshots = work / "ceiling.pickle"
    capture(options, url, paths, snapshots)
    rows: list[dict[str, Any]] = []
    rss: dict[str, float] = {}
    for processes in options.processes:
        measured: dict[str, dict[str, Load]] = {}
        for kind in VARIANTS:
            if kind != "ceiling":
                server = serve_app(options, url, processes, work, cached=kind == "covenant")
                base = f"http://127.0.0.1:{options.port}"
                ready = f"{base}/health/live"
            else:
                server = serve_ceiling(options, url, processes, snapshots, work)
                base = f"http://127.0.0.1:{options.port + 1}"
                ready = f"{base}/cities"
            with running(server):
                wait_http(ready, process=server)
                options.echo(f"  {kind}, {processes} process{'es' if processes > 1 else ''}:")
                measured[kind] = load_pages(options, base, paths, work, options.duration)
                peak = max((peak_rss_mb(p) for p in python_processes(server.pid)), default=0.0)
                rss[f"{kind}-{processes}"] = round(peak, 1)
        for page in PAGES:
            ceiling = measured["ceiling"][page]
            for kind in ("covenant", "uncached"):
                ours = measured[kind][page]
                ratio = ours.requests_per_second / ceiling.requests_per_second if ceiling.requests_per_second else 0.0
                rows.append(
                    {
                        "page": page,
                        "processes": processes,
                        "public_cache": kind == "covenant",
                        "covenant": ours.as_dict(),
                        "ceiling": ceiling.as_dict(),
                        "ratio": round(ratio, 3),
                        "meets_ratio": ratio >= TARGET_RATIO,
                        "meets_p99": ours.p99_ms < TARGET_P99_MS,
                    }
                )
    return {"connections": options.connections, "duration_s": options.duration, "rows": rows, "peak_rss_mb": rss}


# -- events ----------------------------------------------------------------------------------------------


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def events(options: Options, url: str, work: Path, *, burst: int | None = None, full: bool = True) -> dict[str, Any]:
    """The bus end to end against raw Dramatiq; ``full=False`` (the growth points) only bursts, for memory."""
    from benchmarks import events as bench_events
    from covenant.config import Settings
    from covenant.db import create_engine

    total = burst or options.burst
    window = options.window if full else options.window / 2
    flush_redis(options.redis_url)
    flush_redis(options.raw_redis_url)
    env = _run_env(url, options.redis_url, work / "var")
    worker = Process("events-worker", [PYTHON, "-m", "benchmarks.events", "worker"], env, work)
    relay = Process("events-relay", [PYTHON, "-m", "benchmarks.events", "relay"], env, work)
    processes = [worker, relay]
    if full:
        processes.append(
            Process("raw-worker", [PYTHON, "-m", "benchmarks.events", "raw-worker", options.raw_redis_url], env, work)
        )
    result: dict[str, Any] = {"worker_threads": bench_events.WORKER_THREADS}
    with running(*processes):
        for process in processes:
            process.wait_for_line("ready")
        settings = Settings(database_url=url, broker_url=options.redis_url, secret_key=SECRET, var_dir=work)

        async def drive() -> None:
            engine = create_engine(settings)
            try:
                cities = await bench_events.city_ids(engine)
                await bench_events.burst(engine, 500, cities, window=20)  # warm-up
                flush_redis(options.redis_url)
                result["covenant"] = await bench_events.burst(engine, total, cities, window=window)
                options.echo(
                    f"  covenant end to end: {result['covenant']['per_second']:,.0f} events/s "
                    f"({result['covenant']['applied']:,} of {total:,} applied in {result['covenant']['seconds']} s)"
                )
                await bench_events.clear(engine)
                flush_redis(options.redis_url)  # what the worker did not reach must not slow the next phase
                if full:
                    await asyncio.sleep(1)
                    result["steady"] = await bench_events.steady(
                        engine, options.steady_rate, options.steady_seconds, cities
                    )
                    options.echo(
                        f"  at {options.steady_rate:,}/s: lag p50 {result['steady']['lag_p50_s']} s, "
                        f"p99 {result['steady']['lag_p99_s']} s"
                        + (" (lower bounds: some events still waited)" if result["steady"]["censored"] else "")
                    )
                    await bench_events.clear(engine)
                    flush_redis(options.redis_url)
            finally:
                await engine.dispose()

        asyncio.run(drive())
        result["peak_rss_mb"] = {"worker": round(peak_rss_mb(worker.pid), 1), "relay": round(peak_rss_mb(relay.pid), 1)}
        if full:
            bench_events.raw_throughput(options.raw_redis_url, 1_000, window=20)  # warm-up
            result["raw"] = bench_events.raw_throughput(options.raw_redis_url, total, window=window)
            options.echo(f"  raw Dramatiq no-op:  {result['raw']['per_second']:,.0f} events/s")
            result["peak_rss_mb"]["raw_worker"] = round(peak_rss_mb(processes[2].pid), 1)
    if full:
        raw_rate = result["raw"]["per_second"]
        ratio = result["covenant"]["per_second"] / raw_rate if raw_rate else 0.0
        result["ratio"] = round(ratio, 3)
        result["meets_ratio"] = ratio >= TARGET_RATIO
        result["meets_lag"] = result["steady"]["lag_p99_s"] < TARGET_LAG_P99_S
    return result


# -- cycle and assessment --------------------------------------------------------------------------------


def cycle(options: Options, url: str, work: Path) -> dict[str, Any]:
    """Open, matrix page, fill, close and report at the main scale, with two worker processes and a relay."""
    if not (ROOT / "platform" / "covenant" / "monitoring" / "services.py").exists():
        return {"status": "pending", "reason": "platform/covenant/monitoring/services.py does not exist yet"}
    from benchmarks.cycle import cycle_run
    from covenant.config import Settings

    flush_redis(options.redis_url)
    env = _run_env(url, options.redis_url, work / "var")
    workers = [Process(f"cycle-worker-{n}", [PYTHON, "-m", "benchmarks.cycle", "worker"], env, work) for n in (1, 2)]
    relay = Process("cycle-relay", [PYTHON, "-m", "benchmarks.cycle", "relay"], env, work)
    with running(*workers, relay):
        for process in workers:
            process.wait_for_line("worker ready")
        relay.wait_for_line("relay ready")
        settings = Settings(database_url=url, broker_url=options.redis_url, secret_key=SECRET, var_dir=work / "var")
        result = asyncio.run(cycle_run(settings, echo=options.echo))
        result["worker_processes"] = len(workers)
        result["peak_rss_mb"] = {p.name: round(peak_rss_mb(p.pid), 1) for p in [*workers, relay]}
    return result


def assessment() -> dict[str, Any]:
    """The assessment module's own benchmarks (written with the module): the engine, and the dashboard page."""
    if not (ROOT / "benchmarks" / "assessment_engine.py").exists():
        return {"status": "pending", "reason": "benchmarks/assessment_engine.py does not exist yet"}
    result: dict[str, Any] = {"engine": importlib.import_module("benchmarks.assessment_engine").run()}
    if (ROOT / "benchmarks" / "assessment_dashboard.py").exists():
        result["dashboard"] = importlib.import_module("benchmarks.assessment_dashboard").run()
    return result


# -- memory and growth -----------------------------------------------------------------------------------


def growth_point(options: Options, url: str, cities: int, work: Path) -> dict[str, Any]:
    """Web and worker peak RSS under a short load, and the pages' latency, at one scale."""
    paths = asyncio.run(choose_paths(url))
    server = serve_app(options, url, 1, work, cached=False)  # what grows with the data is the database path
    with running(server):
        wait_http(f"http://127.0.0.1:{options.port}/health/live", process=server)
        pages = load_pages(options, f"http://127.0.0.1:{options.port}", paths, work, min(options.duration, 5))
        web = max(peak_rss_mb(p) for p in python_processes(server.pid))
    bus = events(options, url, work, burst=min(options.burst, 5_000), full=False)
    return {
        "cities": cities,
        "web_peak_rss_mb": round(web, 1),
        "worker_peak_rss_mb": bus["peak_rss_mb"]["worker"],
        "pages": {page: load.as_dict() for page, load in pages.items()},
        "events_per_second": bus["covenant"]["per_second"],
    }


def point_from(results: dict[str, Any], cities: int) -> dict[str, Any]:
    """The growth point of the main scale, from the HTTP and events sections already measured."""
    rows = [r for r in results["http"]["rows"] if r["processes"] == 1 and not r.get("public_cache", True)]
    rss = results["http"]["peak_rss_mb"]
    return {
        "cities": cities,
        "web_peak_rss_mb": max(rss.get("covenant-1", 0.0), rss.get("uncached-1", 0.0)),
        "worker_peak_rss_mb": results["events"]["peak_rss_mb"]["worker"],
        "pages": {r["page"]: r["covenant"] for r in rows},
        "events_per_second": results["events"]["covenant"]["per_second"],
    }


# -- the report ------------------------------------------------------------------------------------------


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"# Covenant benchmarks — {results['date']}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']}; "
        f"load average at start {', '.join(str(x) for x in m['load_average_at_start'])}. "
        f"PostgreSQL and Redis on the same machine. {results['cities']:,} cities. Run took "
        f"{results['seconds'] / 60:.1f} min.",
    ]
    if results.get("note"):
        lines += ["", f"**Note:** {results['note']}"]
    scale = results.get("scale", {})
    if scale:
        lines += ["", "## Scale data", "", "| backend | cities | rows | seconds | target < 120 s |"]
        lines.append("|---|---:|---:|---:|---|")
        for backend, figures in scale.items():
            if "seconds" in figures:
                lines.append(
                    f"| {backend} | {figures.get('cities', results['cities']):,} | {figures['rows']:,} | "
                    f"{figures['seconds']} | {'yes' if figures['seconds'] < 120 else 'NO'} |"
                )
    http_results = results.get("http", {})
    if http_results.get("rows"):
        lines += [
            "",
            f"## HTTP ({http_results['connections']} connections, {http_results['duration_s']:.0f} s per run, wrk)",
            "",
            "Covenant as deployed answers anonymous reads of these public pages from each process's memory "
            "(``COVENANT_PUBLIC_CACHE_SECONDS``; a write retires them); the rows marked *off* are the same "
            "app with that cache turned off, every request reading PostgreSQL.",
            "",
            "| page | processes | public cache | Covenant req/s | p50 ms | p99 ms | ceiling req/s | ceiling p99 ms | "
            "ratio | ≥ 50 % | p99 < 100 ms |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for row in http_results["rows"]:
            ours, ceiling = row["covenant"], row["ceiling"]
            lines.append(
                f"| {row['page']} | {row['processes']} | {'on' if row.get('public_cache', True) else '*off*'} | "
                f"{ours['requests_per_second']:,.0f} | {ours['p50_ms']:.1f} | "
                f"{ours['p99_ms']:.1f} | {ceiling['requests_per_second']:,.0f} | {ceiling['p99_ms']:.1f} | "
                f"{percent(row['ratio'])} | {'yes' if row['meets_ratio'] else 'NO'} | "
                f"{'yes' if row['meets_p99'] else 'NO'} |"
            )
    bus = results.get("events", {})
    if "covenant" in bus:
        lines += [
            "",
            "## Events (outbox → relay → Redis → worker → handler committed)",
            "",
            "| measure | Covenant | raw Dramatiq no-op | ratio | target |",
            "|---|---:|---:|---:|---|",
            f"| throughput: a burst of {bus['covenant']['events']:,} events, 1 worker process x "
            f"{bus['worker_threads']} threads (events applied / seconds) | "
            f"{bus['covenant']['per_second']:,.0f}/s | {bus['raw']['per_second']:,.0f}/s | {percent(bus['ratio'])} | "
            f"≥ 50 %: {'yes' if bus['meets_ratio'] else 'NO'} |",
        ]
        if "steady" in bus:
            s = bus["steady"]
            bound = "≥ " if s["censored"] else ""
            lines.append(
                f"| lag at {s['target_per_second']:,} events/s for {s['events'] // s['target_per_second']} s "
                f"(recorded {s['recorded_per_second']:,.0f}/s; {s['applied']:,} of {s['events']:,} applied) | "
                f"p50 {bound}{s['lag_p50_s']} s, p99 {bound}{s['lag_p99_s']} s | — | — | "
                f"p99 < 1 s: {'yes' if bus['meets_lag'] else 'NO'} |"
            )
    cycle_section = results.get("cycle") or {}
    if "open" in cycle_section:
        c = cycle_section
        lines += [
            "",
            f"## Yearly monitoring cycle ({c.get('signatories', 0):,} signatories, {len(c['modules'])} modules, "
            f"{c.get('worker_processes', 2)} worker processes)",
            "",
            "| step | measured | target |",
            "|---|---:|---|",
            f"| open: {c['open']['sections']:,} sections, then every module's part | {c['open']['seconds']} s | "
            f"< 30 s: {'yes' if c['open']['ok'] else 'NO'} |",
            f"| admin matrix page (median of {c['matrix']['requests']}) | {c['matrix']['median_ms']} ms | "
            f"< 300 ms: {'yes' if c['matrix']['ok'] else 'NO'} |",
            f"| fill: {c['fill']['sections_submitted']:,} sections submitted (one statement) | "
            f"{c['fill']['seconds']} s | — |",
            f"| close, then every module freezes its year | {c['close']['seconds']} s | — |",
            f"| compile the report | {c['report']['seconds']} s | < 30 s: {'yes' if c['report']['ok'] else 'NO'} |",
        ]
    for title, key in (("Yearly monitoring cycle", "cycle"), ("Assessment", "assessment")):
        if key == "cycle" and "open" in cycle_section:
            continue
        section = results.get(key)
        if section is None:
            continue
        lines += ["", f"## {title}", ""]
        if section.get("status") == "pending":
            lines.append(f"Pending: {section['reason']}.")
        else:
            lines += ["```json", json.dumps(section, indent=2, default=str), "```"]
    memory = results.get("memory", {})
    if memory.get("points"):
        lines += [
            "",
            "## Memory and growth (peak RSS under load; pages' p50 at each scale, 1 process)",
            "",
            "| cities | web MB | worker MB | " + " | ".join(f"{p} p50 ms" for p in PAGES) + " |",
            "|---:|---:|---:|" + "---:|" * len(PAGES),
        ]
        for point in memory["points"]:
            lines.append(
                f"| {point['cities']:,} | {point['web_peak_rss_mb']} | {point['worker_peak_rss_mb']} | "
                + " | ".join(f"{point['pages'][p]['p50_ms']:.1f}" for p in PAGES)
                + " |"
            )
        if memory.get("verdict"):
            lines += ["", memory["verdict"]]
    errors = results.get("errors", {})
    if errors:
        lines += ["", "## Sections that failed", ""]
        lines += [f"- {name}: {message}" for name, message in errors.items()]
    return "\n".join(lines) + "\n"


def memory_verdict(points: list[dict[str, Any]], http_rss: dict[str, float]) -> tuple[str, dict[str, Any]]:
    web = max([p["web_peak_rss_mb"] for p in points] + list(http_rss.values()) or [0])
    worker = max([p["worker_peak_rss_mb"] for p in points] or [0])
    summary = {"web_peak_mb": round(web, 1), "worker_peak_mb": round(worker, 1)}
    summary["meets_rss"] = web < TARGET_RSS_MB and worker < TARGET_RSS_MB
    if len(points) >= 2:
        low, high = points[0], points[-1]
        scale = high["cities"] / low["cities"]
        summary["web_growth"] = round(high["web_peak_rss_mb"] / low["web_peak_rss_mb"], 2)
        summary["worker_growth"] = round(high["worker_peak_rss_mb"] / low["worker_peak_rss_mb"], 2)
        summary["page_p50_growth"] = {
            p: round(high["pages"][p]["p50_ms"] / max(low["pages"][p]["p50_ms"], 0.01), 2) for p in PAGES
        }
        summary["scale"] = scale
    text = (
        f"Peak RSS: web {web:.0f} MB, worker {worker:.0f} MB (target < {TARGET_RSS_MB:.0f} MB each: "
        f"{'met' if summary['meets_rss'] else 'NOT met'})."
    )
    if "scale" in summary:
        text += (
            f" From {points[0]['cities']:,} to {points[-1]['cities']:,} cities (x{summary['scale']:.0f}) the web "
            f"process grew x{summary['web_growth']}, the worker x{summary['worker_growth']}."
        )
    return text, summary


def write_results(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = results["date"].replace(":", "").replace("-", "")[:13]
    body = json.dumps(results, indent=2, default=str)
    text = markdown(results)
    (RESULTS / "latest.json").write_text(body + "\n")
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / f"{stamp}.json").write_text(body + "\n")
    (RESULTS / f"{stamp}.md").write_text(text)
    return RESULTS / "latest.md"


# -- main ------------------------------------------------------------------------------------------------


def section(results: dict[str, Any], name: str, options: Options, run: Callable[[], Any]) -> Any:
    if not options.wants(name):
        return None
    options.echo(f"[{name}]")
    started = time.perf_counter()
    try:
        value = run()
    except Exception as exc:
        results.setdefault("errors", {})[name] = f"{type(exc).__name__}: {str(exc)[:500]}"
        options.echo(f"  FAILED: {type(exc).__name__}: {exc}")
        return None
    options.echo(f"  ({time.perf_counter() - started:.0f} s)")
    return value


def run(options: Options) -> dict[str, Any]:
    if shutil.which("wrk") is None and options.wants("http"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "cities": options.cities,
        "scale": {},
    }
    main_url = options.database_url
    with tempfile.TemporaryDirectory(prefix="covenant-bench-") as folder:
        work = Path(folder)
        generation = section(results, "generate", options, lambda: prepare(options, main_url, options.cities))
        if generation and "seconds" in generation:
            results["scale"]["postgresql"] = {**generation, "cities": options.cities}
        if options.sqlite and options.wants("generate"):
            sqlite = section(results, "generate-sqlite", options, lambda: generate_sqlite(options))
            if sqlite:
                results["scale"]["sqlite"] = {**sqlite, "cities": options.cities}
        http_results = section(results, "http", options, lambda: http(options, main_url, work))
        if http_results:
            results["http"] = http_results
        bus = section(results, "events", options, lambda: events(options, main_url, work))
        if bus:
            results["events"] = bus
        cycle_results = section(results, "cycle", options, lambda: cycle(options, main_url, work))
        if cycle_results:
            results["cycle"] = cycle_results
        assessment_results = section(results, "assessment", options, assessment)
        if assessment_results:
            results["assessment"] = assessment_results
        if options.wants("memory"):
            points: list[dict[str, Any]] = []
            scales = [options.small, options.cities] + ([100_000] if options.full else [])
            for cities in scales:
                url = main_url if cities == options.cities else database_url_for(main_url, f"_{cities}")

                def point(url: str = url, cities: int = cities) -> dict[str, Any]:
                    if url == main_url and "http" in results and "events" in results:
                        return point_from(results, cities)
                    if url != main_url:
                        prepare(options, url, cities)
                    return growth_point(options, url, cities, work)

                measured = section(results, f"memory-{cities}", options, point)
                if measured:
                    points.append(measured)
            http_rss = {
                k: v for k, v in (results.get("http", {}).get("peak_rss_mb") or {}).items() if "ceiling" not in k
            }
            verdict, summary = memory_verdict(points, http_rss)
            results["memory"] = {"points": points, "summary": summary, "verdict": verdict}
    results["seconds"] = round(time.perf_counter() - started, 1)
    path = write_results(results)
    options.echo(f"results: {path} (and latest.json); {results['seconds'] / 60:.1f} min")
    return results


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description="The Covenant benchmark suite.")
    parser.add_argument("--cities", type=int, default=10_000, help="Scale of the main run (default 10,000).")
    parser.add_argument("--full", action="store_true", help="Also measure growth at 100,000 cities.")
    parser.add_argument("--quick", action="store_true", help="1,000 cities, 3 s per load, 1 process: a smoke run.")
    parser.add_argument("--duration", type=float, default=8.0, help="Seconds of each wrk run (default 8).")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--processes", default="1,2", help="Server process counts to measure (default 1,2).")
    parser.add_argument("--only", default="", help="Comma-separated sections: generate,http,events,cycle,...")
    parser.add_argument("--reuse", action="store_true", help="Keep a database that already holds the same scale.")
    parser.add_argument("--no-sqlite", action="store_true", help="Skip timing the generation on SQLite.")
    parser.add_argument("--port", type=int, default=8710)
    args = parser.parse_args(list(argv) if argv is not None else None)
    options = Options(
        database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        raw_redis_url=os.environ.get("BENCH_RAW_REDIS_URL", DEFAULT_RAW_REDIS_URL),
        cities=args.cities,
        full=args.full,
        duration=args.duration,
        connections=args.connections,
        processes=tuple(int(p) for p in args.processes.split(",") if p.strip()),
        only=frozenset(s.strip() for s in args.only.split(",") if s.strip()),
        reuse=args.reuse,
        sqlite=not args.no_sqlite,
        port=args.port,
    )
    if args.quick:
        options.cities, options.small, options.duration, options.warmup = 1_000, 200, 3.0, 1.0
        options.processes, options.burst, options.steady_seconds, options.window = (1,), 3_000, 3.0, 10.0
    return options


def main(argv: Sequence[str] | None = None) -> None:
    sys.path[:0] = [str(ROOT / "platform")] if str(ROOT / "platform") not in sys.path else []
    run(parse(argv))


if __name__ == "__main__":
    main()
