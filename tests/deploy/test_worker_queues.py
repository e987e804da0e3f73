"""`covenant worker --queue SLUG`: the worker Deployments of deploy/k8s name one queue each, including modules
that subscribe to nothing yet (their worker idles, and picks up the module's events once it subscribes)."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from covenant.config import Settings
from covenant.events import cli as events_cli
from covenant.events.catalogue import build_catalogue
from covenant.plugins import ActionModule, ModuleRegistry

QUIET = ActionModule(slug="quiet", title="Quiet", action=6, summary="A module that subscribes to nothing.")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    registry = ModuleRegistry([QUIET])
    settings = Settings(broker_url="redis://127.0.0.1:6379/15")
    calls: list[list[str]] = []

    def run_worker(threads: int, queues: list[str], prefetch: int, echo: bool = True) -> Any:
        calls.append(queues)

    monkeypatch.setattr(events_cli, "_context", lambda: (settings, registry, build_catalogue(registry)))
    monkeypatch.setattr(events_cli, "_run_worker", run_worker)
    return calls


def test_a_module_queue_without_subscribers_is_accepted_and_said_to_be_idle(started: list[list[str]]) -> None:
    result = CliRunner().invoke(events_cli.worker, ["--queue", "quiet", "--threads", "2"])
    assert result.exit_code == 0, result.output
    assert "no subscriber on queue(s) quiet yet" in result.output
    assert started == [["quiet"]]


def test_an_unknown_queue_is_refused(started: list[list[str]]) -> None:
    result = CliRunner().invoke(events_cli.worker, ["--queue", "core", "--queue", "qiuet"])
    assert result.exit_code != 0
    assert "unknown queue(s): qiuet" in result.output
    assert "known: core, quiet" in result.output
    assert started == []


def test_without_queue_every_queue_with_subscribers(started: list[list[str]]) -> None:
    result = CliRunner().invoke(events_cli.worker, [])
    assert result.exit_code == 0, result.output
    assert started == [["core"]]
    assert "no subscriber" not in result.output
