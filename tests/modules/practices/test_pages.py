"""Through HTTP: the public library, the case study, a city's fiches, review, uploads, and who may do what."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from modules.practices.models import FicheImage, FicheStatus, PracticeFiche
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.practices.conftest import Cities, api_token, fiche_fields, indicator_fields, png_bytes

Client = AsyncTestClient[Litestar]


async def as_user(client: Client, make_user: object, email: str, roles: list[tuple[str, dict[str, object]]]) -> None:
    await make_user(email, roles=roles)  # type: ignore[operator]
    assert (await sign_in(client, email)).status_code == 303


async def contributor(client: Client, make_user: object, city: UUID, email: str = "editor@nice.fr") -> None:
    await as_user(client, make_user, email, [("contributor", {"city_id": city, "modules": ["practices"]})])


@asynccontextmanager
async def signed_out(client: Client) -> AsyncIterator[Client]:
    saved = client.cookies
    client.cookies = httpx.Cookies()
    try:
        yield client
    finally:
        client.cookies = saved


async def fiche_of(sessions: async_sessionmaker[AsyncSession], title: str) -> PracticeFiche:
    async with sessions() as session:
        return (await session.scalars(select(PracticeFiche).where(PracticeFiche.title == title))).one()


async def test_a_fiche_goes_from_the_city_form_to_the_public_library(
    client: Client, make_user: object, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    base = f"/m/practices/cities/{cities.a}/fiches"
    assert (await client.get(base + "/")).status_code == 200
    assert (await client.get(base + "/new")).status_code == 200
    form = fiche_fields() | {"measures": ["hostile_vehicle_mitigation", "street_furniture"], "links": "https://a.eu/"}
    bad = await client.post(base + "/", data=form | {"title": "x"}, headers=csrf_headers(client))
    assert bad.status_code == 422
    assert "field-error" in bad.text
    response = await client.post(base + "/", data=form, headers=csrf_headers(client), follow_redirects=False)
    assert response.status_code == 303, response.text
    fiche = await fiche_of(sessions, form["title"])
    edit = f"{base}/{fiche.id}"
    bad_indicator = await client.post(
        edit + "/indicators", data=indicator_fields(after_date="2018-01-01"), headers=csrf_headers(client)
    )
    assert bad_indicator.status_code == 422
    assert "after date" in bad_indicator.text
    ok = await client.post(
        edit + "/indicators", data=indicator_fields(), headers=csrf_headers(client), follow_redirects=False
    )
    assert ok.status_code == 303
    # Images: refused when not an image (whatever the name says) or without a text alternative.
    fake = await client.post(
        edit + "/images",
        data={"stage": "before", "alt_text": "The square before"},
        files={"file": ("before.png", b"<html>not a picture</html>", "image/png")},
        headers=csrf_headers(client),
    )
    assert fake.status_code == 422
    assert "not an image" in fake.text
    no_alt = await client.post(
        edit + "/images",
        data={"stage": "after", "alt_text": ""},
        files={"file": ("after.jpg", png_bytes(fmt="JPEG"), "image/jpeg")},
        headers=csrf_headers(client),
    )
    assert no_alt.status_code == 422
    for stage in ("before", "after"):
        uploaded = await client.post(
            edit + "/images",
            data={"stage": stage, "alt_text": f"The square {stage} the works", "caption": stage},
            files={"file": (f"{stage}.jpg", png_bytes(fmt="JPEG"), "image/jpeg")},
            headers=csrf_headers(client),
            follow_redirects=False,
        )
        assert uploaded.status_code == 303, uploaded.text
    submitted = await client.post(edit + "/submit", headers=csrf_headers(client), follow_redirects=False)
    assert submitted.status_code == 303
    # Not public yet: anonymous visitors see neither the page nor its images.
    async with signed_out(client):
        assert (await client.get(f"/m/practices/fiches/{fiche.id}")).status_code == 404
    # A reviewer takes it in review and publishes it.
    await as_user(client, make_user, "reviewer@efus.eu", [("reviewer", {"module": "practices"})])
    assert (await client.get("/m/practices/review")).status_code == 200
    assert (await client.get("/m/practices/monitoring", params={"sort": "title", "dir": "asc"})).status_code == 200
    table = await client.get("/m/practices/monitoring.csv")
    assert table.headers["content-disposition"].startswith("attachment")
    assert "submitted" in table.text
    review = f"/m/practices/review/{fiche.id}"
    await client.post(review, data={"decision": "publish"}, headers=csrf_headers(client))
    assert (await fiche_of(sessions, form["title"])).status == FicheStatus.submitted  # never unreviewed
    await client.post(review, data={"decision": "comment", "body": "Looks good."}, headers=csrf_headers(client))
    await client.post(review, data={"decision": "publish"}, headers=csrf_headers(client))
    assert (await fiche_of(sessions, form["title"])).status == FicheStatus.published
    async with signed_out(client):
        library = await client.get("/m/practices/", params={"q": "bollards", "measure": "street_furniture"})
        assert library.status_code == 200
        assert form["title"] in library.text
        page = await client.get(f"/m/practices/fiches/{fiche.id}")
        assert page.status_code == 200
        assert "before-after" in page.text
        assert "Vehicle access points" in page.text
        image_id = re.search(r"/m/practices/images/([0-9a-f-]{36})", page.text).group(1)  # type: ignore[union-attr]
        image = await client.get(f"/m/practices/images/{image_id}")
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/jpeg"
        assert image.headers["x-content-type-options"] == "nosniff"
        assert "inline" in image.headers["content-disposition"]
        thumb = await client.get(f"/m/practices/images/{image_id}/thumbnail")
        assert thumb.status_code == 200
        api = await client.get("/api/v1/practices/fiches", params={"q": "bollard"})
        body = api.json()
        assert body["total"] == 1
        assert body["items"][0]["images"]
        assert body["facets"]["country"] == [{"value": "FR", "count": 1}]
        assert (await client.get("/m/practices/rules")).status_code == 200
        assert (await client.get("/m/practices/inventory")).status_code == 200


async def test_a_contributor_cannot_touch_another_city(
    client: Client, make_user: object, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    token = await api_token(sessions, "editor@nice.fr")
    other = f"/m/practices/cities/{cities.b}/fiches"
    assert (await client.get(other + "/")).status_code == 403
    assert (await client.post(other + "/", data=fiche_fields(), headers=csrf_headers(client))).status_code == 403
    api = f"/api/v1/practices/cities/{cities.b}/fiches"
    assert (await client.get(api + "/")).status_code == 403
    assert (await client.post(api + "/", json=fiche_fields(), headers=token)).status_code == 403
    own = await client.post(f"/api/v1/practices/cities/{cities.a}/fiches/", json=fiche_fields(), headers=token)
    assert own.status_code == 201
    # nor review, nor see the monitoring table
    assert (await client.get("/m/practices/review")).status_code == 403
    assert (await client.get("/m/practices/monitoring")).status_code == 403


async def test_anonymous_visitors_are_sent_to_sign_in(client: Client, cities: Cities) -> None:
    page = await client.get(f"/m/practices/cities/{cities.a}/fiches/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    assert (await client.get(f"/api/v1/practices/cities/{cities.a}/fiches/")).status_code == 401
    assert (await client.get("/m/practices/")).status_code == 200


async def test_the_api_drives_the_workflow(
    client: Client, make_user: object, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await make_user("editor@nice.fr", roles=[("contributor", {"city_id": cities.a, "modules": ["practices"]})])  # type: ignore[operator]
    await make_user("reviewer@efus.eu", roles=[("reviewer", {"module": "practices"})])  # type: ignore[operator]
    editor = await api_token(sessions, "editor@nice.fr")
    reviewer = await api_token(sessions, "reviewer@efus.eu")
    base = f"/api/v1/practices/cities/{cities.a}/fiches"
    refused = await client.post(base + "/", json=fiche_fields(measures=["magic"]), headers=editor)
    assert refused.status_code in (400, 422)
    assert "Unknown measures" in refused.text
    created = await client.post(base + "/", json=fiche_fields(), headers=editor)
    assert created.status_code == 201, created.text
    fiche_id = created.json()["id"]
    bad = await client.post(f"{base}/{fiche_id}/indicators", json=indicator_fields(baseline_date=None), headers=editor)
    assert bad.status_code in (400, 422)
    good = await client.post(f"{base}/{fiche_id}/indicators", json=indicator_fields(), headers=editor)
    assert good.status_code == 201
    assert len(good.json()["indicators"]) == 1
    submitted = await client.post(f"{base}/{fiche_id}/submit", headers=editor)
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    review = f"/api/v1/practices/review/{fiche_id}"
    assert (await client.post(review, json={"decision": "publish"}, headers=editor)).status_code == 403
    too_soon = await client.post(review, json={"decision": "publish"}, headers=reviewer)
    assert too_soon.status_code in (400, 422)
    assert "review" in too_soon.text
    queue = await client.get("/api/v1/practices/review", headers=reviewer)
    assert [f["id"] for f in queue.json()] == [fiche_id]
    for decision in ({"decision": "comment", "body": "Fine."}, {"decision": "publish"}):
        answer = await client.post(review, json=decision, headers=reviewer)
        assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "published"
    assert (await client.get(f"/api/v1/practices/fiches/{fiche_id}")).status_code == 200
    rules = (await client.get("/api/v1/practices/rules")).json()
    assert len(rules) == 10
    assert rules[1]["supporting"] == 1
    schema = (await client.get("/schema/openapi.json")).text
    assert "/api/v1/practices/fiches" in schema


async def test_admins_open_campaigns(
    admin_client: Client, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert (await admin_client.get("/m/practices/campaigns/")).status_code == 200
    bad = await admin_client.post(
        "/m/practices/campaigns/",
        data={"title": "Survey", "deadline": "2000-01-01"},
        headers=csrf_headers(admin_client),
    )
    assert bad.status_code == 422
    created = await admin_client.post(
        "/m/practices/campaigns/",
        data={"title": "Survey", "deadline": "2099-01-01", "invite_new_signatories": "true"},
        headers=csrf_headers(admin_client),
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = await admin_client.get(created.headers["location"])
    assert "Nice" in page.text
    assert "Riga" in page.text


async def test_images_of_unpublished_fiches_stay_private(
    client: Client, make_user: object, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await contributor(client, make_user, cities.a)
    base = f"/api/v1/practices/cities/{cities.a}/fiches"
    token = await api_token(sessions, "editor@nice.fr")
    fiche_id = (await client.post(base + "/", json=fiche_fields(), headers=token)).json()["id"]
    await client.post(
        f"/m/practices/cities/{cities.a}/fiches/{fiche_id}/images",
        data={"stage": "before", "alt_text": "The square before the works"},
        files={"file": ("x.png", png_bytes(), "image/png")},
        headers=csrf_headers(client),
    )
    async with sessions() as session:
        image = (await session.scalars(select(FicheImage))).one()
    assert (await client.get(f"/m/practices/images/{image.id}")).status_code == 200
    async with signed_out(client):
        assert (await client.get(f"/m/practices/images/{image.id}")).status_code == 404
