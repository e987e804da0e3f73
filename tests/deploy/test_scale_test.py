"""The parts of scripts/scale_test.py (``make scale-test``) that its verdict rests on, checked quickly: the
SMTP sink really receives what the platform's mail sender sends, a mail is recognised by its id (so a
duplicate delivery would be counted), and the summary fails on any failed check."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from types import ModuleType

import pytest

from covenant.config import Settings
from covenant.db import new_id
from covenant.notifications.mail import _as_email, _send_smtp
from covenant.notifications.models import MailMessage
from tests.deploy.conftest import ROOT


@pytest.fixture(scope="module")
def scale_test() -> ModuleType:
    spec = importlib.util.spec_from_file_location("covenant_scale_test", ROOT / "scripts" / "scale_test.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_the_smtp_sink_receives_the_platforms_mail_once_per_send(scale_test: ModuleType) -> None:
    sink = scale_test.SmtpSink()
    await sink.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=sink.port, smtp_starttls=False)
        mail = MailMessage(
            id=new_id(), to_address="mayor@city.eu", subject="Réinitialiser", body_text="Lien : https://x/y\n.\n..z"
        )
        await asyncio.to_thread(_send_smtp, settings, _as_email(settings, mail))
        await asyncio.to_thread(_send_smtp, settings, _as_email(settings, mail))
    finally:
        await sink.stop()
    assert len(sink.messages) == 2
    received = sink.mails_to("mayor@city.eu")
    assert received[0]["Subject"] == "Réinitialiser"
    assert received[0].get_body(preferencelist=("plain",)).get_content().splitlines()[1:] == [".", "..z"]
    ids = [scale_test.UUID_PATTERN.search(str(m["Message-ID"])).group(0) for m in received]
    assert ids == [str(mail.id), str(mail.id)], "a second delivery of the same mail is recognisable"


def test_the_summary_fails_on_a_failed_check(scale_test: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    run = scale_test.ScaleTest(scale_test.parse_args(["--redis-db", "15"]))
    assert run.summary() == 1, "no check at all is a failure"
    run.checks.check(True, "one good thing")
    assert run.summary() == 0
    run.checks.check(False, "one bad thing", "details")
    assert run.summary() == 1
    out = capsys.readouterr().out
    assert "FAIL  one bad thing: details" in out
    assert "\nscale-test: 1 passed, 1 failed\n" in out


def test_arguments(scale_test: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COVENANT_SCALE_REDIS_DB", "9")
    args = scale_test.parse_args([])
    assert args.redis_db == 9
    assert args.pg.startswith("postgresql://")
    assert args.progress == [30, 60, 100]
    assert scale_test.parse_args(["--redis-db", "3", "--mayors", "2"]).mayors == 2
