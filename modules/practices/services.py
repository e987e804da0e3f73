"""Business rules of the good-practice library: fiches and their review, images, search, campaigns, the
monitoring table, rules of thumb and the inventory.

Services never commit: the caller's transaction (the request, a handler, the demo loader, a test) does, so a
state change, its audit entries and its events are saved together or not at all.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import anyio
import yaml
from PIL import Image, UnidentifiedImageError
from sqlalchemy import ColumnElement, String, and_, cast, func, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.calendar.services import announce_deadline
from covenant.cities.models import City, Membership, MembershipStatus
from covenant.commitments.models import Commitment
from covenant.db import new_id
from covenant.events import outbox
from covenant.i18n import N_, recipient_locale, using_locale
from covenant.i18n import gettext as _
from covenant.notifications import queue_mail
from covenant.plugins import CycleSection, ReportSection
from covenant.web.pagination import Page
from modules.practices.events import FichePublished
from modules.practices.models import (
    EDITABLE,
    MEASURES,
    CampaignInvitation,
    CollectionCampaign,
    CommitmentLink,
    FicheDocument,
    FicheImage,
    FicheStatus,
    ImageStage,
    PeerRecommendation,
    PracticeFiche,
    ReviewComment,
    SmartIndicator,
)
from modules.practices.schemas import CampaignInput, FicheInput, IndicatorInput, ReviewInput

Actor = Identity | UUID | None
ENTITY = "practices_fiche"
SLUG = "practices"
SEED = Path(__file__).parent / "seed"

MAX_IMAGE_BYTES = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
THUMBNAIL_SIZE = (480, 480)


class PracticeError(ValueError):
    """A rule of the domain refused the input; ``field`` names the form field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


def _actor_name(actor: Actor) -> str:
    if isinstance(actor, Identity):
        return actor.display_name or actor.email
    return ""


# --- fiches -----------------------------------------------------------------------------------------


FIELDS = (
    "title",
    "project",
    "summary",
    "place_kind",
    "problem",
    "measures",
    "partnership",
    "outcome",
    "cost_range",
    "duration_months",
    "difficulties",
    "lessons",
    "links",
    "tags",
    "language",
    "languages",
    "year",
)


def snapshot(fiche: PracticeFiche) -> dict[str, Any]:
    return {name: getattr(fiche, name) for name in FIELDS}


def _apply(fiche: PracticeFiche, data: FicheInput) -> None:
    for name in FIELDS:
        value = getattr(data, name)
        setattr(fiche, name, list(value) if isinstance(value, list) else value)


async def create_fiche(session: AsyncSession, city_id: UUID | None, data: FicheInput, *, actor: Actor) -> PracticeFiche:
    """A new draft fiche of the city (private until published)."""
    fiche = PracticeFiche(id=new_id(), city_id=city_id, status=FicheStatus.draft)
    _apply(fiche, data)
    session.add(fiche)
    audit.record(
        session,
        actor=actor,
        action="practices.fiche_created",
        entity_type=ENTITY,
        entity_id=fiche.id,
        after=snapshot(fiche),
    )
    await session.flush()
    return fiche


async def update_fiche(session: AsyncSession, fiche: PracticeFiche, data: FicheInput, *, actor: Actor) -> PracticeFiche:
    """New values for a draft (or a fiche sent back for changes); submitted fiches are frozen for review."""
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be edited."))
    before = snapshot(fiche)
    _apply(fiche, data)
    after = snapshot(fiche)
    changed = {k for k in after if after[k] != before[k]}
    audit.record(
        session,
        actor=actor,
        action="practices.fiche_updated",
        entity_type=ENTITY,
        entity_id=fiche.id,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    await session.flush()
    return fiche


async def get_fiche(session: AsyncSession, fiche_id: UUID) -> PracticeFiche | None:
    return await session.get(PracticeFiche, fiche_id)


async def get_city_fiche(session: AsyncSession, city_id: UUID, fiche_id: UUID) -> PracticeFiche | None:
    """The fiche only when it belongs to that city (a route of city A never reaches city B's rows)."""
    fiche = await session.get(PracticeFiche, fiche_id)
    return fiche if fiche is not None and fiche.city_id == city_id else None


async def add_indicator(
    session: AsyncSession, fiche: PracticeFiche, data: IndicatorInput, *, actor: Actor
) -> SmartIndicator:
    """A SMART indicator (the schema already insists on both values and both dates, in order)."""
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be edited."))
    indicator = SmartIndicator(id=new_id(), fiche_id=fiche.id, **data.model_dump())
    session.add(indicator)
    audit.record(
        session,
        actor=actor,
        action="practices.indicator_added",
        entity_type=ENTITY,
        entity_id=fiche.id,
        after=data.model_dump(mode="json"),
    )
    await session.flush()
    return indicator


async def indicators_of(session: AsyncSession, fiche_id: UUID) -> list[SmartIndicator]:
    rows = await session.scalars(
        select(SmartIndicator).where(SmartIndicator.fiche_id == fiche_id).order_by(SmartIndicator.created_at)
    )
    return list(rows)


# --- images -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedImage:
    format: str
    content_type: str
    extension: str
    width: int
    height: int


def check_image(raw: bytes) -> CheckedImage:
    """The upload's real type and size, read from its content (never from its name or declared type).

    Refuses files above 10 MB, files Pillow cannot decode, formats other than JPEG, PNG and WebP, and
    decompression bombs.
    """
    if not raw:
        raise PracticeError("file", N_("Choose an image file."))
    if len(raw) > MAX_IMAGE_BYTES:
        raise PracticeError("file", N_("The image is larger than 10 MB."))
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(raw)) as img:
            fmt = img.format or ""
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PracticeError("file", N_("The file is not an image (JPEG, PNG or WebP).")) from exc
    if fmt not in IMAGE_FORMATS:
        raise PracticeError("file", N_("The file is not an image (JPEG, PNG or WebP)."))
    content_type, extension = IMAGE_FORMATS[fmt]
    return CheckedImage(fmt, content_type, extension, width, height)


def _store_files(directory: Path, raw: bytes, extension: str) -> tuple[str, str]:
    """Write the image and its thumbnail under random names; returns (stored name, thumbnail name)."""
    directory.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    stored, thumb = f"{token}.{extension}", f"{token}-thumb.jpg"
    (directory / stored).write_bytes(raw)
    (directory / thumb).write_bytes(_thumbnail(raw))
    return stored, thumb


def _remove_files(directory: Path, names: Sequence[str]) -> None:
    for name in names:
        (directory / name).unlink(missing_ok=True)


def _thumbnail(raw: bytes) -> bytes:
    with Image.open(io.BytesIO(raw)) as img:
        img.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
        return out.getvalue()


async def add_image(
    session: AsyncSession,
    fiche: PracticeFiche,
    *,
    stage: str,
    caption: str,
    alt_text: str,
    raw: bytes,
    directory: Path,
    actor: Actor,
) -> FicheImage:
    """Store a before/after image (checked by content) and its thumbnail under random names in ``directory``."""
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be edited."))
    if stage not in set(ImageStage):
        raise PracticeError("stage", N_("Say whether the image shows the place before or after."))
    alt_text, caption = alt_text.strip(), caption.strip()
    if len(alt_text) < 5:
        raise PracticeError("alt_text", N_("Describe the image in a few words for people who cannot see it."))
    if len(alt_text) > 300 or len(caption) > 300:
        raise PracticeError("caption", N_("Keep the caption and the description under 300 characters."))
    checked = check_image(raw)
    stored, thumb = await anyio.to_thread.run_sync(_store_files, directory, raw, checked.extension)
    image = FicheImage(
        id=new_id(),
        fiche_id=fiche.id,
        stage=stage,
        caption=caption,
        alt_text=alt_text,
        stored_name=stored,
        thumbnail_name=thumb,
        content_type=checked.content_type,
        size_bytes=len(raw),
        width=checked.width,
        height=checked.height,
    )
    session.add(image)
    audit.record(
        session,
        actor=actor,
        action="practices.image_added",
        entity_type=ENTITY,
        entity_id=fiche.id,
        after={"image_id": str(image.id), "stage": stage, "alt_text": alt_text},
    )
    await session.flush()
    return image


async def images_of(session: AsyncSession, fiche_id: UUID) -> list[FicheImage]:
    rows = await session.scalars(
        select(FicheImage)
        .where(FicheImage.fiche_id == fiche_id)
        .order_by(FicheImage.stage.desc(), FicheImage.created_at)
    )
    return list(rows)


async def delete_image(
    session: AsyncSession, fiche: PracticeFiche, image: FicheImage, directory: Path, *, actor: Actor
) -> None:
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be edited."))
    await session.delete(image)
    await anyio.to_thread.run_sync(_remove_files, directory, [image.stored_name, image.thumbnail_name])
    audit.record(
        session,
        actor=actor,
        action="practices.image_removed",
        entity_type=ENTITY,
        entity_id=fiche.id,
        before={"image_id": str(image.id)},
    )
    await session.flush()


# --- documents (PDF) --------------------------------------------------------------------------------

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def check_pdf(raw: bytes) -> None:
    """Accept a PDF by its content: the ``%PDF-`` signature at the start and an end-of-file marker near the end
    (a renamed file of another kind, or a truncated PDF, is refused); at most 10 MB."""
    if not raw:
        raise PracticeError("file", N_("Choose a PDF file."))
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise PracticeError("file", N_("The document is larger than 10 MB."))
    if not raw.startswith(b"%PDF-") or b"%%EOF" not in raw[-2048:]:
        raise PracticeError("file", N_("The file is not a PDF document."))


def _store_document(directory: Path, raw: bytes) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.pdf"
    (directory / name).write_bytes(raw)
    return name


async def add_document(
    session: AsyncSession,
    fiche: PracticeFiche,
    *,
    title: str,
    original_name: str,
    raw: bytes,
    directory: Path,
    actor: Actor,
) -> FicheDocument:
    """Attach a PDF (checked by content) to an editable fiche; stored under a random name in ``directory``."""
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be edited."))
    original = Path(original_name or "").name[:200]
    title = title.strip() or Path(original).stem.strip()
    if len(title) < 3:
        raise PracticeError("title", N_("Give the document a title."))
    if len(title) > 200:
        raise PracticeError("title", N_("Keep the title under 200 characters."))
    check_pdf(raw)
    stored = await anyio.to_thread.run_sync(_store_document, directory, raw)
    document = FicheDocument(
        id=new_id(), fiche_id=fiche.id, title=title, original_name=original, stored_name=stored, size_bytes=len(raw)
    )
    session.add(document)
    audit.record(
        session,
        actor=actor,
        action="practices.document_added",
        entity_type=ENTITY,
        entity_id=fiche.id,
        after={"document_id": str(document.id), "title": title, "size_bytes": len(raw)},
    )
    await session.flush()
    return document


async def delete_document(
    session: AsyncSession, fiche: PracticeFiche, document: FicheDocument, directory: Path, *, actor: Actor
) -> None:
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be edited."))
    await session.delete(document)
    await anyio.to_thread.run_sync(_remove_files, directory, [document.stored_name])
    audit.record(
        session,
        actor=actor,
        action="practices.document_removed",
        entity_type=ENTITY,
        entity_id=fiche.id,
        before={"document_id": str(document.id), "title": document.title},
    )
    await session.flush()


def download_name(title: str) -> str:
    """A safe ASCII file name for the Content-Disposition header, from the document's title."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", title).strip("-.")[:80]
    return f"{stem or 'document'}.pdf"


# --- workflow ---------------------------------------------------------------------------------------


def _move(session: AsyncSession, fiche: PracticeFiche, status: FicheStatus, actor: Actor) -> None:
    before = fiche.status
    fiche.status = status
    audit.record(
        session,
        actor=actor,
        action=f"practices.fiche_{status.value}",
        entity_type=ENTITY,
        entity_id=fiche.id,
        before={"status": before},
        after={"status": status.value},
    )


async def submit_fiche(session: AsyncSession, fiche: PracticeFiche, *, actor: Actor) -> PracticeFiche:
    """The city sends its fiche for review; it must tell its outcome and, if it has indicators, they are SMART."""
    if fiche.status not in EDITABLE:
        raise PracticeError("status", N_("Only a draft or a fiche sent back for changes can be submitted."))
    if not fiche.problem.strip() or not fiche.measures:
        raise PracticeError("problem", N_("Describe the problem and choose at least one measure before submitting."))
    _move(session, fiche, FicheStatus.submitted, actor)
    fiche.submitted_at = datetime.now(UTC)
    if fiche.city_id is not None:
        invitations = await session.scalars(
            select(CampaignInvitation).where(
                CampaignInvitation.city_id == fiche.city_id, CampaignInvitation.answered_at.is_(None)
            )
        )
        for invitation in invitations:
            invitation.answered_at = fiche.submitted_at
    await session.flush()
    return fiche


def _comment(session: AsyncSession, fiche: PracticeFiche, decision: str, body: str, actor: Actor) -> None:
    session.add(
        ReviewComment(
            id=new_id(),
            fiche_id=fiche.id,
            author_id=_actor_id(actor),
            author_name=_actor_name(actor),
            decision=decision,
            body=body,
        )
    )


async def review_fiche(
    session: AsyncSession, fiche: PracticeFiche, data: ReviewInput, *, actor: Actor
) -> PracticeFiche:
    """A reviewer's decision.

    * a comment on a submitted fiche takes it *in review*;
    * *request changes* sends it back to the city (editable again, then resubmitted);
    * *publish* is possible only for a fiche *in review* — a fiche is never published unreviewed;
    * *reject* closes it.
    """
    reviewable = {FicheStatus.submitted, FicheStatus.in_review}
    if fiche.status not in reviewable:
        raise PracticeError("decision", N_("Only a submitted fiche or one in review can be reviewed."))
    if data.decision == "publish":
        if fiche.status != FicheStatus.in_review:
            raise PracticeError("decision", N_("Take the fiche in review before publishing it."))
        return await publish_fiche(session, fiche, actor=actor, note=data.body)
    _comment(session, fiche, data.decision, data.body, actor)
    fiche.reviewer_id = _actor_id(actor) or fiche.reviewer_id
    fiche.reviewed_at = datetime.now(UTC)
    if data.decision == "comment":
        if fiche.status == FicheStatus.submitted:
            _move(session, fiche, FicheStatus.in_review, actor)
    elif data.decision == "request_changes":
        _move(session, fiche, FicheStatus.changes_requested, actor)
    elif data.decision == "reject":
        _move(session, fiche, FicheStatus.rejected, actor)
    await session.flush()
    return fiche


async def start_review(session: AsyncSession, fiche: PracticeFiche, *, actor: Actor) -> PracticeFiche:
    if fiche.status != FicheStatus.submitted:
        raise PracticeError("decision", N_("Only a submitted fiche can be taken in review."))
    fiche.reviewer_id = _actor_id(actor)
    fiche.reviewed_at = datetime.now(UTC)
    _move(session, fiche, FicheStatus.in_review, actor)
    await session.flush()
    return fiche


async def publish_fiche(session: AsyncSession, fiche: PracticeFiche, *, actor: Actor, note: str = "") -> PracticeFiche:
    """Make a reviewed fiche public, index it for search, and emit ``practices.fiche_published``."""
    if fiche.status != FicheStatus.in_review:
        raise PracticeError("decision", N_("Take the fiche in review before publishing it."))
    images = await images_of(session, fiche.id)
    if any(not image.alt_text.strip() for image in images):
        raise PracticeError("decision", N_("Every image needs a text alternative before publication."))
    if note:
        _comment(session, fiche, "publish", note, actor)
    _move(session, fiche, FicheStatus.published, actor)
    fiche.published_at = fiche.reviewed_at = datetime.now(UTC)
    fiche.reviewer_id = _actor_id(actor) or fiche.reviewer_id
    city = await session.get(City, fiche.city_id) if fiche.city_id else None
    await index_fiche(session, fiche, city)
    outbox.record(
        session,
        FichePublished(
            actor=_actor_id(actor),
            city_id=fiche.city_id,
            fiche_id=fiche.id,
            title=fiche.title,
            place_kind=fiche.place_kind,
            measures=list(fiche.measures or []),
            country_code=city.country_code if city else "",
        ),
    )
    await session.flush()
    return fiche


async def comments_of(session: AsyncSession, fiche_id: UUID) -> list[ReviewComment]:
    rows = await session.scalars(
        select(ReviewComment).where(ReviewComment.fiche_id == fiche_id).order_by(ReviewComment.created_at)
    )
    return list(rows)


# --- full-text search: one interface, two databases -------------------------------------------------

_FTS = text("SELECT fiche_id FROM practices_fiche_fts WHERE practices_fiche_fts MATCH :q")


def _search_text(fiche: PracticeFiche, city: City | None) -> str:
    parts = [
        fiche.title,
        fiche.project,
        fiche.summary,
        fiche.problem,
        fiche.partnership,
        fiche.outcome,
        fiche.difficulties,
        fiche.lessons,
        " ".join(fiche.tags or []),
        " ".join(MEASURES.get(m, m) for m in fiche.measures or []),
        fiche.place_kind.replace("_", " "),
    ]
    if city is not None:
        parts += [city.name, city.country_code]
    return "\n".join(p for p in parts if p)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def index_fiche(session: AsyncSession, fiche: PracticeFiche, city: City | None) -> None:
    """Put the fiche's text in the full-text index (PostgreSQL indexes ``search_text`` by itself)."""
    fiche.search_text = _search_text(fiche, city)
    if _dialect(session) == "sqlite":
        await session.execute(text("DELETE FROM practices_fiche_fts WHERE fiche_id = :id"), {"id": str(fiche.id)})
        await session.execute(
            text("INSERT INTO practices_fiche_fts (fiche_id, body) VALUES (:id, :body)"),
            {"id": str(fiche.id), "body": fiche.search_text},
        )


def search_terms(query: str) -> list[str]:
    """The words of a query, lowercased, without operators (users type words, not query syntax)."""
    return re.findall(r"\w+", query.lower())[:10]


async def text_condition(session: AsyncSession, query: str) -> ColumnElement[bool] | None:
    """A condition on ``PracticeFiche`` matching every word of ``query`` as a prefix, whatever the database:
    SQLite asks its FTS5 index, PostgreSQL its ``to_tsvector`` index."""
    terms = search_terms(query)
    if not terms:
        return None
    if _dialect(session) == "sqlite":
        match = " ".join(f'"{t}"*' for t in terms)
        ids = [UUID(row) for row in (await session.scalars(_FTS, {"q": match}))]
        return PracticeFiche.id.in_(ids)
    tsquery = " & ".join(f"{t}:*" for t in terms)
    return func.to_tsvector(literal_column("'simple'"), PracticeFiche.search_text).op("@@")(
        func.to_tsquery(literal_column("'simple'"), tsquery)
    )


@dataclass(frozen=True)
class FicheFilters:
    q: str = ""
    measure: str = ""
    place_kind: str = ""
    country: str = ""
    size_class: str = ""
    year: int | None = None

    def query_string(self) -> dict[str, str]:
        return {k: str(v) for k, v in vars(self).items() if v}


@dataclass
class FicheView:
    """A fiche ready to show, with its city."""

    fiche: PracticeFiche
    city_name: str = ""
    country_code: str = ""
    size_class: str = ""
    images: list[FicheImage] = field(default_factory=list)
    indicators: list[SmartIndicator] = field(default_factory=list)
    comments: list[ReviewComment] = field(default_factory=list)
    commitments: list[LinkedCommitment] = field(default_factory=list)
    documents: list[FicheDocument] = field(default_factory=list)

    @property
    def before(self) -> list[FicheImage]:
        return [i for i in self.images if i.stage == ImageStage.before]

    @property
    def after(self) -> list[FicheImage]:
        return [i for i in self.images if i.stage == ImageStage.after]


@dataclass
class SearchResult:
    page: Page[FicheView]
    facets: dict[str, list[tuple[str, int]]]


async def _conditions(session: AsyncSession, filters: FicheFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [PracticeFiche.status == FicheStatus.published]
    condition = await text_condition(session, filters.q)
    if condition is not None:
        where.append(condition)
    if filters.place_kind:
        where.append(PracticeFiche.place_kind == filters.place_kind)
    if filters.country:
        where.append(City.country_code == filters.country.upper())
    if filters.size_class:
        where.append(City.size_class == filters.size_class)
    if filters.year:
        where.append(PracticeFiche.year == filters.year)
    return where


async def _matching(session: AsyncSession, filters: FicheFilters) -> list[Any]:
    """The published fiches matching the words and facets (id, city, measures, place, year), newest first."""
    where = and_(*(await _conditions(session, filters)))
    rows = (
        await session.execute(
            select(
                PracticeFiche.id,
                PracticeFiche.city_id,
                PracticeFiche.measures,
                PracticeFiche.place_kind,
                PracticeFiche.year,
                City.country_code,
                City.size_class,
            )
            .outerjoin(City, City.id == PracticeFiche.city_id)
            .where(where)
            .order_by(PracticeFiche.published_at.desc(), PracticeFiche.id.desc())
        )
    ).all()
    if filters.measure:
        rows = [r for r in rows if filters.measure in (r.measures or [])]
    return list(rows)


def _has_measure(measure: str) -> ColumnElement[bool]:
    """The fiche lists ``measure`` (measures are a JSON list of identifiers; its text holds ``"key"``)."""
    return cast(PracticeFiche.measures, String).contains(f'"{measure}"', autoescape=True)


async def search_public(
    session: AsyncSession, filters: FicheFilters, *, number: int = 1, size: int = 20
) -> SearchResult:
    """Published fiches matching the words and the facets, newest first, with facet counts.

    Counts are over the matching fiches, so each facet tells how many results choosing it would leave. The
    database counts them (one grouped query per facet) and returns one page of ids: the library's cost
    does not grow with the number of fiches it holds.
    """
    where = await _conditions(session, filters)
    if filters.measure:
        where.append(_has_measure(filters.measure))
    matching = and_(*where)
    # Only the country and size facets (and those filters) need the fiche's city: the other queries skip it.
    by_city = bool(filters.country or filters.size_class)

    async def counts(*columns: Any, with_city: bool = False) -> list[Any]:
        query = select(*columns, func.count()).select_from(PracticeFiche)
        if with_city or by_city:
            query = query.join(City, City.id == PracticeFiche.city_id)
        return list((await session.execute(query.where(matching).group_by(*columns))).all())

    facets: dict[str, Counter[str]] = {k: Counter() for k in ("measure", "place_kind", "country", "size_class", "year")}
    for value, n in await counts(cast(PracticeFiche.measures, String)):
        for measure in json.loads(value) if value else []:
            facets["measure"][measure] += n
    total = 0
    for place_kind, year, n in await counts(PracticeFiche.place_kind, PracticeFiche.year):
        facets["place_kind"][place_kind] += n
        if year:
            facets["year"][str(year)] += n
        total += n
    for country, size_class, n in await counts(City.country_code, City.size_class, with_city=True):
        facets["country"][country] += n
        facets["size_class"][size_class] += n
    page = select(PracticeFiche.id)
    if by_city:
        page = page.join(City, City.id == PracticeFiche.city_id)
    ids = list(
        await session.scalars(
            page.where(matching)
            .order_by(PracticeFiche.published_at.desc(), PracticeFiche.id.desc())
            .limit(literal_column(str(int(size))))
            .offset(literal_column(str(max(0, (number - 1) * int(size)))))
        )
    )
    views = await views_of(session, ids)
    return SearchResult(
        page=Page(items=views, total=total, number=number, size=size),
        facets={k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for k, c in facets.items()},
    )


# --- the map of published fiches (an SVG drawn on the server, like the core's signatory map) --------

# Equirectangular projection of Europe with 50°N as standard parallel: the core's /cities/map frame, so both
# maps read the same way (no tiles: works offline and prints).
MAP_WEST, MAP_EAST, MAP_SOUTH, MAP_NORTH = -11.0, 35.0, 34.0, 68.0
MAP_WIDTH = 720
MAP_HEIGHT = round(MAP_WIDTH * (MAP_NORTH - MAP_SOUTH) / ((MAP_EAST - MAP_WEST) * math.cos(math.radians(50))))


def project(latitude: float, longitude: float) -> tuple[float, float]:
    """Map coordinates of a point: x grows with longitude, y with distance from the north edge."""
    x = (longitude - MAP_WEST) / (MAP_EAST - MAP_WEST) * MAP_WIDTH
    y = (MAP_NORTH - latitude) / (MAP_NORTH - MAP_SOUTH) * MAP_HEIGHT
    return round(x, 1), round(y, 1)


@dataclass
class MapPoint:
    """A city on the map with the published fiches matching the filters."""

    city_id: UUID
    name: str
    country_code: str
    x: float
    y: float
    fiches: list[tuple[UUID, str]] = field(default_factory=list)

    @property
    def radius(self) -> float:
        return round(5 + 2.5 * math.sqrt(len(self.fiches) - 1), 1)


@dataclass
class FicheMap:
    points: list[MapPoint]
    unplaced: list[tuple[UUID, str]]
    """Matching fiches that cannot be placed: project fiches without a city, cities without coordinates."""
    total: int
    width: int = MAP_WIDTH
    height: int = MAP_HEIGHT
    graticule: dict[str, list[float]] = field(default_factory=dict)


async def fiche_map(session: AsyncSession, filters: FicheFilters) -> FicheMap:
    """The published fiches matching the library's filters, grouped by city and placed on the map."""
    rows = await _matching(session, filters)
    titles: dict[UUID, str] = {}
    if rows:
        found = await session.execute(
            select(PracticeFiche.id, PracticeFiche.title).where(PracticeFiche.id.in_([r.id for r in rows]))
        )
        titles = {row.id: row.title for row in found}
    city_ids = {r.city_id for r in rows if r.city_id is not None}
    cities = {c.id: c for c in await session.scalars(select(City).where(City.id.in_(city_ids)))} if city_ids else {}
    points: dict[UUID, MapPoint] = {}
    unplaced: list[tuple[UUID, str]] = []
    for r in rows:
        city = cities.get(r.city_id) if r.city_id is not None else None
        if city is None or city.latitude is None or city.longitude is None:
            unplaced.append((r.id, titles[r.id]))
            continue
        x, y = project(city.latitude, city.longitude)
        if not (0 <= x <= MAP_WIDTH and 0 <= y <= MAP_HEIGHT):
            unplaced.append((r.id, titles[r.id]))
            continue
        point = points.setdefault(city.id, MapPoint(city.id, city.name, city.country_code, x, y))
        point.fiches.append((r.id, titles[r.id]))
    graticule = {
        "meridians": [project(MAP_NORTH, lon)[0] for lon in range(-10, 35, 10)],
        "parallels": [project(lat, MAP_WEST)[1] for lat in range(40, 68, 10)],
    }
    ordered = sorted(points.values(), key=lambda p: (-len(p.fiches), p.name))
    return FicheMap(points=ordered, unplaced=unplaced, total=len(rows), graticule=graticule)


async def views_of(session: AsyncSession, ids: Sequence[UUID], *, full: bool = False) -> list[FicheView]:
    """Views of the fiches, in the order given, with their images (and indicators and comments when ``full``)."""
    if not ids:
        return []
    rows = (
        await session.execute(
            select(PracticeFiche, City.name, City.country_code, City.size_class)
            .outerjoin(City, City.id == PracticeFiche.city_id)
            .where(PracticeFiche.id.in_(ids))
        )
    ).all()
    by_id = {r[0].id: FicheView(r[0], r[1] or "", r[2] or "", r[3] or "") for r in rows}
    for image in await session.scalars(
        select(FicheImage).where(FicheImage.fiche_id.in_(ids)).order_by(FicheImage.created_at)
    ):
        by_id[image.fiche_id].images.append(image)
    if full:
        for indicator in await session.scalars(
            select(SmartIndicator).where(SmartIndicator.fiche_id.in_(ids)).order_by(SmartIndicator.created_at)
        ):
            by_id[indicator.fiche_id].indicators.append(indicator)
        for comment in await session.scalars(
            select(ReviewComment).where(ReviewComment.fiche_id.in_(ids)).order_by(ReviewComment.created_at)
        ):
            by_id[comment.fiche_id].comments.append(comment)
        for fiche_id, linked in (await commitments_of(session, list(by_id))).items():
            by_id[fiche_id].commitments = linked
        for document in await session.scalars(
            select(FicheDocument).where(FicheDocument.fiche_id.in_(ids)).order_by(FicheDocument.created_at)
        ):
            by_id[document.fiche_id].documents.append(document)
    return [by_id[i] for i in ids if i in by_id]


async def fiche_view(session: AsyncSession, fiche: PracticeFiche) -> FicheView:
    return (await views_of(session, [fiche.id], full=True))[0]


async def city_fiches(session: AsyncSession, city_id: UUID) -> list[PracticeFiche]:
    rows = await session.scalars(
        select(PracticeFiche).where(PracticeFiche.city_id == city_id).order_by(PracticeFiche.updated_at.desc())
    )
    return list(rows)


async def review_queue(session: AsyncSession) -> list[FicheView]:
    """Fiches waiting for a reviewer: submitted first (oldest first), then those in review."""
    ids = (
        await session.scalars(
            select(PracticeFiche.id)
            .where(PracticeFiche.status.in_([FicheStatus.submitted, FicheStatus.in_review]))
            .order_by(PracticeFiche.status.desc(), PracticeFiche.submitted_at)
        )
    ).all()
    return await views_of(session, list(ids))


# --- the action monitoring table --------------------------------------------------------------------

MONITORING_SORTS = {
    "title": PracticeFiche.title,
    "status": PracticeFiche.status,
    "updated": PracticeFiche.updated_at,
    "submitted": PracticeFiche.submitted_at,
    "published": PracticeFiche.published_at,
}

MONITORING_COLUMNS = (
    "title",
    "project",
    "city",
    "country",
    "status",
    "submitted_at",
    "reviewed_at",
    "published_at",
    "last_update",
)


async def monitoring_rows(
    session: AsyncSession, sort: str = "updated", descending: bool = True
) -> list[dict[str, Any]]:
    """Every fiche with its stage, milestones and last update (the seed's action monitoring table)."""
    column = MONITORING_SORTS.get(sort, PracticeFiche.updated_at)
    rows = await session.execute(
        select(PracticeFiche, City.name, City.country_code)
        .outerjoin(City, City.id == PracticeFiche.city_id)
        .order_by(column.desc() if descending else column.asc(), PracticeFiche.id)
    )
    return [
        {
            "id": f.id,
            "title": f.title,
            "project": f.project,
            "city": name or "",
            "country": country or "",
            "status": f.status,
            "submitted_at": f.submitted_at,
            "reviewed_at": f.reviewed_at,
            "published_at": f.published_at,
            "last_update": f.updated_at,
        }
        for f, name, country in rows
    ]


def monitoring_csv(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MONITORING_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                v.isoformat() if isinstance(v, datetime | date) else ("" if v is None else v)
                for v in (row[c] for c in MONITORING_COLUMNS)
            ]
        )
    return out.getvalue()


# --- rules of thumb and the inventory (reference content shipped in seed/) --------------------------


@cache
def _seed(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((SEED / name).read_text(encoding="utf-8"))
    return list(data)


def rules_of_thumb_seed() -> list[dict[str, Any]]:
    return _seed("rules_of_thumb.yaml")


def inventory() -> list[dict[str, Any]]:
    """Existing platforms and resources on the protection of public spaces, and what each covers."""
    return _seed("inventory.yaml")


async def rules_of_thumb(session: AsyncSession) -> list[dict[str, Any]]:
    """The rules with the published fiches supporting each (those applying one of the rule's measures)."""
    published = (
        await session.execute(
            select(PracticeFiche.id, PracticeFiche.title, PracticeFiche.measures)
            .where(PracticeFiche.status == FicheStatus.published)
            .order_by(PracticeFiche.published_at.desc())
        )
    ).all()
    rules = []
    for rule in rules_of_thumb_seed():
        wanted = set(rule.get("measures", []))
        support = [(r.id, r.title) for r in published if wanted & set(r.measures or [])]
        rules.append(rule | {"fiches": support, "supporting": len(support)})
    return rules


# --- collection campaigns ---------------------------------------------------------------------------


async def signatory_ids(session: AsyncSession) -> list[UUID]:
    return list(
        await session.scalars(select(Membership.city_id).where(Membership.status == MembershipStatus.signatory))
    )


async def invite(session: AsyncSession, campaign: CollectionCampaign, city_ids: Iterable[UUID], *, actor: Actor) -> int:
    """Invite cities (those already invited are skipped, so inviting twice is harmless); returns how many are new."""
    wanted = set(city_ids)
    known = set(
        await session.scalars(
            select(CampaignInvitation.city_id).where(
                CampaignInvitation.campaign_id == campaign.id, CampaignInvitation.city_id.in_(wanted)
            )
        )
    )
    fresh = sorted(wanted - known)
    if not fresh:
        return 0
    await session.execute(
        insert(CampaignInvitation),
        [{"id": new_id(), "campaign_id": campaign.id, "city_id": city_id} for city_id in fresh],
    )
    for city_id in fresh:
        announce_deadline(
            session,
            source="practices",
            key=f"campaign-{campaign.id}-{city_id}",
            title=campaign.title,
            due_on=campaign.deadline,
            audience="city",
            city_id=city_id,
            link=f"/m/practices/cities/{city_id}/fiches",
            description=campaign.message,
            actor=actor,
        )
    audit.record(
        session,
        actor=actor,
        action="practices.campaign_invited",
        entity_type="practices_campaign",
        entity_id=campaign.id,
        after={"cities": [str(c) for c in fresh]},
    )
    await session.flush()
    return len(fresh)


async def create_campaign(session: AsyncSession, data: CampaignInput, *, actor: Actor) -> CollectionCampaign:
    """A campaign inviting the chosen cities (none chosen: every active signatory) by its deadline."""
    if data.deadline < date.today():
        raise PracticeError("deadline", N_("The deadline cannot be in the past."))
    campaign = CollectionCampaign(
        id=new_id(),
        title=data.title,
        message=data.message,
        deadline=data.deadline,
        invite_new_signatories=data.invite_new_signatories,
    )
    session.add(campaign)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="practices.campaign_created",
        entity_type="practices_campaign",
        entity_id=campaign.id,
        after=data.model_dump(mode="json"),
    )
    await invite(session, campaign, data.city_ids or await signatory_ids(session), actor=actor)
    return campaign


async def open_campaigns_for_new_signatories(
    session: AsyncSession, today: date | None = None
) -> list[CollectionCampaign]:
    rows = await session.scalars(
        select(CollectionCampaign).where(
            CollectionCampaign.invite_new_signatories.is_(True), CollectionCampaign.deadline >= (today or date.today())
        )
    )
    return list(rows)


async def campaigns(session: AsyncSession) -> list[CollectionCampaign]:
    return list(await session.scalars(select(CollectionCampaign).order_by(CollectionCampaign.deadline.desc())))


async def campaign_answers(session: AsyncSession, campaign_id: UUID) -> list[dict[str, Any]]:
    """Who was invited and who answered (submitted a fiche after the invitation)."""
    rows = await session.execute(
        select(CampaignInvitation, City.name, City.country_code)
        .join(City, City.id == CampaignInvitation.city_id)
        .where(CampaignInvitation.campaign_id == campaign_id)
        .order_by(City.name)
    )
    return [
        {
            "city_id": inv.city_id,
            "city": name,
            "country": country,
            "invited_at": inv.created_at,
            "answered_at": inv.answered_at,
        }
        for inv, name, country in rows
    ]


# --- the yearly monitoring cycle and report ---------------------------------------------------------


async def cycle_section(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """A city's part of the yearly checklist: sharing at least one practice a year completes it."""
    statuses = list(
        await session.scalars(
            select(PracticeFiche.status).where(
                PracticeFiche.city_id == city_id,
                func.coalesce(PracticeFiche.year, year) == year,
            )
        )
    )
    link = f"/m/practices/cities/{city_id}/fiches"
    if FicheStatus.published in statuses:
        return CycleSection("validated", 100, link)
    if any(s in (FicheStatus.submitted, FicheStatus.in_review) for s in statuses):
        return CycleSection("submitted", 80, link)
    if statuses:
        return CycleSection("in_progress", 40, link)
    return CycleSection("not_started", 0, link)


async def report_section(session: AsyncSession, year: int) -> ReportSection:
    """Fiches published in the year, by kind of place and by measure."""
    rows = (
        await session.execute(
            select(PracticeFiche.place_kind, PracticeFiche.measures, PracticeFiche.published_at).where(
                PracticeFiche.status == FicheStatus.published
            )
        )
    ).all()
    of_year = [r for r in rows if r.published_at and r.published_at.year == year]
    places = Counter(r.place_kind for r in of_year)
    measures = Counter(m for r in of_year for m in (r.measures or []))
    return ReportSection(
        title=N_("Security by design good practices"),
        figures={"published_in_year": len(of_year), "published_total": len(rows)},
        tables=[{"place_kind": k, "fiches": v} for k, v in places.most_common()]
        + [{"measure": k, "fiches": v} for k, v in measures.most_common()],
    )


# --- peer recommendations (on ``assessment.submitted``) ---------------------------------------------

DIMENSION_MEASURES: dict[str, tuple[str, ...]] = {
    "security_by_design": ("hostile_vehicle_mitigation", "cpted", "sight_lines", "lighting", "street_furniture"),
    "urban_design": ("cpted", "sight_lines", "lighting", "vegetation", "street_furniture"),
    "physical_protection": ("hostile_vehicle_mitigation", "street_furniture"),
    "technology": ("technology",),
    "technology_governance": ("technology", "governance_partnership"),
    "social_cohesion": ("management_events", "governance_partnership", "nudging"),
    "capacity_building": ("training",),
    "governance": ("governance_partnership",),
    "crowd_management": ("management_events",),
}
"""Which measures answer which assessment dimension. Unknown dimensions match measures sharing a word."""

MAX_RECOMMENDATIONS = 5


def measures_for(dimension: str) -> set[str]:
    if dimension in DIMENSION_MEASURES:
        return set(DIMENSION_MEASURES[dimension])
    words = set(dimension.lower().replace("-", "_").split("_"))
    return {m for m in MEASURES if words & set(m.split("_"))}


def _recommendation_reason(peer: str, same_size: bool, dimension: str) -> str:
    """Why a fiche is recommended, in the current language (for the mail; the stored reason stays English)."""
    if same_size:
        text = _("%(city)s (a city of the same size) addresses '%(dimension)s', one of your weakest dimensions.")
    else:
        text = _("%(city)s (a peer city) addresses '%(dimension)s', one of your weakest dimensions.")
    return text % {"city": peer, "dimension": dimension}


async def recommend_peer_fiches(
    session: AsyncSession, city_id: UUID, weakest: Sequence[str], *, year: int | None = None
) -> list[PeerRecommendation]:
    """Recommend published fiches of other cities addressing the city's weakest dimensions.

    Peers of the same size class come first, then the newest. At most five per assessment; a fiche already
    recommended to the city is not recommended again (so a redelivered event changes nothing).
    """
    city = await session.get(City, city_id)
    if city is None:
        return []
    already = set(
        await session.scalars(select(PeerRecommendation.fiche_id).where(PeerRecommendation.city_id == city_id))
    )
    rows = (
        await session.execute(
            select(PracticeFiche.id, PracticeFiche.title, PracticeFiche.measures, City.name, City.size_class)
            .join(City, City.id == PracticeFiche.city_id)
            .where(PracticeFiche.status == FicheStatus.published, PracticeFiche.city_id != city_id)
            .order_by(PracticeFiche.published_at.desc())
        )
    ).all()
    rows = sorted(rows, key=lambda r: r.size_class != city.size_class)  # stable: same size class first
    made: list[PeerRecommendation] = []
    peers: dict[UUID, tuple[str, bool]] = {}  # fiche → (peer city's name, same size class), for the mail
    for dimension in weakest:
        wanted = measures_for(dimension)
        for r in rows:
            if len(made) >= MAX_RECOMMENDATIONS:
                break
            if r.id in already or not wanted & set(r.measures or []):
                continue
            peer = "a city of the same size" if r.size_class == city.size_class else "a peer city"
            recommendation = PeerRecommendation(
                id=new_id(),
                city_id=city_id,
                fiche_id=r.id,
                dimension=dimension[:60],
                reason=f"{r.name} ({peer}) addresses '{dimension}', one of your weakest dimensions."[:300],
                year=year,
            )
            session.add(recommendation)
            already.add(r.id)
            made.append(recommendation)
            peers[r.id] = (r.name, r.size_class == city.size_class)
    if made:
        contact = await session.scalar(select(Membership.contact_email).where(Membership.city_id == city_id))
        if contact:
            with using_locale(await recipient_locale(session, contact)):
                subject = _("Good practices recommended for your city")
                lines = "\n".join(
                    f"- {_recommendation_reason(*peers[r.fiche_id], r.dimension)} /m/practices/fiches/{r.fiche_id}"
                    for r in made
                )
                body = _("After your self-assessment, these practices of peer cities may help:") + f"\n{lines}\n"
            queue_mail(session, to=contact, subject=subject, body_text=body)
        audit.record(
            session,
            actor=None,
            action="practices.recommended",
            entity_type="city",
            entity_id=city_id,
            after={"fiches": [str(rec.fiche_id) for rec in made]},
        )
        await session.flush()
    return made


async def recommendations_for(session: AsyncSession, city_id: UUID) -> list[tuple[PeerRecommendation, str]]:
    rows = await session.execute(
        select(PeerRecommendation, PracticeFiche.title)
        .join(PracticeFiche, PracticeFiche.id == PeerRecommendation.fiche_id)
        .where(PeerRecommendation.city_id == city_id, PracticeFiche.status == FicheStatus.published)
        .order_by(PeerRecommendation.created_at.desc())
        .limit(20)
    )
    return [(rec, title) for rec, title in rows]


# --- fiches related to commitments (on ``commitment.published``) -----------------------------------

PRIORITY_MEASURES: dict[str, tuple[str, ...]] = {
    "urban_planning": (
        "hostile_vehicle_mitigation",
        "cpted",
        "sight_lines",
        "lighting",
        "vegetation",
        "street_furniture",
    ),
    "technology": ("technology",),
    "security_public_spaces": (
        "management_events",
        "governance_partnership",
        "hostile_vehicle_mitigation",
        "nudging",
        "training",
    ),
}
"""Which measures serve which priority of the Partnership (the commitment's ``priority``)."""

MAX_COMMITMENT_LINKS = 5
_STOPWORDS = frozenset(
    {"the", "and", "for", "with", "our", "all", "from", "into", "that", "this", "their"}
    | {"des", "les", "une", "sur", "pour", "dans", "avec", "del", "los", "las", "per", "con", "della"}
)


def _words(text_value: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text_value.lower()) if len(w) > 3 and w not in _STOPWORDS}


async def link_commitment(
    session: AsyncSession,
    *,
    commitment_id: UUID,
    city_id: UUID | None,
    title: str,
    priority: str,
    modules: Sequence[str],
) -> list[CommitmentLink]:
    """Relate published fiches to a newly published commitment: those sharing words with its title, then those
    applying a measure of its priority; at most five, best first. Idempotent: links already made are kept and
    never duplicated (unique on commitment and fiche), so a redelivered event changes nothing.

    A commitment naming other modules but not this one is left alone.
    """
    if modules and SLUG not in modules:
        return []
    existing = set(
        await session.scalars(select(CommitmentLink.fiche_id).where(CommitmentLink.commitment_id == commitment_id))
    )
    if existing:
        return []
    wanted_measures = set(PRIORITY_MEASURES.get(priority, ()))
    title_words = _words(title)
    rows = (
        await session.execute(
            select(PracticeFiche.id, PracticeFiche.title, PracticeFiche.search_text, PracticeFiche.measures)
            .where(PracticeFiche.status == FicheStatus.published)
            .order_by(PracticeFiche.published_at.desc(), PracticeFiche.id)
        )
    ).all()
    scored: list[tuple[int, UUID, str]] = []
    for r in rows:
        shared_words = title_words & _words(f"{r.title} {r.search_text}")
        shared_measures = wanted_measures & set(r.measures or [])
        score = 3 * len(shared_words) + len(shared_measures)
        if not score:
            continue
        if shared_words:
            reason = "Shares the subject of the commitment: " + ", ".join(sorted(shared_words)[:5])
        else:
            reason = "Applies measures of the commitment's priority: " + ", ".join(
                MEASURES.get(m, m) for m in sorted(shared_measures)
            )
        scored.append((score, r.id, reason[:300]))
    scored.sort(key=lambda item: -item[0])  # stable: newest first among equals
    chosen = scored[:MAX_COMMITMENT_LINKS]
    if not chosen:
        return []
    values = [
        {
            "id": new_id(),
            "commitment_id": commitment_id,
            "fiche_id": fid,
            "city_id": city_id,
            "score": sc,
            "reason": why,
        }
        for sc, fid, why in chosen
    ]
    await session.execute(insert(CommitmentLink), values)
    audit.record(
        session,
        actor=None,
        action="practices.commitment_linked",
        entity_type="commitment",
        entity_id=commitment_id,
        after={"fiches": [str(fid) for _s, fid, _w in chosen]},
    )
    await session.flush()
    return list(await session.scalars(select(CommitmentLink).where(CommitmentLink.commitment_id == commitment_id)))


@dataclass(frozen=True)
class LinkedCommitment:
    commitment_id: UUID
    title: str
    city_id: UUID
    city_name: str
    due_date: date
    reason: str


async def commitments_of(session: AsyncSession, fiche_ids: Sequence[UUID]) -> dict[UUID, list[LinkedCommitment]]:
    """The published commitments each fiche is related to, best match first (unpublished ones are not shown)."""
    found: dict[UUID, list[LinkedCommitment]] = {fid: [] for fid in fiche_ids}
    if not fiche_ids:
        return found
    rows = await session.execute(
        select(
            CommitmentLink.fiche_id,
            CommitmentLink.reason,
            Commitment.id,
            Commitment.title,
            Commitment.due_date,
            City.id,
            City.name,
        )
        .join(Commitment, Commitment.id == CommitmentLink.commitment_id)
        .join(City, City.id == Commitment.city_id)
        .where(CommitmentLink.fiche_id.in_(fiche_ids), Commitment.published_at.is_not(None))
        .order_by(CommitmentLink.score.desc(), Commitment.due_date)
    )
    for fiche_id, reason, cid, title, due, city_id, name in rows:
        found[fiche_id].append(LinkedCommitment(cid, title, city_id, name, due, reason))
    return found
