"""deploy/Dockerfile and the image's health check.

The Dockerfile is read instruction by instruction (multi-stage, non-root, runtime dependencies only, a
health check, one image for every role). Building it needs a Docker engine and a registry for the base
image: ``COVENANT_TEST_DOCKER=1`` runs that build here too (``COVENANT_TEST_DOCKER_BASE_IMAGE`` may name a
local Debian bookworm image).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import ModuleType

import pytest

from tests.deploy.conftest import DEPLOY, ROOT

Instruction = tuple[str, str]


def instructions(path: Path = DEPLOY / "Dockerfile") -> list[Instruction]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical]


def stages() -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def test_multi_stage_with_a_lean_non_root_runtime() -> None:
    build, runtime = stages()
    assert build[0] == ("FROM", "${BASE_IMAGE} AS build")
    assert runtime[0] == ("FROM", "${BASE_IMAGE} AS runtime")
    runtime_text = " ".join(arguments for _, arguments in runtime)
    for build_only in ("python3-venv", "python3-pip", "python3-dev", "build-essential", "gcc", "git "):
        assert build_only not in runtime_text, f"{build_only} in the runtime stage"
    copies = [arguments for name, arguments in runtime if name == "COPY"]
    assert copies == ["--from=build /opt/covenant /opt/covenant"]
    (user,) = [arguments for name, arguments in runtime if name == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0, "runs as an unprivileged user (numeric, so Kubernetes can check runAsNonRoot)"
    assert int(uid) == 10001, "the manifests' runAsUser"
    (healthcheck,) = [arguments for name, arguments in runtime if name == "HEALTHCHECK"]
    assert "/opt/covenant/healthcheck.py" in healthcheck
    (entrypoint,) = [arguments for name, arguments in runtime if name == "ENTRYPOINT"]
    assert entrypoint == '["tini", "--", "covenant"]', "every role is `covenant <command>`"
    (command,) = [arguments for name, arguments in runtime if name == "CMD"]
    assert command.startswith('["serve"')
    assert ("EXPOSE", "8000") in runtime


def test_build_stage_installs_runtime_dependencies_only() -> None:
    build, _ = stages()
    text = " ".join(arguments for _, arguments in build)
    assert "['project']['dependencies']" in text, "the dependency layer reads pyproject.toml's runtime list"
    assert "[dev]" not in text
    assert "pip install --no-deps -e ." in text
    assert "pip uninstall -y pip setuptools" in text, "no installer left in the image"


def test_everything_copied_exists_and_is_not_docker_ignored() -> None:
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    for must in (".git", ".venv", ".env", "**/*.env", "tests", "var"):
        assert must in ignored, f".dockerignore must exclude {must}"
    build, _ = stages()
    for name, arguments in build:
        if name != "COPY" or arguments.startswith("--from"):
            continue
        *sources, _destination = arguments.split()
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert source.split("/")[0] not in ignored, f"COPY {source}: excluded by .dockerignore"


@pytest.mark.skipif(os.environ.get("COVENANT_TEST_DOCKER") != "1", reason="set COVENANT_TEST_DOCKER=1 (engine needed)")
def test_the_image_builds_and_runs_as_non_root() -> None:
    docker = shutil.which("docker")
    assert docker, "COVENANT_TEST_DOCKER=1 but no docker CLI"
    base = os.environ.get("COVENANT_TEST_DOCKER_BASE_IMAGE", "debian:bookworm-slim")
    tag = "covenant:test"
    build = [docker, "build", "--network", "host", "-f", "deploy/Dockerfile", "--build-arg", f"BASE_IMAGE={base}"]
    subprocess.run([*build, "-t", tag, "."], cwd=ROOT, check=True, timeout=1800)
    run = [docker, "run", "--rm", "--network", "host"]
    assert "Usage: covenant" in subprocess.run([*run, tag, "--help"], capture_output=True, text=True, check=True).stdout
    identity = subprocess.run([*run, "--entrypoint", "id", tag], capture_output=True, text=True, check=True).stdout
    assert identity.startswith("uid=10001(covenant)")
    probe = subprocess.run(
        [*run, "--entrypoint", "python3", tag, "-c", "import pip"], capture_output=True, text=True, check=False
    )
    assert probe.returncode != 0, "pip is not in the runtime image"


# -- deploy/healthcheck.py ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("covenant_healthcheck", DEPLOY / "healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Live(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_role_and_port_come_from_the_container_command(healthcheck: ModuleType) -> None:
    argv = ["tini", "--", "covenant", "serve", "--host", "0.0.0.0", "--port", "9000"]  # noqa: S104 - a command line, not a bind
    assert healthcheck.role(argv) == "serve"
    assert healthcheck.option(argv, "--port", "8000") == "9000"
    assert healthcheck.option(["covenant", "serve", "--port=8100"], "--port", "8000") == "8100"
    assert healthcheck.role(["tini", "--", "covenant", "worker", "--queue", "core"]) == "worker"
    assert healthcheck.role(["tini", "--", "covenant", "db", "upgrade"]) == "other"
    assert healthcheck.command_line(os.getpid())[0].endswith(("python", "python3", Path(sys.executable).name))


def test_web_is_healthy_while_health_live_answers(healthcheck: ModuleType) -> None:
    server = HTTPServer(("127.0.0.1", 0), Live)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    argv = ["covenant", "serve", "--port", str(port)]
    try:
        assert healthcheck.healthy(argv)
        Live.status = 503
        assert not healthcheck.healthy(argv)
    finally:
        Live.status = 200
        server.shutdown()
        server.server_close()
    assert not healthcheck.healthy(argv), "nobody listening"


def test_backends_are_healthy_while_database_and_broker_accept_connections(
    healthcheck: ModuleType, listening: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["tini", "--", "covenant", "relay"]
    monkeypatch.setenv("COVENANT_DATABASE_URL", f"postgresql+asyncpg://u:p@127.0.0.1:{listening}/covenant")
    monkeypatch.setenv("COVENANT_BROKER_URL", f"redis://:secret@127.0.0.1:{listening}/0")
    assert healthcheck.healthy(argv)
    monkeypatch.setenv("COVENANT_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert not healthcheck.healthy(argv)
    monkeypatch.setenv("COVENANT_BROKER_URL", "")
    monkeypatch.setenv("COVENANT_DATABASE_URL", "")
    assert healthcheck.healthy(argv), "embedded settings: nothing to reach"
    assert healthcheck.healthy(["covenant", "db", "upgrade"])
