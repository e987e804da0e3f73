"""Business rules of the self-assessment module: framework versions, a city's yearly response and its answers,
the offline template and its upload, submission and cohort scoring, score sharing, and the pilot tools.

Services never commit: the caller's transaction does, so a change, its audit entry and its events are saved
together or not at all.

Submission rule (documented in the README): answers may be partial. A response can be submitted as soon as one
applicable indicator is answered; the engine re-weights around the gaps and the coverage (share of the
applicable indicators answered) is shown with every score, never hidden. Submitting re-scores the year's
submitted cohort of the same framework version, since normalisation is over the cohort.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.cities.models import City, Membership, MembershipStatus
from covenant.db import insert_or_skip, new_id
from covenant.events import outbox
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.monitoring.events import SectionSubmitted
from covenant.plugins import CycleSection, ReportSection
from covenant.web.pagination import Page
from modules.assessment import engine
from modules.assessment.events import AssessmentSubmitted
from modules.assessment.framework import Dimension, Framework, Indicator, default_framework
from modules.assessment.models import (
    Answer,
    AnswerSource,
    AssessmentResponse,
    AssessmentScore,
    FrameworkVersion,
    IndicatorFeedback,
    ResponseStatus,
    ScoreSharing,
    VersionStatus,
)
from modules.assessment.schemas import FeedbackItem, RawAnswer

Actor = Identity | UUID | None

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UPLOAD_ROWS = 2000
MAX_UNZIPPED_BYTES = 20 * 1024 * 1024
"""An XLSX is a zip: refuse one that would expand beyond this (a zip bomb), before openpyxl reads it."""
TEMPLATE_COLUMNS = ("code", "dimension", "name", "help", "unit", "type", "allowed values", "value")
WEAKEST_COUNT = 2
BULK_CHUNK = 500

COUNTRY_LANGUAGES: dict[str, str] = {"FR": "fr", "LU": "fr", "ES": "es", "IT": "it"}
"""The survey language a city starts with (it can change it); other countries start in English."""


# -- errors ------------------------------------------------------------------------------------------


class AssessmentError(ValueError):
    """A rule refused the request; ``field`` names the form field it concerns; ``text()`` is translated."""

    def __init__(self, field: str, message: str, params: Mapping[str, Any] | None = None) -> None:
        self.field = field
        self.message = message
        self.params = dict(params or {})
        super().__init__(message % self.params if self.params else message)

    def text(self) -> str:
        return _(self.message) % self.params if self.params else _(self.message)


class AnswerErrors(ValueError):
    """Some answers were refused (nothing was saved); ``errors`` maps the indicator code to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class UploadError(ValueError):
    """The uploaded file was refused as a whole (nothing saved); each message names its row and column."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def _actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


def _now() -> datetime:
    return datetime.now(UTC)


# -- framework versions ------------------------------------------------------------------------------

_parsed: dict[UUID, Framework] = {}
"""Parsed frameworks by version id. Rows are never edited (drafts are replaced by importing anew, published
ones are immutable), so the cache cannot go stale."""


def framework_of(version: FrameworkVersion) -> Framework:
    framework = _parsed.get(version.id)
    if framework is None:
        framework = Framework.from_yaml(version.yaml)
        _parsed[version.id] = framework
    return framework


async def ensure_default_framework(session: AsyncSession) -> FrameworkVersion | None:
    """Publish the shipped framework (seed/framework.yaml) when no version of any framework is published yet."""
    published = await session.scalar(
        select(FrameworkVersion).where(FrameworkVersion.status == VersionStatus.published).limit(1)
    )
    if published is not None:
        return None
    framework = default_framework()
    row = await session.scalar(
        select(FrameworkVersion).where(
            FrameworkVersion.code == framework.code, FrameworkVersion.version == framework.version
        )
    )
    if row is None:
        row = FrameworkVersion(
            id=new_id(),
            code=framework.code,
            version=framework.version,
            title=framework.title,
            yaml=framework.to_yaml(),
            indicator_count=len(framework.indicators),
            notes="Shipped with the platform (seed/framework.yaml).",
        )
        session.add(row)
    row.status = VersionStatus.published
    row.published_at = _now()
    audit.record(
        session,
        actor=None,
        action="assessment.framework_published",
        entity_type="assessment_framework_version",
        entity_id=row.id,
        after={"code": row.code, "version": row.version, "seeded": True},
    )
    await session.flush()
    return row


async def current_version(session: AsyncSession) -> FrameworkVersion:
    """The most recently published framework version (the shipped one is published on first use)."""
    await ensure_default_framework(session)
    row = await session.scalar(
        select(FrameworkVersion)
        .where(FrameworkVersion.status == VersionStatus.published)
        .order_by(FrameworkVersion.published_at.desc(), FrameworkVersion.id.desc())
        .limit(1)
    )
    assert row is not None  # ensured above
    return row


async def get_version(session: AsyncSession, version_id: UUID) -> FrameworkVersion | None:
    return await session.get(FrameworkVersion, version_id)


async def list_versions(
    session: AsyncSession, *, status: str = "", number: int = 1, size: int = 25
) -> Page[FrameworkVersion]:
    where = [FrameworkVersion.status == status] if status else []
    total = int(await session.scalar(select(func.count()).select_from(FrameworkVersion).where(*where)) or 0)
    rows = await session.scalars(
        select(FrameworkVersion)
        .where(*where)
        .order_by(FrameworkVersion.created_at.desc(), FrameworkVersion.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    )
    return Page(list(rows), total, number, size)


async def import_version(session: AsyncSession, text: str, *, notes: str = "", actor: Actor) -> FrameworkVersion:
    """Import a framework YAML as a new draft. Raises FrameworkError (every problem listed) or AssessmentError."""
    framework = Framework.from_yaml(text)
    exists = await session.scalar(
        select(FrameworkVersion.id).where(
            FrameworkVersion.code == framework.code, FrameworkVersion.version == framework.version
        )
    )
    if exists is not None:
        raise AssessmentError(
            "yaml",
            N_("Version %(version)s of framework %(code)s already exists; change the version in the file."),
            {"version": framework.version, "code": framework.code},
        )
    row = FrameworkVersion(
        id=new_id(),
        code=framework.code,
        version=framework.version,
        title=framework.title,
        status=VersionStatus.draft,
        yaml=text,
        indicator_count=len(framework.indicators),
        notes=notes,
        created_by=_actor_id(actor),
    )
    session.add(row)
    _parsed[row.id] = framework
    audit.record(
        session,
        actor=actor,
        action="assessment.framework_imported",
        entity_type="assessment_framework_version",
        entity_id=row.id,
        after={"code": row.code, "version": row.version, "indicators": row.indicator_count},
    )
    await session.flush()
    return row


async def publish_version(session: AsyncSession, version: FrameworkVersion, *, actor: Actor) -> None:
    """Publish a draft; from then on it is immutable and new responses use it."""
    if version.status != VersionStatus.draft:
        raise AssessmentError("status", N_("Only a draft can be published; published versions never change."))
    framework_of(version)  # a stored draft was checked on import; parse again to be sure
    version.status = VersionStatus.published
    version.published_at = _now()
    audit.record(
        session,
        actor=actor,
        action="assessment.framework_published",
        entity_type="assessment_framework_version",
        entity_id=version.id,
        after={"code": version.code, "version": version.version},
    )
    await session.flush()


async def delete_draft(session: AsyncSession, version: FrameworkVersion, *, actor: Actor) -> None:
    if version.status != VersionStatus.draft:
        raise AssessmentError("status", N_("Published versions are kept: results refer to them."))
    audit.record(
        session,
        actor=actor,
        action="assessment.framework_draft_deleted",
        entity_type="assessment_framework_version",
        entity_id=version.id,
        before={"code": version.code, "version": version.version},
    )
    _parsed.pop(version.id, None)
    await session.delete(version)
    await session.flush()


# -- a city's survey ---------------------------------------------------------------------------------


@dataclass
class DimensionGroup:
    dimension: Dimension
    indicators: list[Indicator]


@dataclass
class Survey:
    """What the survey page (and the API) shows for a city and a year; ``response`` is None until a first save."""

    city: City
    year: int
    version: FrameworkVersion
    framework: Framework
    response: AssessmentResponse | None
    answers: dict[str, Answer]
    language: str
    groups: list[DimensionGroup] = field(default_factory=list)

    @property
    def applicable(self) -> list[Indicator]:
        return [i for g in self.groups for i in g.indicators]

    @property
    def answered_codes(self) -> set[str]:
        return {code for code, a in self.answers.items() if a.value is not None}

    @property
    def answered(self) -> int:
        codes = self.answered_codes
        return sum(1 for i in self.applicable if i.code in codes)

    @property
    def coverage(self) -> float:
        applicable = len(self.applicable)
        return self.answered / applicable if applicable else 0.0

    @property
    def percent(self) -> int:
        return round(self.coverage * 100)

    @property
    def missing(self) -> list[Indicator]:
        codes = self.answered_codes
        return [i for i in self.applicable if i.code not in codes]

    @property
    def status(self) -> str:
        return self.response.status if self.response is not None else "not_started"

    @property
    def editable(self) -> bool:
        return self.response is None or self.response.status == ResponseStatus.draft

    def raw(self, code: str) -> str:
        answer = self.answers.get(code)
        return answer.raw if answer is not None else ""


def groups_for(framework: Framework, size_class: str) -> list[DimensionGroup]:
    """The framework's top-level dimensions with only the indicators of the size class (empty ones dropped)."""
    groups = []
    for dimension in framework.dimensions:
        indicators = [i for i in dimension.all_indicators if i.applies_to(size_class)]
        if indicators:
            groups.append(DimensionGroup(dimension, indicators))
    return groups


def default_language(city: City) -> str:
    return COUNTRY_LANGUAGES.get(city.country_code.upper(), "en")


async def response_of(session: AsyncSession, city_id: UUID, year: int) -> AssessmentResponse | None:
    response: AssessmentResponse | None = await session.scalar(
        select(AssessmentResponse).where(AssessmentResponse.city_id == city_id, AssessmentResponse.year == year)
    )
    return response


async def answers_of(session: AsyncSession, response_id: UUID) -> dict[str, Answer]:
    rows = await session.scalars(select(Answer).where(Answer.response_id == response_id))
    return {a.indicator_code: a for a in rows}


async def survey(session: AsyncSession, city: City, year: int) -> Survey:
    """The survey of ``city`` for ``year`` (nothing is written, except the shipped framework on first use)."""
    response = await response_of(session, city.id, year)
    if response is not None:
        version = await session.get(FrameworkVersion, response.framework_version_id)
        assert version is not None  # RESTRICT foreign key
        answers = await answers_of(session, response.id)
        language = response.language
    else:
        version = await current_version(session)
        answers = {}
        language = await _previous_language(session, city)
    framework = framework_of(version)
    return Survey(
        city=city,
        year=year,
        version=version,
        framework=framework,
        response=response,
        answers=answers,
        language=language,
        groups=groups_for(framework, city.size_class),
    )


async def _previous_language(session: AsyncSession, city: City) -> str:
    previous = await session.scalar(
        select(AssessmentResponse.language)
        .where(AssessmentResponse.city_id == city.id)
        .order_by(AssessmentResponse.year.desc())
        .limit(1)
    )
    return previous or default_language(city)


async def open_response(
    session: AsyncSession, city: City, year: int, *, opened_by: str = "survey", actor: Actor = None
) -> AssessmentResponse:
    """The city's response for the year, created as a draft on the current framework version if missing."""
    response = await response_of(session, city.id, year)
    if response is not None:
        return response
    version = await current_version(session)
    now = _now()
    values = {
        "id": new_id(),
        "city_id": city.id,
        "year": year,
        "framework_version_id": version.id,
        "language": await _previous_language(session, city),
        "status": ResponseStatus.draft.value,
        "opened_by": opened_by,
        "generated": False,
        "created_at": now,
        "updated_at": now,
    }
    # Two saves of a new survey (two fields changed at once, or a module's event) may race to open it: the
    # loser's insert does nothing and both continue with the one response.
    created = await session.execute(
        insert_or_skip(session, AssessmentResponse)
        .values(values)
        .on_conflict_do_nothing(index_elements=["city_id", "year"])
    )
    response = await response_of(session, city.id, year)
    assert response is not None
    if int(getattr(created, "rowcount", 0) or 0) == 1:
        audit.record(
            session,
            actor=actor,
            action="assessment.response_opened",
            entity_type="assessment_response",
            entity_id=response.id,
            after={"city_id": str(city.id), "year": year, "framework": f"{version.code} {version.version}"},
        )
        await session.flush()
    return response


def _require_draft(response: AssessmentResponse) -> None:
    if response.status != ResponseStatus.draft:
        raise AssessmentError("status", N_("This self-assessment is submitted; reopen it before changing its answers."))


def raw_text(raw: RawAnswer) -> str:
    """The answer as text, as it will be shown again (numbers without a useless ``.0``)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, int | float):
        return f"{raw:g}" if isinstance(raw, float) else str(raw)
    return str(raw).strip()


def canonical(indicator: Indicator, value: float | None, text: str) -> str:
    """The answer as it is stored and shown again: ``yes``/``no``, the choice's own value, or the number."""
    if value is None:
        return ""
    if indicator.type == "yes_no":
        return "yes" if value >= 0.5 else "no"
    if indicator.type == "choice":
        lowered = text.lower()
        return next((c.value for c in indicator.choices if c.value.lower() == lowered), text)
    return raw_text(value)


def check_answer(framework: Framework, size_class: str, code: str, raw: RawAnswer) -> tuple[float | None, str]:
    """The number an answer stands for and its canonical text; raises AssessmentError (field = the code)."""
    try:
        indicator = framework.indicator(code)
    except KeyError:
        raise AssessmentError(code, N_("Unknown indicator code %(code)s."), {"code": code}) from None
    if not indicator.applies_to(size_class):
        raise AssessmentError(code, N_("%(code)s does not apply to cities of this size class."), {"code": code})
    if indicator.source == "module":
        raise AssessmentError(
            code,
            N_("%(code)s is filled automatically from %(event)s; it cannot be entered."),
            {"code": code, "event": indicator.source_event or ""},
        )
    text = raw_text(raw)
    if len(text) > 200:
        raise AssessmentError(code, N_("%(code)s: the answer is longer than 200 characters."), {"code": code})
    try:
        value = indicator.parse(text)
    except ValueError as exc:
        raise AssessmentError(code, "%(problem)s", {"problem": str(exc)}) from None
    return value, canonical(indicator, value, text)


async def save_answers(
    session: AsyncSession,
    city: City,
    year: int,
    raws: Mapping[str, RawAnswer],
    *,
    source: str = AnswerSource.survey,
    actor: Actor,
    language: str | None = None,
) -> AssessmentResponse:
    """Save several answers at once: all of them or none (raises AnswerErrors listing each refused one).

    An empty answer clears the indicator. Opens the year's draft on first use; a submitted response is refused.
    """
    response = await open_response(session, city, year, actor=actor)
    _require_draft(response)
    version = await session.get(FrameworkVersion, response.framework_version_id)
    assert version is not None
    framework = framework_of(version)
    values: dict[str, tuple[float | None, str]] = {}
    errors: dict[str, str] = {}
    for code, raw in raws.items():
        try:
            values[code] = check_answer(framework, city.size_class, code, raw)
        except AssessmentError as exc:
            errors[code] = exc.text()
    if errors:
        raise AnswerErrors(errors)
    if language is not None:
        response.language = language
    existing = await answers_of(session, response.id)
    changed: dict[str, str] = {}
    for code, (value, text) in values.items():
        answer = existing.get(code)
        if value is None:
            if answer is not None:
                await session.delete(answer)
                changed[code] = ""
            continue
        if answer is None:
            session.add(
                Answer(id=new_id(), response_id=response.id, indicator_code=code, value=value, raw=text, source=source)
            )
        elif answer.value != value or answer.raw != text:
            answer.value, answer.raw, answer.source = value, text, source
        else:
            continue
        changed[code] = text
    if changed:
        response.updated_at = _now()
        audit.record(
            session,
            actor=actor,
            action="assessment.answers_saved",
            entity_type="assessment_response",
            entity_id=response.id,
            after={"source": source, "answers": changed},
        )
    await session.flush()
    return response


async def set_language(session: AsyncSession, city: City, year: int, language: str, *, actor: Actor) -> None:
    response = await open_response(session, city, year, actor=actor)
    response.language = language
    await session.flush()


# -- offline template (XLSX and CSV) and its upload --------------------------------------------------


def allowed_values(indicator: Indicator) -> str:
    """The allowed answers in words, for the template's 'allowed values' column (English, like the codes)."""
    if indicator.type == "choice":
        return " | ".join(c.value for c in indicator.choices)
    if indicator.type == "yes_no":
        return "yes | no"
    if indicator.type == "scale_1_5":
        return "1 | 2 | 3 | 4 | 5"
    low, high = indicator.bounds
    if low is not None and high is not None:
        return f"{low:g} to {high:g}"
    if low is not None:
        return f">= {low:g}"
    if high is not None:
        return f"<= {high:g}"
    return "any number"


def template_rows(current: Survey) -> list[list[str]]:
    """One row per applicable indicator, in the survey's language, prefilled with the current answers."""
    lang = current.language
    rows = []
    for group in current.groups:
        for indicator in group.indicators:
            help_text = indicator.text("help", lang) or indicator.text("definition", lang)
            if indicator.source == "module":
                help_text = f"[{_('filled automatically from %(event)s') % {'event': indicator.source_event}}] " + (
                    help_text
                )
            rows.append(
                [
                    indicator.code,
                    group.dimension.text("name", lang),
                    indicator.text("name", lang),
                    help_text,
                    indicator.unit,
                    indicator.type,
                    allowed_values(indicator),
                    current.raw(indicator.code),
                ]
            )
    return rows


def template_csv(current: Survey) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(template_rows(current))
    return out.getvalue()


def template_xlsx(current: Survey) -> bytes:
    # openpyxl is imported when a workbook is asked for: a web process need not carry it otherwise.
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "survey"
    sheet.append(list(TEMPLATE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = template_rows(current)
    by_code = {i.code: i for i in current.applicable}
    answer_fill = PatternFill("solid", fgColor="FFF7D6")
    for number, row in enumerate(rows, start=2):
        sheet.append(row)
        indicator = by_code[row[0]]
        if indicator.source != "module":
            sheet.cell(row=number, column=len(TEMPLATE_COLUMNS)).fill = answer_fill
        if indicator.type in ("choice", "yes_no", "scale_1_5"):
            options = allowed_values(indicator).replace(" | ", ",")
            if len(options) < 250:  # Excel's limit for an inline list
                check = DataValidation(type="list", formula1=f'"{options}"', allow_blank=True)
                sheet.add_data_validation(check)
                check.add(f"H{number}")
    for letter, width in zip("ABCDEFGH", (16, 28, 44, 60, 14, 12, 24, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def read_table(content: bytes) -> list[list[str]]:
    """The rows of an uploaded XLSX or CSV file (recognised by its content, not its name), as text.

    Raises UploadError when the file is too large, is neither, or cannot be read."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadError([_("The file is larger than 2 MB.")])
    if not content.strip():
        raise UploadError([_("The file is empty.")])
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(content)
    if content.startswith((b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8")):
        raise UploadError([_("The file is neither an XLSX workbook nor a CSV file.")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError([_("The file is not UTF-8 text; save it as CSV (UTF-8) or as an XLSX workbook.")]) from None
    if "\x00" in text:
        raise UploadError([_("The file is neither an XLSX workbook nor a CSV file.")])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise UploadError([_("The CSV file cannot be read: %(error)s") % {"error": str(exc)}]) from None
    if len(rows) > MAX_UPLOAD_ROWS + 1:
        raise UploadError([_("The file has more than %(n)s rows.") % {"n": MAX_UPLOAD_ROWS}])
    return rows


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED_BYTES:
                raise UploadError([_("The workbook is too large once unpacked.")])
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except UploadError:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise UploadError([_("The workbook cannot be read (%(error)s).") % {"error": type(exc).__name__}]) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise UploadError([_("The workbook has no sheet.")])
        rows: list[list[str]] = []
        for row in sheet.iter_rows(values_only=True):
            if len(rows) > MAX_UPLOAD_ROWS:
                raise UploadError([_("The file has more than %(n)s rows.") % {"n": MAX_UPLOAD_ROWS}])
            rows.append([_cell_text(v) for v in row[:40]])
        return rows
    finally:
        workbook.close()


@dataclass
class UploadResult:
    saved: int
    cleared: int


async def import_upload(session: AsyncSession, city: City, year: int, content: bytes, *, actor: Actor) -> UploadResult:
    """Import a filled template: every row is checked and every problem reported with its row and column;
    nothing is saved if any row is refused. An empty value clears the answer; indicators without a row are
    left as they are. Values of indicators filled by other modules must be left as in the template."""
    rows = read_table(content)
    current = await survey(session, city, year)
    if current.response is not None:
        _require_draft(current.response)
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "code" not in header or "value" not in header:
        missing = ", ".join(c for c in ("code", "value") if c not in header)
        raise UploadError([_("Row 1: the header has no column %(columns)s.") % {"columns": missing}])
    code_col, value_col = header.index("code"), header.index("value")
    framework = current.framework
    errors: list[str] = []
    seen: dict[str, int] = {}
    raws: dict[str, str] = {}

    def problem(row_number: int, column: str, message: str) -> None:
        errors.append(
            _("Row %(row)s, column %(column)s: %(message)s") % {"row": row_number, "column": column, "message": message}
        )

    for row_number, row in enumerate(rows[1:], start=2):
        cells = row + [""] * (max(code_col, value_col) + 1 - len(row))
        code, value = cells[code_col].strip(), cells[value_col].strip()
        if not code and not value and not any(c.strip() for c in row):
            continue
        if not code:
            problem(row_number, "code", _("the indicator code is missing."))
            continue
        if code in seen:
            problem(
                row_number,
                "code",
                _("%(code)s appears twice (first on row %(first)s).") % {"code": code, "first": seen[code]},
            )
            continue
        seen[code] = row_number
        try:
            indicator = framework.indicator(code)
        except KeyError:
            problem(row_number, "code", _("unknown indicator code %(code)s.") % {"code": code})
            continue
        if not indicator.applies_to(city.size_class):
            if value:
                problem(row_number, "code", _("%(code)s does not apply to cities of this size class.") % {"code": code})
            continue
        if indicator.source == "module":
            if value and value != current.raw(code):
                problem(
                    row_number,
                    "value",
                    _("%(code)s is filled automatically from %(event)s; leave the value as it is in the template.")
                    % {"code": code, "event": indicator.source_event},
                )
            continue
        try:
            indicator.parse(value)
        except ValueError as exc:
            problem(row_number, "value", str(exc))
            continue
        raws[code] = value
    if errors:
        raise UploadError(errors)
    if not raws:
        raise UploadError([_("The file has no indicator rows to import.")])
    try:
        await save_answers(session, city, year, raws, source=AnswerSource.upload, actor=actor)
    except AnswerErrors as exc:  # the checks above make this unlikely; still report it row by row
        raise UploadError(
            [_("Row %(row)s: %(message)s") % {"row": seen.get(k, "?"), "message": v} for k, v in exc.errors.items()]
        ) from None
    return UploadResult(saved=sum(1 for v in raws.values() if v), cleared=sum(1 for v in raws.values() if not v))


# -- submission and cohort scoring --------------------------------------------------------------------


@dataclass
class Submission:
    response: AssessmentResponse
    score: AssessmentScore | None
    event: AssessmentSubmitted


async def submit(session: AsyncSession, city: City, year: int, *, actor: Actor) -> Submission:
    """Submit the year's response, re-score its cohort, and emit ``assessment.submitted`` and the cycle's
    ``cycle.section_submitted``. Partial answers are accepted (coverage is reported), an empty survey is not."""
    current = await survey(session, city, year)
    response = current.response
    if response is None or current.answered == 0:
        raise AssessmentError("submit", N_("Answer at least one indicator before submitting."))
    _require_draft(response)
    response.status = ResponseStatus.submitted
    response.submitted_at = _now()
    response.submitted_by = _actor_id(actor)
    await session.flush()
    try:
        scores = await rescore(session, year, current.version)
    except engine.EngineError as exc:
        raise AssessmentError("submit", "%(problem)s", {"problem": str(exc)}) from None
    own = scores.get(response.id)
    dimension_scores = {k: v for k, v in (own.dimensions if own else {}).items() if v is not None}
    weakest = [code for code, _v in sorted(dimension_scores.items(), key=lambda kv: (kv[1], kv[0]))][:WEAKEST_COUNT]
    event = AssessmentSubmitted(
        actor=_actor_id(actor),
        city_id=city.id,
        response_id=response.id,
        year=year,
        framework_code=current.version.code,
        framework_version=current.version.version,
        dimension_scores=dimension_scores,
        weakest_dimensions=weakest,
        index=own.index if own else None,
        coverage=round(current.coverage, 4),
    )
    outbox.record(session, event)
    # The cycle's checklist listens to this core event; it is not in ``publishes`` because the core owns it.
    outbox.record(
        session,
        SectionSubmitted(
            actor=_actor_id(actor), city_id=city.id, year=year, module="assessment", completeness=current.percent
        ),
    )
    audit.record(
        session,
        actor=actor,
        action="assessment.response_submitted",
        entity_type="assessment_response",
        entity_id=response.id,
        after={"year": year, "coverage": round(current.coverage, 4), "weakest": weakest},
    )
    await session.flush()
    return Submission(response, own, event)


async def reopen(session: AsyncSession, city: City, year: int, *, actor: Actor) -> AssessmentResponse:
    """Back to draft (to correct answers); its score leaves the cohort until it is submitted again."""
    response = await response_of(session, city.id, year)
    if response is None or response.status != ResponseStatus.submitted:
        raise AssessmentError("status", N_("Only a submitted self-assessment can be reopened."))
    response.status = ResponseStatus.draft
    response.submitted_at = None
    await session.execute(delete(AssessmentScore).where(AssessmentScore.response_id == response.id))
    audit.record(
        session,
        actor=actor,
        action="assessment.response_reopened",
        entity_type="assessment_response",
        entity_id=response.id,
        after={"year": year},
    )
    await session.flush()
    return response


def _float(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 6)


async def rescore(session: AsyncSession, year: int, version: FrameworkVersion) -> dict[UUID, AssessmentScore]:
    """Score every submitted response of ``year`` on ``version`` together and replace their score rows."""
    framework = framework_of(version)
    units = (
        await session.execute(
            select(
                AssessmentResponse.id,
                AssessmentResponse.city_id,
                City.size_class,
                City.population,
                City.country_code,
            )
            .join(City, City.id == AssessmentResponse.city_id)
            .where(
                AssessmentResponse.year == year,
                AssessmentResponse.framework_version_id == version.id,
                AssessmentResponse.status == ResponseStatus.submitted,
            )
            .order_by(AssessmentResponse.id)
        )
    ).all()
    await session.execute(
        delete(AssessmentScore).where(AssessmentScore.year == year, AssessmentScore.framework_version_id == version.id)
    )
    if not units:
        return {}
    position = {u.id: n for n, u in enumerate(units)}
    column = {code: n for n, code in enumerate(framework.indicator_codes)}
    values = np.full((len(units), len(column)), np.nan)
    answers = await session.execute(
        select(Answer.response_id, Answer.indicator_code, Answer.value)
        .join(AssessmentResponse, AssessmentResponse.id == Answer.response_id)
        .where(
            AssessmentResponse.year == year,
            AssessmentResponse.framework_version_id == version.id,
            AssessmentResponse.status == ResponseStatus.submitted,
            Answer.value.is_not(None),
        )
    )
    for response_id, code, value in answers:
        if code in column:
            values[position[response_id], column[code]] = value
    scores = engine.score(
        framework,
        [str(u.id) for u in units],
        values,
        size_classes=[u.size_class for u in units],
        population=[float(u.population) for u in units],
    )
    now = _now()
    rows: list[dict[str, Any]] = []
    for n, unit in enumerate(units):
        normalised = {
            code: round(float(scores.normalised[n, j]), 6)
            for j, code in enumerate(scores.indicator_codes)
            if not np.isnan(scores.normalised[n, j])
        }
        rows.append(
            {
                "id": new_id(),
                "response_id": unit.id,
                "city_id": unit.city_id,
                "year": year,
                "framework_version_id": version.id,
                "size_class": unit.size_class,
                "country_code": unit.country_code,
                "index": _float(scores.index[n]),
                "coverage": _float(scores.coverage[n]) or 0.0,
                "dimensions": {code: _float(arr[n]) for code, arr in scores.dimensions.items()},
                "normalised": normalised,
                "missing": list(scores.missing.get(str(unit.id), ())),
                "cohort_size": len(units),
                "computed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), BULK_CHUNK):
        await session.execute(insert(AssessmentScore).values(rows[start : start + BULK_CHUNK]))
    stored = await session.scalars(
        select(AssessmentScore).where(AssessmentScore.year == year, AssessmentScore.framework_version_id == version.id)
    )
    return {s.response_id: s for s in stored}


async def score_of(session: AsyncSession, response_id: UUID) -> AssessmentScore | None:
    score: AssessmentScore | None = await session.scalar(
        select(AssessmentScore).where(AssessmentScore.response_id == response_id)
    )
    return score


async def city_scores(session: AsyncSession, city_id: UUID) -> list[tuple[AssessmentScore, FrameworkVersion]]:
    rows = await session.execute(
        select(AssessmentScore, FrameworkVersion)
        .join(FrameworkVersion, FrameworkVersion.id == AssessmentScore.framework_version_id)
        .where(AssessmentScore.city_id == city_id)
        .order_by(AssessmentScore.year.desc())
    )
    return [(s, v) for s, v in rows.tuples()]


async def city_responses(session: AsyncSession, city_id: UUID) -> list[AssessmentResponse]:
    rows = await session.scalars(
        select(AssessmentResponse).where(AssessmentResponse.city_id == city_id).order_by(AssessmentResponse.year.desc())
    )
    return list(rows)


@dataclass
class ResponseRow:
    response: AssessmentResponse
    city: City
    answered: int
    score: AssessmentScore | None


async def list_responses(
    session: AsyncSession, *, year: int, status: str = "", q: str = "", number: int = 1, size: int = 25
) -> Page[ResponseRow]:
    """The year's responses of real cities (the demo's generated cohort left out), for admins."""
    where = [AssessmentResponse.year == year, AssessmentResponse.generated.is_(False)]
    if status:
        where.append(AssessmentResponse.status == status)
    if q:
        where.append(City.name.ilike(f"%{q}%"))
    base = select(AssessmentResponse, City).join(City, City.id == AssessmentResponse.city_id).where(*where)
    total = int(await session.scalar(select(func.count()).select_from(base.subquery())) or 0)
    rows = (await session.execute(base.order_by(City.name, City.id).offset((number - 1) * size).limit(size))).all()
    ids = [r.id for r, _c in rows]
    counts: dict[UUID, int] = {}
    if ids:
        counted = await session.execute(
            select(Answer.response_id, func.count())
            .where(Answer.response_id.in_(ids), Answer.value.is_not(None))
            .group_by(Answer.response_id)
        )
        counts = {response_id: int(n) for response_id, n in counted}
    scores = (
        {
            s.response_id: s
            for s in await session.scalars(select(AssessmentScore).where(AssessmentScore.response_id.in_(ids)))
        }
        if ids
        else {}
    )
    return Page([ResponseRow(r, c, int(counts.get(r.id, 0)), scores.get(r.id)) for r, c in rows], total, number, size)


# -- sharing ------------------------------------------------------------------------------------------


async def sharing_of(session: AsyncSession, city_id: UUID) -> bool:
    return bool(await session.scalar(select(ScoreSharing.shared).where(ScoreSharing.city_id == city_id)))


async def shared_city_ids(session: AsyncSession) -> set[UUID]:
    """Cities that opted in to show their individual scores to peers (everyone else: aggregates only)."""
    return set(await session.scalars(select(ScoreSharing.city_id).where(ScoreSharing.shared.is_(True))))


async def set_sharing(session: AsyncSession, city_id: UUID, shared: bool, *, actor: Actor) -> None:
    row = await session.scalar(select(ScoreSharing).where(ScoreSharing.city_id == city_id))
    before = row.shared if row is not None else False
    if row is None:
        row = ScoreSharing(id=new_id(), city_id=city_id)
        session.add(row)
    row.shared = shared
    row.decided_by = _actor_id(actor)
    audit.record(
        session,
        actor=actor,
        action="assessment.sharing_changed",
        entity_type="assessment_sharing",
        entity_id=row.id,
        before={"shared": before},
        after={"shared": shared},
    )
    await session.flush()


# -- pilot tools --------------------------------------------------------------------------------------


async def feedback_of(session: AsyncSession, city_id: UUID, version_id: UUID) -> dict[str, IndicatorFeedback]:
    rows = await session.scalars(
        select(IndicatorFeedback).where(
            IndicatorFeedback.city_id == city_id, IndicatorFeedback.framework_version_id == version_id
        )
    )
    return {f.indicator_code: f for f in rows}


async def save_feedback(
    session: AsyncSession,
    city_id: UUID,
    version: FrameworkVersion,
    items: Mapping[str, FeedbackItem],
    *,
    actor: Actor,
) -> int:
    """Save the city's feedback on the listed indicators (an emptied item is removed). Returns how many kept."""
    framework = framework_of(version)
    known = set(framework.indicator_codes)
    unknown = sorted(set(items) - known)
    if unknown:
        raise AssessmentError("feedback", N_("Unknown indicator code %(code)s."), {"code": unknown[0]})
    existing = await feedback_of(session, city_id, version.id)
    kept = 0
    for code, item in items.items():
        row = existing.get(code)
        if item.empty:
            if row is not None:
                await session.delete(row)
            continue
        if row is None:
            row = IndicatorFeedback(id=new_id(), city_id=city_id, framework_version_id=version.id, indicator_code=code)
            session.add(row)
        row.usability, row.relevance, row.comment = item.usability, item.relevance, item.comment
        row.author_id = _actor_id(actor)
        kept += 1
    audit.record(
        session,
        actor=actor,
        action="assessment.feedback_saved",
        entity_type="assessment_framework_version",
        entity_id=version.id,
        after={"city_id": str(city_id), "indicators": kept},
    )
    await session.flush()
    return kept


@dataclass
class IndicatorPilot:
    indicator: Indicator
    dimension: Dimension
    applicable: int = 0
    answered: int = 0
    usability: list[int] = field(default_factory=list)
    relevance: list[int] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def completeness(self) -> float | None:
        return self.answered / self.applicable if self.applicable else None

    @property
    def empty_share(self) -> float | None:
        return 1 - self.answered / self.applicable if self.applicable else None

    @property
    def mean_usability(self) -> float | None:
        return round(statistics.fmean(self.usability), 2) if self.usability else None

    @property
    def mean_relevance(self) -> float | None:
        return round(statistics.fmean(self.relevance), 2) if self.relevance else None


@dataclass
class PilotReport:
    year: int
    version: FrameworkVersion
    signatories: int
    responses: int
    submitted: int
    indicators: list[IndicatorPilot]
    feedback_cities: int

    @property
    def response_rate(self) -> float | None:
        return self.submitted / self.signatories if self.signatories else None

    def most_often_empty(self, limit: int = 10) -> list[IndicatorPilot]:
        rows = [r for r in self.indicators if r.applicable and r.empty_share]
        return sorted(rows, key=lambda r: (-(r.empty_share or 0), r.indicator.code))[:limit]


async def pilot_report(session: AsyncSession, year: int, version: FrameworkVersion | None = None) -> PilotReport:
    """Response rate (submitted responses of signatories / active signatories), completeness per indicator,
    usability and relevance ratings, and the indicators most often left empty. The demo's generated cohort is
    left out: the pilot is about the signatories."""
    version = version or await current_version(session)
    framework = framework_of(version)
    signatory_ids = set(
        await session.scalars(select(Membership.city_id).where(Membership.status == MembershipStatus.signatory))
    )
    responses = (
        await session.execute(
            select(AssessmentResponse.id, AssessmentResponse.status, City.size_class)
            .join(City, City.id == AssessmentResponse.city_id)
            .where(
                AssessmentResponse.year == year,
                AssessmentResponse.framework_version_id == version.id,
                AssessmentResponse.generated.is_(False),
                AssessmentResponse.city_id.in_(signatory_ids) if signatory_ids else AssessmentResponse.id.is_(None),
            )
        )
    ).all()
    answered: dict[UUID, set[str]] = defaultdict(set)
    ids = [r.id for r in responses]
    for start in range(0, len(ids), BULK_CHUNK):
        rows = await session.execute(
            select(Answer.response_id, Answer.indicator_code).where(
                Answer.response_id.in_(ids[start : start + BULK_CHUNK]), Answer.value.is_not(None)
            )
        )
        for response_id, code in rows:
            answered[response_id].add(code)
    per: dict[str, IndicatorPilot] = {
        i.code: IndicatorPilot(i, framework.dimension_of(i.code)) for i in framework.indicators
    }
    for r in responses:
        for indicator in framework.indicators_for(r.size_class):
            item = per[indicator.code]
            item.applicable += 1
            item.answered += indicator.code in answered[r.id]
    feedback = await session.scalars(
        select(IndicatorFeedback).where(IndicatorFeedback.framework_version_id == version.id)
    )
    cities: set[UUID] = set()
    for f in feedback:
        rated = per.get(f.indicator_code)
        if rated is None:
            continue
        cities.add(f.city_id)
        if f.usability is not None:
            rated.usability.append(f.usability)
        if f.relevance is not None:
            rated.relevance.append(f.relevance)
        if f.comment:
            rated.comments.append(f.comment)
    return PilotReport(
        year=year,
        version=version,
        signatories=len(signatory_ids),
        responses=len(responses),
        submitted=sum(1 for r in responses if r.status == ResponseStatus.submitted),
        indicators=list(per.values()),
        feedback_cities=len(cities),
    )


def pilot_csv(report: PilotReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "code",
            "dimension",
            "name",
            "applicable_responses",
            "answered",
            "completeness",
            "mean_usability",
            "mean_relevance",
            "ratings",
            "comments",
        ]
    )
    for r in report.indicators:
        writer.writerow(
            [
                r.indicator.code,
                r.dimension.code,
                r.indicator.name,
                r.applicable,
                r.answered,
                "" if r.completeness is None else f"{r.completeness:.3f}",
                "" if r.mean_usability is None else r.mean_usability,
                "" if r.mean_relevance is None else r.mean_relevance,
                max(len(r.usability), len(r.relevance)),
                " | ".join(c.replace("\n", " ") for c in r.comments),
            ]
        )
    return out.getvalue()


# -- the yearly cycle and report -----------------------------------------------------------------------


async def cycle_section(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """Completeness = the share of the applicable indicators answered; submitted once the city submits."""
    link = f"/m/assessment/cities/{city_id}/years/{year}"
    city = await session.get(City, city_id)
    response = await response_of(session, city_id, year)
    if city is None or response is None:
        return CycleSection(status="not_started", completeness=0, link=link)
    current = await survey(session, city, year)
    if response.status == ResponseStatus.submitted:
        return CycleSection(status="submitted", completeness=current.percent, link=link)
    if current.answered == 0:
        return CycleSection(status="not_started", completeness=0, link=link)
    return CycleSection(status="in_progress", completeness=current.percent, link=link)


async def report_section(session: AsyncSession, year: int) -> ReportSection:
    """Aggregates only (no city is named, no ranking): participation, coverage and the median per dimension."""
    rows = (
        await session.execute(
            select(
                AssessmentScore.size_class,
                AssessmentScore.coverage,
                AssessmentScore.dimensions,
                AssessmentScore.index.label("composite"),
            )
            .join(AssessmentResponse, AssessmentResponse.id == AssessmentScore.response_id)
            .where(AssessmentScore.year == year, AssessmentResponse.generated.is_(False))
        )
    ).all()
    drafts = int(
        await session.scalar(
            select(func.count())
            .select_from(AssessmentResponse)
            .where(
                AssessmentResponse.year == year,
                AssessmentResponse.status == ResponseStatus.draft,
                AssessmentResponse.generated.is_(False),
            )
        )
        or 0
    )
    by_dimension: dict[str, list[float]] = defaultdict(list)
    by_size: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for code, value in (row.dimensions or {}).items():
            if value is not None:
                by_dimension[code].append(value)
        if row.composite is not None:
            by_size[row.size_class].append(row.composite)
    figures: dict[str, int | float | str] = {
        "self-assessments submitted": len(rows),
        "drafts": drafts,
    }
    if rows:
        figures["median coverage"] = round(statistics.median(r.coverage for r in rows), 3)
    tables = [
        {"dimension": code, "responses": len(values), "median": round(statistics.median(values), 3)}
        for code, values in sorted(by_dimension.items())
    ] + [
        {"size class": size, "responses": len(values), "median index": round(statistics.median(values), 3)}
        for size, values in sorted(by_size.items())
    ]
    return ReportSection(
        title="Self-assessment",
        figures=figures,
        tables=tables,
        narrative="Medians over the submitted self-assessments; individual scores are not published.",
    )


def chunks(items: Sequence[dict[str, Any]], size: int = BULK_CHUNK) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
