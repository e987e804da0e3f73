"""The command line: start-up problems stop with one clear line, not a traceback wall."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COVENANT = [sys.executable, "-m", "covenant.cli"]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
    environ |= {"COVENANT_VAR_DIR": str(tmp_path / "var"), "COVENANT_SECRET_KEY": "s" * 40} | env
    return subprocess.run(
        [*COVENANT, *args], capture_output=True, text=True, env=environ, timeout=120, check=False, cwd=tmp_path
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(["--help"], tmp_path)
    assert result.returncode == 0
    for command in ("serve", "worker", "relay", "scheduler", "db", "demo", "users", "events", "modules"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"COVENANT_LOG_LEVEL": "LOUD"}, "setting COVENANT_LOG_LEVEL is invalid"),
        ({"COVENANT_DATABASE_URL": "mysql://x"}, "setting COVENANT_DATABASE_URL is invalid"),
        ({"COVENANT_BROKER_URL": "kafka://x"}, "setting COVENANT_BROKER_URL is invalid"),
        ({"COVENANT_MODULES": "nosuchmodule"}, "not installed: nosuchmodule"),
    ],
)
def test_bad_settings_stop_startup_with_one_line(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    result = run(["modules", "list"], tmp_path, **env)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_database_stops_upgrade_with_one_line(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], tmp_path, COVENANT_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/x")
    assert result.returncode == 2
    assert "cannot reach" in result.stderr
    assert "Traceback" not in result.stderr


def test_modules_list_with_zero_modules(tmp_path: Path) -> None:
    result = run(["modules", "list"], tmp_path, COVENANT_MODULES="")
    assert result.returncode == 0, result.stderr


def test_upgrade_then_check_on_a_fresh_sqlite_database(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    check = run(["db", "check"], tmp_path)
    assert check.returncode == 0, check.stderr
    assert (tmp_path / "var" / "covenant.db").exists()


def test_module_commands_are_mounted_under_the_module_slug(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import click
    from click.testing import CliRunner
    from covenant_testmodule.plugin import module as testmodule

    from covenant import cli as cli_module
    from covenant.plugins import ModuleRegistry

    @click.command("count", help="Count to N.")
    @click.argument("n", type=int)
    def count(n: int) -> None:
        click.echo(",".join(str(i) for i in range(1, n + 1)))

    registry = ModuleRegistry([dataclasses.replace(testmodule, commands=[count])])
    monkeypatch.setattr(cli_module, "load_registry", lambda settings: registry)
    try:
        cli_module._register_module_commands()
        result = CliRunner().invoke(cli_module.cli, ["testmodule", "count", "3"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == "1,2,3"
        assert "Test module" in CliRunner().invoke(cli_module.cli, ["--help"]).output
    finally:
        cli_module.cli.commands.pop("testmodule", None)
