"""The offline workbook of a city's yearly monitoring: an overview sheet, then one sheet per section with
what the automatic checks still miss; the commitments sheet lists each commitment with columns to fill in."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.cities.models import City
from covenant.commitments.models import Commitment, CommitmentStatus
from covenant.i18n import format_date
from covenant.i18n import gettext as _
from covenant.monitoring.models import COMMITMENTS
from covenant.monitoring.services import Checklist

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet


def _sheet_title(text: str, used: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique."""
    base = re.sub(r"[\[\]:*?/\\]", " ", text).strip()[:28] or "Section"
    name, n = base, 2
    while name.lower() in used:
        name = f"{base[:26]} {n}"
        n += 1
    used.add(name.lower())
    return name


def _header(sheet: Worksheet, *titles: str) -> None:
    from openpyxl.styles import Font

    sheet.append(list(titles))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


async def build_workbook(session: AsyncSession, city: City, result: Checklist, base_url: str) -> bytes:
    # openpyxl is imported when a workbook is asked for: a web process need not carry it otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    overview = book.active
    assert overview is not None
    used: set[str] = set()
    overview.title = _sheet_title(_("Overview"), used)
    overview.append([_("Monitoring {year}").format(year=result.cycle.year), city.name])
    overview["A1"].font = Font(bold=True, size=14)
    overview.append([_("Deadline"), format_date(result.deadline)])
    overview.append([])
    _header(overview, _("Section"), _("Status"), _("Completeness (%)"), _("Link"))
    for section in result.sections:
        overview.append([section.title, section.status_label, section.completeness, base_url + section.link])
    overview.column_dimensions["A"].width = 45
    overview.column_dimensions["D"].width = 60
    for section in result.sections:
        sheet = book.create_sheet(_sheet_title(section.title, used))
        sheet.append([section.title])
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.append([_("Status"), section.status_label])
        sheet.append([_("Completeness (%)"), section.completeness])
        sheet.append([_("Where to complete it"), base_url + section.link])
        if section.comment:
            sheet.append([_("Comment of the secretariat"), section.comment])
        sheet.append([])
        _header(sheet, _("Still missing"), _("Your notes"))
        for item in section.missing or [_("Nothing: the section is complete.")]:
            sheet.append([item, ""])
        sheet.column_dimensions["A"].width = 70
        sheet.column_dimensions["B"].width = 50
        if section.module == COMMITMENTS:
            sheet.append([])
            _header(
                sheet,
                _("Commitment"),
                _("Status"),
                _("Progress (%)"),
                _("Due date"),
                _("New progress (%)"),
                _("What was done"),
            )
            rows = await session.execute(
                select(Commitment.title, Commitment.status, Commitment.progress, Commitment.due_date)
                .where(
                    Commitment.city_id == city.id,
                    Commitment.published_at.is_not(None),
                    Commitment.status != CommitmentStatus.withdrawn,
                )
                .order_by(Commitment.created_at)
            )
            for title, status, progress, due in rows.all():
                sheet.append([title, status, progress, due.isoformat() if due else "", "", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_name(city_id: UUID, year: int) -> str:
    return f"monitoring-{year}-{str(city_id)[:8]}.xlsx"
