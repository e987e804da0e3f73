"""The image's health check, for every role of the one image (Docker HEALTHCHECK, Kubernetes exec probes).

- ``covenant serve``: ``GET /health/live`` on the port it serves must answer 200.
- ``covenant worker`` / ``relay`` / ``scheduler`` (no HTTP port): the database and the broker named in
  ``COVENANT_DATABASE_URL`` and ``COVENANT_BROKER_URL`` must accept TCP connections — a worker that cannot
  reach them cannot do its job, and restarting it is the cure once they are back.
- anything else (``db upgrade``, a one-off command): healthy while it runs.

Standard library only: it runs every few seconds and must start fast.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}


def command_line(pid: int = 1) -> list[str]:
    """The container's main command (PID 1 is tini, whose arguments are the real command)."""
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def role(argv: list[str]) -> str:
    for word in ("serve", "worker", "relay", "scheduler"):
        if word in argv:
            return word
    return "other"


def option(argv: list[str], name: str, default: str) -> str:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


def web_is_live(argv: list[str]) -> bool:
    port = int(option(argv, "--port", "8000"))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=4) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def reachable(url: str) -> bool:
    """True when the host of ``url`` accepts a TCP connection (or when ``url`` names no network service)."""
    if not url or url.startswith(("sqlite", "memory")):
        return True
    parts = urlsplit(url.replace("+asyncpg", ""))
    if not parts.hostname:
        return True
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    try:
        with socket.create_connection((parts.hostname, port), timeout=3):
            return True
    except OSError:
        return False


def healthy(argv: list[str]) -> bool:
    kind = role(argv)
    if kind == "serve":
        return web_is_live(argv)
    if kind in {"worker", "relay", "scheduler"}:
        return all(reachable(os.environ.get(name, "")) for name in ("COVENANT_DATABASE_URL", "COVENANT_BROKER_URL"))
    return True


def main() -> int:
    try:
        argv = command_line()
    except OSError:
        argv = sys.argv[1:]
    ok = healthy(argv)
    if not ok:
        print(f"covenant {role(argv)}: unhealthy", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
