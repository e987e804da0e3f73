"""Every upload route: the type is read from the content (a page renamed .pdf or .png is refused), the size is
bounded, the uploader's file name is never used on disk, files live outside the web root, and they are
served as attachments (or inline images) with ``nosniff`` and a sandboxing policy."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.db import transaction
from covenant.web.templating import STATIC_DIR
from modules.funding import services as funding
from modules.funding.schemas import AdvocacyInput
from modules.practices import services as practices
from modules.practices.models import FicheDocument
from modules.practices.schemas import FicheInput
from tests.fixtures.web import csrf_headers, sign_in
from tests.modules.practices.conftest import add_city, fiche_fields
from tests.platform.security.crawl import make_app

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PAGE = b"<html><script>alert(1)</script></html>"
EVIL_NAME = "../../../static/evil.pdf"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return make_app(settings)


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def assert_stored_safely(settings: Settings, before: set[Path]) -> list[Path]:
    new = sorted(files_under(settings.var_dir) - before)
    assert new, "nothing was stored"
    for path in new:
        assert path.resolve().is_relative_to((settings.var_dir / "uploads").resolve())
        assert "evil" not in path.name
        assert not path.resolve().is_relative_to(STATIC_DIR.resolve())
    assert not (STATIC_DIR / "evil.pdf").exists()
    return new


async def test_commitment_letter(client: Client, make_user: MakeUser, settings: Settings, sessions: Any) -> None:
    city = await add_city(sessions, "Nice", "FR", 342_000, signatory=False)
    await make_user("mayor@nice.example")
    await sign_in(client, "mayor@nice.example")
    await client.get(f"/cities/{city}/apply")
    fields = {
        "adhesion_date": "2026-01-15",
        "mayor": "Mayor",
        "contact_name": "Contact",
        "contact_email": "contact@nice.example",
    }

    async def apply(content: bytes, content_type: str = "application/pdf") -> Any:
        return await client.post(
            f"/cities/{city}/apply",
            data=fields,
            files={"letter": (EVIL_NAME, content, content_type)},
            headers=csrf_headers(client),
            follow_redirects=False,
        )

    before = files_under(settings.var_dir)
    disguised = await apply(PAGE)
    assert disguised.status_code == 422
    assert "must be a PDF" in disguised.text
    too_big = await apply(PDF + b"0" * (10 * 1024 * 1024))
    assert too_big.status_code in (413, 422)
    assert files_under(settings.var_dir) == before
    assert (await apply(PDF, "text/html")).status_code == 303  # the declared type does not matter, the content does
    (stored,) = assert_stored_safely(settings, before)
    assert stored.read_bytes() == PDF
    await make_user("admin@city.eu", roles=[("admin", {})])
    client.cookies.clear()
    await sign_in(client, "admin@city.eu")
    served = await client.get(f"/cities/{city}/letter")
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert "evil" not in served.headers["content-disposition"]
    assert served.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"/static/{stored.name}")).status_code == 404


async def draft_fiche(sessions: async_sessionmaker[AsyncSession], city: UUID) -> UUID:
    async with transaction(sessions) as session:
        fiche = await practices.create_fiche(session, city, FicheInput.model_validate(fiche_fields()), actor=None)
        return fiche.id


async def test_practice_images_and_documents(
    client: Client, make_user: MakeUser, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    city = await add_city(sessions, "Nice", "FR", 342_000)
    fiche = await draft_fiche(sessions, city)
    await make_user("editor@nice.example", roles=[("contributor", {"city_id": city, "modules": ["practices"]})])
    await sign_in(client, "editor@nice.example")
    await client.get("/m/practices/")
    base = f"/m/practices/cities/{city}/fiches/{fiche}"
    before = files_under(settings.var_dir)
    image_fields = {"stage": "before", "caption": "Square", "alt_text": "The square before"}
    for content, name, declared in (
        (PAGE, "photo.png", "image/png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "photo.svg", "image/svg+xml"),
        (b"GIF89a" + PAGE, "photo.gif", "image/gif"),
    ):
        refused = await client.post(
            f"{base}/images", data=image_fields, files={"file": (name, content, declared)}, headers=csrf_headers(client)
        )
        assert refused.status_code == 422, name
    refused = await client.post(
        f"{base}/documents",
        data={"title": "Plan"},
        files={"file": (EVIL_NAME, PAGE, "application/pdf")},
        headers=csrf_headers(client),
    )
    assert refused.status_code == 422
    assert files_under(settings.var_dir) == before
    ok = await client.post(
        f"{base}/images",
        data=image_fields,
        files={"file": (EVIL_NAME, png(), "text/html")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    ok = await client.post(
        f"{base}/documents",
        data={"title": "Plan"},
        files={"file": (EVIL_NAME, PDF, "text/html")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    assert_stored_safely(settings, before)
    async with sessions() as session:
        image = (await practices.images_of(session, fiche))[0]
        document = (await session.scalars(select(FicheDocument).where(FicheDocument.fiche_id == fiche))).one()
    for url, kind in (
        (f"/m/practices/images/{image.id}", "image/png"),
        (f"/m/practices/images/{image.id}/thumbnail", "image/jpeg"),
        (f"/m/practices/documents/{document.id}", "application/pdf"),
    ):
        served = await client.get(url)
        assert served.status_code == 200, url
        assert served.headers["content-type"].startswith(kind)
        assert served.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in served.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in served.headers["content-security-policy"]
        disposition = served.headers["content-disposition"]
        assert disposition.startswith("attachment;" if kind == "application/pdf" else "inline;")
        assert "evil" not in disposition
        assert "/" not in disposition.split("filename=")[1]


async def test_advocacy_documents(
    client: Client, make_user: MakeUser, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        document = await funding.create_advocacy(
            session, AdvocacyInput(kind="position_paper", title="Funding for safer squares"), actor=None
        )
    await make_user("admin@city.eu", roles=[("admin", {})])
    await sign_in(client, "admin@city.eu")
    url = f"/m/funding/advocacy/{document.id}/document"
    before = files_under(settings.var_dir)
    refused = await client.post(url, files={"file": (EVIL_NAME, PAGE, "application/pdf")}, headers=csrf_headers(client))
    assert refused.status_code == 422
    too_big = await client.post(
        url,
        files={"file": ("big.pdf", PDF + b"0" * (11 * 1024 * 1024), "application/pdf")},
        headers=csrf_headers(client),
    )
    assert too_big.status_code in (413, 422)
    assert files_under(settings.var_dir) == before
    ok = await client.post(
        url, files={"file": ('"; evil=x.pdf', PDF, "text/html")}, headers=csrf_headers(client), follow_redirects=False
    )
    assert ok.status_code == 303
    assert_stored_safely(settings, before)
    served = await client.get(url)
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["x-content-type-options"] == "nosniff"
    disposition = served.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert disposition.count('"') == 2  # the uploader's quotes cannot break out of the header's value
