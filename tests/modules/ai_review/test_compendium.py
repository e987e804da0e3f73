"""The compendium: public register entries and the Action Plan's EU-funded projects, on the page and as exports."""

from __future__ import annotations

import csv
import io

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.db import transaction
from modules.ai_review import demo, services
from modules.ai_review.models import Category
from modules.ai_review.services import EUProject
from tests.platform.commitments.conftest import add_city

Client = AsyncTestClient[Litestar]


def test_eu_projects_come_from_the_seed_with_known_categories() -> None:
    projects = services.eu_projects()
    acronyms = {p.acronym for p in projects}
    assert {"IMPETUS", "S4AllCities"} <= acronyms
    assert all(p.category in {c.value for c in Category} for p in projects)
    assert all(p.summary_en and p.summary_fr for p in projects)
    impetus = next(p for p in projects if p.acronym == "IMPETUS")
    assert "SU-INFRA02-2019" in impetus.programme
    assert impetus.full_name == ""
    assert impetus.link == ""
    assert services.eu_projects() is projects  # cached


async def test_compendium_page_and_exports_show_register_entries_and_projects(
    client: Client, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for name, country in [("Nice", "FR"), ("Madrid", "ES"), ("Helsinki", "FI"), ("Riga", "LV")]:
        await add_city(sessions, name, country, 300_000)
    async with transaction(sessions) as session:
        await demo.load(session)
    page = (await client.get("/m/ai_review/compendium")).text
    assert "Safety feedback chatbot" in page
    assert "IMPETUS" in page
    assert "S4AllCities" in page
    assert "/m/ai_review/compendium.md" in page
    assert "/m/ai_review/compendium.csv" in page

    md = await client.get("/m/ai_review/compendium.md")
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert "attachment" in md.headers["content-disposition"]
    assert md.text.startswith("# ")
    assert "Safety feedback chatbot" in md.text
    assert "IMPETUS" in md.text
    assert "Post-event facial search" not in md.text  # restricted entries stay out

    response = await client.get("/m/ai_review/compendium.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    kinds = {r["kind"] for r in table}
    assert kinds == {"register", "eu_project"}
    assert any(r["name"] == "Safety feedback chatbot" for r in table)
    assert any(r["name"] == "S4AllCities" for r in table)
    assert "Post-event facial search" not in response.text


def test_compendium_csv_neutralises_formula_like_cells() -> None:
    evil = EUProject(
        acronym='=HYPERLINK("http://x")',
        full_name="",
        programme="+programme",
        years="-2020",
        category="other",
        summary_en="@SUM(A1)",
        summary_fr="",
        link="",
        source="",
    )
    table = list(csv.reader(io.StringIO(services.compendium_csv([], [evil]))))
    cells = table[1]
    assert cells[2].startswith("'=")
    assert cells[3] == "'+programme"
    assert cells[4] == "'-2020"
    assert cells[6] == "'@SUM(A1)"
    md = services.compendium_markdown(
        [("other", [], [evil])],
        category_label=str,
        status_label=str,
        title="T",
        register_heading="R",
        projects_heading="P",
        locale="en",
    )
    assert "@SUM(A1)" in md
