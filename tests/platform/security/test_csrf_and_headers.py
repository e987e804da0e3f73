"""CSRF on every state-changing page route, and the security headers of every answer — both checked on the
crawl of the whole app (every route, as every visitor), so a new route is covered without a new test."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from covenant.accounts.middleware import CONTENT_SECURITY_POLICY, HSTS, PERMISSIONS_POLICY
from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ModuleRegistry
from tests.platform.security.crawl import Crawl


def test_every_state_changing_page_refuses_a_request_without_csrf_token(crawl: Crawl) -> None:
    assert len(crawl.without_csrf) > 100, "the crawl sent too few unsafe requests"
    accepted = [f"{visit}: {visit.status}" for visit in crawl.without_csrf if visit.status != 403]
    assert not accepted, "unsafe page routes that accepted a request without the CSRF token:\n  " + "\n  ".join(
        accepted
    )


def test_every_answer_carries_the_security_headers(crawl: Crawl) -> None:
    missing = []
    for visit in crawl.visits + crawl.without_csrf + crawl.extra:
        headers = visit.headers
        policy = headers.get("content-security-policy", "")
        problems = [
            name
            for name, ok in (
                ("Content-Security-Policy", bool(policy)),
                ("no 'unsafe-inline'", "unsafe-inline" not in policy and "unsafe-eval" not in policy),
                ("frame-ancestors 'none'", "frame-ancestors 'none'" in policy),
                ("X-Content-Type-Options", headers.get("x-content-type-options") == "nosniff"),
                ("Referrer-Policy", bool(headers.get("referrer-policy"))),
                ("Permissions-Policy", headers.get("permissions-policy") == PERMISSIONS_POLICY),
                ("X-Frame-Options", headers.get("x-frame-options") == "DENY"),
            )
            if not ok
        ]
        if problems:
            missing.append(f"{visit} ({visit.status}): {', '.join(problems)}")
    assert not missing, "\n  ".join(missing[:50])


def test_pages_use_the_strict_policy_and_signed_in_answers_are_not_cached(crawl: Crawl) -> None:
    for visit in crawl.visits:
        if visit.html and not visit.template.startswith("/schema"):
            assert visit.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, visit
        if visit.who != "anonymous" and visit.status == 200 and visit.html:
            assert visit.headers.get("cache-control") == "no-store", visit


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([]), embedded_worker=False)


async def test_hsts_only_over_https_or_behind_a_proxy_that_says_so(client: AsyncTestClient[Litestar]) -> None:
    plain = await client.get("/")
    assert "strict-transport-security" not in plain.headers
    proxied = await client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"] == HSTS
    error = await client.get("/no/such/page", headers={"X-Forwarded-Proto": "https"})
    assert error.status_code == 404
    assert error.headers["strict-transport-security"] == HSTS


async def test_the_api_viewers_get_a_policy_with_hashes_not_unsafe_inline(client: AsyncTestClient[Litestar]) -> None:
    for path in ("/schema/swagger", "/schema", "/schema/oauth2-redirect.html"):
        response = await client.get(path)
        policy = response.headers["content-security-policy"]
        assert "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        if "<script>" in response.text or "<script type" in response.text:
            assert "'sha256-" in policy, path
    spec = await client.get("/schema/openapi.json")
    assert spec.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
