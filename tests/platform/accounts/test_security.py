"""CSRF, security headers, the guards (HTML and API; own city and other city), forms and 422."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from covenant.accounts import permissions
from covenant.accounts.guards import requires
from covenant.accounts.middleware import CONTENT_SECURITY_POLICY
from covenant.app import create_app
from covenant.config import Settings
from covenant.plugins import ActionModule, ModuleRegistry, Permission
from tests.fixtures.web import csrf_headers, sign_in

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]


async def test_post_without_csrf_token_is_refused(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    await client.get("/login")
    response = await client.post(
        "/login", data={"email": "a@city.eu", "password": "correct horse battery staple"}, follow_redirects=False
    )
    assert response.status_code == 403
    response = await client.post(
        "/login", data={"email": "a@city.eu", "password": "x", "_csrf_token": "forged"}, follow_redirects=False
    )
    assert response.status_code == 403


async def test_forms_carry_the_csrf_token(client: Client) -> None:
    page = await client.get("/login")
    assert 'name="_csrf_token"' in page.text


async def test_security_headers(client: Client) -> None:
    response = await client.get("/")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "strict-transport-security" not in response.headers
    assert "<script>" not in response.text
    assert " style=" not in response.text
    assert 'name="htmx-config"' in response.text


async def test_hsts_when_served_over_https(settings: Settings) -> None:
    https = settings.model_copy(update={"base_url": "https://covenant.example.eu"})
    async with AsyncTestClient(app=create_app(https, ModuleRegistry([]), embedded_worker=False)) as client:
        response = await client.get("/health/live")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_admin_pages_and_api_turn_away_anonymous_and_non_admins(client: Client, make_user: MakeUser) -> None:
    for path in ("/admin/users", "/admin/audit", "/admin/mailbox"):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"
    response = await client.get("/api/v1/admin/users")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")

    await make_user("mayor@city.eu", roles=[("mayors_office", {"city_id": uuid4()})])
    await sign_in(client, "mayor@city.eu")
    assert (await client.get("/admin/users")).status_code == 403
    assert (await client.get("/api/v1/admin/users")).status_code == 403


@get(
    "/cities/{city_id:uuid}/data", guards=[requires(permissions.MODULE_EDIT, city_param="city_id", module="guardtest")]
)
async def city_data(city_id: UUID) -> dict[str, str]:
    return {"city": str(city_id)}


@get("/cities/{city_id:uuid}/verdict", guards=[requires("guardtest.decide", city_param="city_id")])
async def city_verdict(city_id: UUID) -> dict[str, str]:
    return {"city": str(city_id)}


GUARD_MODULE = ActionModule(
    slug="guardtest",
    title="Guard test",
    action=1,
    summary="A route to test the city guard.",
    api_route_handlers=[city_data, city_verdict],
    permissions=[Permission("guardtest.decide", "Decide", roles=("mayors_office",))],
)


async def test_city_guard_keeps_each_city_to_its_own(settings: Settings, make_user: MakeUser) -> None:
    city_a, city_b = uuid4(), uuid4()
    await make_user("contributor@a.eu", roles=[("contributor", {"city_id": city_a})])
    await make_user("narrow@a.eu", roles=[("contributor", {"city_id": city_a, "modules": ["other"]})])
    await make_user("mayor@a.eu", roles=[("mayors_office", {"city_id": city_a})])
    app = create_app(settings, ModuleRegistry([GUARD_MODULE]), embedded_worker=False)
    expected = {
        # (user, path, city) -> status
        ("contributor@a.eu", "data", city_a): 200,
        ("contributor@a.eu", "data", city_b): 403,
        ("contributor@a.eu", "verdict", city_a): 403,  # the module gave this one to mayors' offices only
        ("narrow@a.eu", "data", city_a): 403,  # limited to another module
        ("mayor@a.eu", "data", city_a): 200,
        ("mayor@a.eu", "verdict", city_a): 200,
        ("mayor@a.eu", "verdict", city_b): 403,
    }
    async with AsyncTestClient(app=app) as client:
        for (email, what, city), status in expected.items():
            client.cookies.clear()
            await sign_in(client, email)
            response = await client.get(f"/api/v1/guardtest/cities/{city}/{what}")
            assert response.status_code == status, (email, what, city == city_a)
        client.cookies.clear()
        assert (await client.get(f"/api/v1/guardtest/cities/{city_a}/data")).status_code == 401


def test_module_permissions_join_the_core_table() -> None:
    table = permissions.permissions_by_role(GUARD_MODULE.permissions)
    assert "guardtest.decide" in table["mayors_office"]
    assert "guardtest.decide" not in table["contributor"]
    assert permissions.COMMITMENT_PUBLISH in table["mayors_office"]
    assert permissions.MODULE_REVIEW in table["reviewer"]


async def test_profile_form_rerenders_with_field_message(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    await sign_in(client, "a@city.eu")
    response = await client.post(
        "/account/profile", data={"display_name": "", "locale": "xx"}, headers=csrf_headers(client)
    )
    assert response.status_code == 422
    assert 'id="error-display_name"' in response.text
    assert "Choose one of the offered languages." in response.text
    ok = await client.post(
        "/account/profile",
        data={"display_name": "Ana", "locale": "fr"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert (await client.get("/api/v1/me")).json()["locale"] == "fr"


async def test_change_password_checks_the_current_one(client: Client, make_user: MakeUser) -> None:
    await make_user("a@city.eu")
    await sign_in(client, "a@city.eu")
    data = {"current_password": "wrong one", "password": "a new passphrase", "password_confirm": "a new passphrase"}
    response = await client.post("/account/password", data=data, headers=csrf_headers(client))
    assert response.status_code == 422
    assert "This is not your current password." in response.text
    data["current_password"] = "correct horse battery staple"
    response = await client.post("/account/password", data=data, headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303
    assert (await client.get("/api/v1/me")).status_code == 200  # this browser stays signed in
