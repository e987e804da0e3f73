"""Switching the language changes every page: the public site, crawled in French, shows no English text
that the French catalogue translates differently."""

from __future__ import annotations

import html
import re
from importlib.metadata import entry_points
from urllib.parse import urljoin, urlparse

import pytest
from babel.messages.pofile import read_po
from litestar import Litestar
from litestar.testing import AsyncTestClient

from covenant.app import create_app
from covenant.config import Settings
from covenant.demo import load_demo
from covenant.plugins import ENTRY_POINT_GROUP, ModuleRegistry
from tests.platform.test_i18n import owners

MAX_PAGES = 300
SKIP = ("/static", "/schema", "/logout", "/swagger", "/admin/mailbox")
"""Not interface: the mailbox shows mails as written, in their recipient's language at the time of sending."""


def english_that_french_translates() -> set[str]:
    """Source strings (several words, no placeholder) whose French translation is different text."""
    found: set[str] = set()
    for domain, package in owners():
        po = package / "locale" / "fr" / "LC_MESSAGES" / f"{domain}.po"
        if not po.exists():
            continue
        with po.open("rb") as handle:
            for message in read_po(handle, locale="fr"):
                translated = isinstance(message.id, str) and message.string and message.string != message.id
                if translated and " " in message.id and "%(" not in message.id and len(message.id) > 12:
                    found.add(message.id)
    return found


def text_nodes(page: str) -> set[str]:
    """The page's pieces of visible text, each between two tags. Interface strings make up whole pieces
    (labels, headings, options, buttons); a title someone wrote merely containing such words does not.
    Parts marked with another language (``<h2 lang="en">``: a survey in the city's chosen language) are
    content, not interface, and are left out."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r'<(\w+)\b[^>]*\blang="(?!fr")[^"]*"[^>]*>.*?</\1>', " ", page, flags=re.S)
    return {html.unescape(re.sub(r"\s+", " ", piece)).strip() for piece in re.split(r"<[^>]+>", page)} - {""}


async def crawl_in_french(client: AsyncTestClient[Litestar], start: str) -> tuple[set[str], dict[str, list[str]]]:
    """Follow the site's own links from ``start`` in French; returns the pages seen and English leftovers."""
    english = english_that_french_translates()
    assert english, "the French catalogue translates nothing"
    client.cookies.set("covenant_locale", "fr")
    seen: set[str] = set()
    queue = [start]
    leftovers: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = await client.get(path)
        assert response.status_code < 500, f"{path} answered {response.status_code}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        assert '<html lang="fr">' in response.text, path
        if found := sorted(english & text_nodes(response.text)):
            leftovers[path] = found
        for href in re.findall(r'href="([^"#]+)"', response.text):
            target = urlparse(urljoin("http://testserver" + path, html.unescape(href)))
            if target.netloc == "testserver" and not target.path.startswith(SKIP) and "lang=" not in target.query:
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen, leftovers


@pytest.fixture
def registry() -> ModuleRegistry:
    """Every module of the distribution, as ``make demo`` runs them (not the tests' own test module)."""
    shipped = [ep.name for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.value.startswith("modules.")]
    return ModuleRegistry.from_entry_points(shipped)


@pytest.fixture
def app(settings: Settings, registry: ModuleRegistry) -> Litestar:
    return create_app(settings, registry, embedded_worker=False)


@pytest.fixture
async def demo(settings: Settings, registry: ModuleRegistry) -> None:
    await load_demo(settings, registry)


async def test_public_pages_in_french_have_no_english_leftovers(client: AsyncTestClient[Litestar], demo: None) -> None:
    seen, leftovers = await crawl_in_french(client, "/")
    assert not leftovers, f"English left on French pages: {leftovers}"
    assert {"/cities", "/convention", "/commitments"} <= seen
    assert {f"/m/{slug}/" for slug in ("funding", "ai_review", "training", "cohesion", "practices")} <= seen


async def test_admin_pages_in_french_have_no_english_leftovers(
    admin_client: AsyncTestClient[Litestar], demo: None
) -> None:
    await admin_client.get("/")  # shows (and so clears) the English "signed in" flash of the fixture's sign-in
    seen, leftovers = await crawl_in_french(admin_client, "/admin/memberships")
    assert not leftovers, f"English left on French pages: {leftovers}"
    assert {"/admin/users", "/admin/events", "/admin/audit"} <= seen
