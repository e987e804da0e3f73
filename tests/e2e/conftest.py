"""Real-browser fixtures: the app served by ``covenant serve`` on a free port of 127.0.0.1 with demo data,
Debian's chromium driven by Playwright, axe-core for accessibility, screenshots when a test fails.

The server runs the embedded default (SQLite under a temporary ``COVENANT_VAR_DIR``, in-process broker),
exactly as a newcomer's ``make demo``: migrated by ``covenant db upgrade``, filled by ``covenant demo``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import ARTEFACTS, AxeRecorder, Site

CHROMIUM = os.environ.get("COVENANT_E2E_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and item.get_closest_marker("e2e") is None:
            raise pytest.UsageError(f"{item.nodeid}: every test under tests/e2e must be marked pytest.mark.e2e")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _covenant(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("covenant")), *args],
        env=env,
        cwd=env["COVENANT_VAR_DIR"],  # not the checkout: a developer's .env must not leak in
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"covenant {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"covenant serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=2) as answer:  # noqa: S310 (our own server)
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"covenant serve not ready after {timeout}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """The app as a person meets it: its own process, its own database, demo data loaded.

    ``COVENANT_E2E_URL`` (with ``COVENANT_E2E_ADMIN=email:password``) points the journeys at a server already
    running with demo data instead, which saves the minute of setting one up while writing a test."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)")
    if url := os.environ.get("COVENANT_E2E_URL"):
        email, _sep, secret = os.environ.get("COVENANT_E2E_ADMIN", "").partition(":")
        yield Site(url.rstrip("/"), email, secret, Path(tempfile.gettempdir()))
        return
    var_dir = Path(tempfile.mkdtemp(prefix="covenant-e2e-"))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVENANT_")}
    env |= {
        "COVENANT_VAR_DIR": str(var_dir),
        "COVENANT_BASE_URL": base_url,
        "COVENANT_SECRET_KEY": "e2e-secret-key-that-is-long-enough-for-signing-things",
        # Each journey signs in a handful of times from the same address.
        "COVENANT_LOGIN_ATTEMPTS_PER_MINUTE": "100",
    }
    _covenant("db", "upgrade", env=env)
    printed = _covenant("demo", env=env)
    admin = re.search(r"Administrator:\s*(\S+)", printed)
    password = re.search(r"Password:\s*(\S+)", printed)
    assert admin, f"covenant demo did not print the administrator:\n{printed}"
    assert password, f"covenant demo did not print the password:\n{printed}"
    log = var_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("covenant")), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=var_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base_url, process, log)
        yield Site(base_url, admin.group(1), password.group(1), var_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, ARTEFACTS / "serve.log")
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_recorder() -> Iterator[AxeRecorder]:
    recorder = AxeRecorder()
    yield recorder
    recorder.write(ARTEFACTS / "axe-summary.md")


class Browsing:
    """Opens browser contexts (one per person) and, when the test fails, saves each open page's
    screenshot at desktop and phone widths and its HTML under the artefacts folder."""

    def __init__(self, browser: object, site: Site, axe: AxeRecorder) -> None:
        self.browser = browser
        self.site = site
        self.axe = axe
        self.contexts: list[tuple[str, object]] = []

    def person(self, who: str, *, javascript: bool = True) -> object:
        context = self.browser.new_context(  # type: ignore[attr-defined]
            base_url=self.site.base_url,
            viewport=DESKTOP,
            locale="en-GB",
            java_script_enabled=javascript,
        )
        # Generous: CI shares two cores with the server, its worker and the browser.
        context.set_default_timeout(20_000)
        context.set_default_navigation_timeout(30_000)
        self.contexts.append((who, context))
        return context.new_page()

    def save_artefacts(self, test_name: str) -> None:
        folder = ARTEFACTS / re.sub(r"[^\w.-]+", "_", test_name)
        folder.mkdir(parents=True, exist_ok=True)
        for who, context in self.contexts:
            for n, page in enumerate(context.pages):  # type: ignore[attr-defined]
                stem = folder / f"{who}-{n}"
                try:
                    stem.with_suffix(".html").write_text(page.content())
                    for width_name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                        page.set_viewport_size(size)
                        page.screenshot(path=f"{stem}-{width_name}.png", full_page=True)
                    (folder / f"{who}-{n}.url").write_text(page.url)
                except Exception as exc:  # a crashed page must not hide the test's own failure
                    (folder / f"{who}-{n}.error").write_text(repr(exc))

    def close(self) -> None:
        for _who, context in self.contexts:
            context.close()  # type: ignore[attr-defined]


@pytest.fixture
def browsing(
    request: pytest.FixtureRequest, browser: object, site: Site, axe_recorder: AxeRecorder
) -> Iterator[Browsing]:
    session = Browsing(browser, site, axe_recorder)
    yield session
    report = getattr(request.node, "report_call", None)
    if report is None or report.failed:
        session.save_artefacts(request.node.name)
    session.close()
