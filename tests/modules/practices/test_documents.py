"""PDF documents on fiches: checked by content, at most 10 MB, private until the fiche is published."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.config import Settings
from covenant.db import transaction
from modules.practices import services
from modules.practices.models import FicheDocument, PracticeFiche
from modules.practices.schemas import ReviewInput
from modules.practices.services import PracticeError
from tests.fixtures.web import csrf_headers
from tests.modules.practices.conftest import Cities, png_bytes
from tests.modules.practices.test_pages import contributor, signed_out
from tests.modules.practices.test_services import new_fiche

Client = AsyncTestClient[Litestar]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_pdfs_are_recognised_by_content() -> None:
    services.check_pdf(PDF)
    for raw in (b"", png_bytes(), b"%PDF-1.4 truncated without end", b"<html>%PDF-</html>%%EOF"):
        with pytest.raises(PracticeError):
            services.check_pdf(raw)
    with pytest.raises(PracticeError, match="10 MB"):
        services.check_pdf(PDF[:-7] + b" " * services.MAX_DOCUMENT_BYTES + b"%%EOF\n")
    assert services.download_name('Plan "final" / v2') == "Plan-final-v2.pdf"
    assert services.download_name("…") == "document.pdf"


async def test_documents_are_uploaded_and_served_safely(
    client: Client,
    make_user: object,
    cities: Cities,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    async with transaction(sessions) as session:
        fiche = await new_fiche(session, cities.a)
    await contributor(client, make_user, cities.a)
    base = f"/m/practices/cities/{cities.a}/fiches/{fiche.id}"

    renamed = await client.post(
        base + "/documents",
        data={"title": "Not really a PDF"},
        files={"file": ("fake.pdf", png_bytes(), "application/pdf")},
        headers=csrf_headers(client),
    )
    assert renamed.status_code == 422
    assert "not a PDF" in renamed.text
    done = await client.post(
        base + "/documents",
        data={"title": ""},
        files={"file": ("Final report.pdf", PDF, "application/octet-stream")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    async with sessions() as session:
        document = (await session.scalars(select(FicheDocument))).one()
    assert document.title == "Final report"
    assert document.original_name == "Final report.pdf"
    stored = Path(settings.var_dir) / "uploads" / "practices" / document.stored_name
    assert stored.read_bytes() == PDF
    assert "Final" not in document.stored_name
    assert "Final report" in (await client.get(base + "/edit")).text

    url = f"/m/practices/documents/{document.id}"
    served = await client.get(url)
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == 'attachment; filename="Final-report.pdf"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    async with signed_out(client):  # a draft's documents are private
        assert (await client.get(url)).status_code == 404
        assert (await client.get(f"/api/v1/practices/fiches/{fiche.id}")).status_code == 404

    async with transaction(sessions) as session:
        f = await session.get(PracticeFiche, fiche.id)
        assert f is not None
        await services.submit_fiche(session, f, actor=None)
        await services.start_review(session, f, actor=None)
        await services.review_fiche(session, f, ReviewInput(decision="publish"), actor=None)
    async with signed_out(client):  # published: public, listed on the fiche and in the API
        assert (await client.get(url)).status_code == 200
        assert url in (await client.get(f"/m/practices/fiches/{fiche.id}")).text
        api = (await client.get(f"/api/v1/practices/fiches/{fiche.id}")).json()
        assert api["documents"] == [
            {"id": str(document.id), "title": "Final report", "size_bytes": len(PDF), "url": url}
        ]
    frozen = await client.post(f"{base}/documents/{document.id}/delete", headers=csrf_headers(client))
    assert "Only a draft" in frozen.text  # a published fiche's documents stay


async def test_a_contributor_cannot_attach_to_another_city(
    client: Client, make_user: object, cities: Cities, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with transaction(sessions) as session:
        fiche = await new_fiche(session, cities.b)
    await contributor(client, make_user, cities.a)
    for city in (cities.a, cities.b):  # B's route is refused; A's route does not reach B's fiche
        response = await client.post(
            f"/m/practices/cities/{city}/fiches/{fiche.id}/documents",
            files={"file": ("r.pdf", PDF, "application/pdf")},
            headers=csrf_headers(client),
        )
        assert response.status_code in (403, 404)
    async with sessions() as session:
        assert (await session.scalars(select(FicheDocument))).all() == []
