"""The offline template (XLSX and CSV, from the same framework) and its upload: checked by content and size, row by
row, every problem reported with its row and column, nothing saved when any row is refused."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.cities.models import City
from covenant.db import transaction
from modules.assessment import services
from modules.assessment.models import Answer, AssessmentResponse, FrameworkVersion
from tests.fixtures.web import csrf_headers
from tests.modules.assessment.conftest import Cities, Client, sign_in_editor

YEAR = date.today().year


def url(city: Any) -> str:
    return f"/m/assessment/cities/{city}/years/{YEAR}"


async def answers(sessions: async_sessionmaker[AsyncSession], city: Any) -> dict[str, Any]:
    async with sessions() as session:
        rows = await session.execute(
            select(Answer.indicator_code, Answer.value, Answer.source)
            .join(AssessmentResponse, AssessmentResponse.id == Answer.response_id)
            .where(AssessmentResponse.city_id == city)
        )
        return {code: (value, source) for code, value, source in rows}


async def upload(client: Client, city: Any, name: str, content: bytes) -> Any:
    return await client.post(
        url(city) + "/upload",
        files={"file": (name, content, "application/octet-stream")},
        headers=csrf_headers(client),
        follow_redirects=False,
    )


async def test_templates_come_from_the_framework_and_the_size_class(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    async with transaction(sessions) as session:
        city = await session.get(City, cities.small)
        assert city is not None
        await services.save_answers(session, city, YEAR, {"S1": "42", "G2": "draft"}, actor=None)
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    r = await client.get(url(cities.small) + "/template.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["code", "dimension", "name", "help", "unit", "type", "allowed values", "value"]
    by_code = {row[0]: row for row in rows[1:]}
    assert list(by_code) == ["S1", "S2", "S3", "G1", "G2", "G4"]  # G3 is for bigger cities
    assert by_code["S1"][1] == "Safety"
    assert by_code["S1"][3] == "From the latest residents' survey."
    assert by_code["S1"][6] == "0 to 100"
    assert by_code["S1"][7] == "42"
    assert by_code["S2"][6] == "0 to 50"
    assert by_code["G2"][6] == "none | draft | adopted"
    assert by_code["G2"][7] == "draft"
    assert by_code["S3"][6] == "yes | no"
    assert "filled automatically from ai_review.technology_reviewed" in by_code["G4"][3]

    x = await client.get(url(cities.small) + "/template.xlsx")
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "code"
    assert values[0][7] == "value"
    assert [v[0] for v in values[1:]] == ["S1", "S2", "S3", "G1", "G2", "G4"]
    assert values[1][7] == "42"
    lists = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["H6"] == '"none,draft,adopted"'  # G2 offers its choices in Excel


async def test_a_filled_template_is_imported(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.mid, "editor@mechelen.be")
    x = await client.get(url(cities.mid) + "/template.xlsx")
    workbook = load_workbook(io.BytesIO(x.content))
    sheet = workbook.active
    assert sheet is not None
    filled = {"S1": 55, "S2": 4, "S3": "yes", "G1": 3, "G2": "adopted", "G3": "no"}
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in filled:
            row[7].value = filled[row[0].value]
    out = io.BytesIO()
    workbook.save(out)
    r = await upload(client, cities.mid, "anything.bin", out.getvalue())  # recognised by content, not name
    assert r.status_code == 303, r.text
    assert await answers(sessions, cities.mid) == {
        "S1": (55.0, "upload"),
        "S2": (4.0, "upload"),
        "S3": (1.0, "upload"),
        "G1": (3.0, "upload"),
        "G2": (1.0, "upload"),
        "G3": (0.0, "upload"),
    }
    # a semicolon CSV with a decimal comma (as spreadsheets in much of Europe save it); an empty value clears
    text = "code;value\nS1;12,5\nG3;\n"
    r = await upload(client, cities.mid, "answers.csv", text.encode())
    assert r.status_code == 303, r.text
    got = await answers(sessions, cities.mid)
    assert got["S1"] == (12.5, "upload")
    assert "G3" not in got
    assert got["S2"] == (4.0, "upload")


async def test_every_problem_is_reported_with_row_and_column_and_nothing_is_saved(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    await client.get(url(cities.small))
    rows = [
        "code,dimension,value",
        "S1,Safety,45",  # fine, but not saved: other rows are wrong
        "S2,Safety,-3",
        "XX9,Nowhere,1",
        "S1,Safety,46",
        "G3,Governance,yes",
        "G4,Governance,4",
        "G1,Governance,six",
        ",Governance,3",
        ",,",
    ]
    r = await upload(client, cities.small, "answers.csv", "\n".join(rows).encode())
    assert r.status_code == 422
    text = r.text
    assert "Row 3, column value: S2: -3 is below the minimum 0" in text
    assert "Row 4, column code: unknown indicator code XX9." in text
    assert "Row 5, column code: S1 appears twice (first on row 2)." in text
    assert "Row 6, column code: G3 does not apply to cities of this size class." in text
    assert "Row 7, column value: G4 is filled automatically from ai_review.technology_reviewed" in text
    assert "Row 8, column value: G1: expected a whole number from 1 to 5" in text or "Row 8, column value: G1" in text
    assert "Row 9, column code: the indicator code is missing." in text
    assert "Row 10" not in text  # an empty row is skipped
    assert await answers(sessions, cities.small) == {}


async def test_files_are_checked_by_content_and_size(
    client: Client, make_user: Any, cities: Cities, small_framework: FrameworkVersion, sessions: Any
) -> None:
    await sign_in_editor(client, make_user, cities.small, "editor@ath.be")
    await client.get(url(cities.small))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    r = await upload(client, cities.small, "answers.csv", png)
    assert r.status_code == 422
    assert "neither an XLSX workbook nor a CSV file" in r.text
    r = await upload(client, cities.small, "answers.xlsx", b"PK\x03\x04 this is not really a zip")
    assert r.status_code == 422
    assert "The workbook cannot be read" in r.text
    r = await upload(client, cities.small, "answers.csv", b"code,value\n" + b"S1,1\n" * 450_000)
    assert r.status_code == 413 or (r.status_code == 422 and "larger than 2 MB" in r.text)
    with pytest.raises(services.UploadError, match="larger than 2 MB"):
        services.read_table(b"code,value\n" + b"S1,1\n" * 450_000)
    r = await upload(client, cities.small, "answers.csv", b"code,value\n" + b"S1,1\n" * 2500)
    assert r.status_code == 422
    assert "more than 2000 rows" in r.text
    r = await upload(client, cities.small, "answers.csv", b"indicator,answer\nS1,3\n")
    assert r.status_code == 422
    assert "Row 1: the header has no column code, value." in r.text
    r = await upload(client, cities.small, "answers.csv", "code,value\nS1,4\n".encode("utf-16"))
    assert r.status_code == 422
    r = await client.post(url(cities.small) + "/upload", data={}, headers=csrf_headers(client))
    assert r.status_code in (400, 422)
    assert await answers(sessions, cities.small) == {}
