"""Business rules of Action 4: the competence matrix, curricula, pilots, questionnaires and gap analysis."""

from __future__ import annotations

import csv
import io
import secrets
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import yaml
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.cities.models import City
from covenant.events import outbox
from covenant.i18n import N_, recipient_locales, using_locale
from covenant.i18n import gettext as _
from covenant.notifications import queue_mail
from covenant.plugins import CycleSection, ReportSection
from covenant.web.pagination import DEFAULT_PAGE_SIZE, Page
from modules.training.events import SessionEvaluated
from modules.training.models import (
    AREAS,
    LEVEL_RANK,
    LIKERT_ITEMS,
    AssessmentPriority,
    Curriculum,
    CurriculumStatus,
    CurriculumUnit,
    MatrixCell,
    Participant,
    QuestionnaireAnswer,
    SelfAssessment,
    TargetGroup,
    ToolboxEntry,
    TrainingSession,
)
from modules.training.schemas import (
    AnswerInput,
    CurriculumInput,
    MySelfAssessmentInput,
    ProfileInput,
    RatingInput,
    SelfAssessmentInput,
    SessionInput,
    UnitInput,
)

SEED = Path(__file__).parent / "seed" / "competence_matrix.yaml"
MIN_GROUP_SIZE = 3
"""Gap figures of fewer people than this are not shown, so nobody's own rating can be read off them."""

Actor = Identity | UUID | None


class TrainingError(Exception):
    """A refused request, with the form field it concerns and a translatable message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _actor_id(actor: Actor) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


# -- the competence matrix --------------------------------------------------------------------------


@cache
def seed() -> dict[str, Any]:
    """Table 4 as shipped (``seed/competence_matrix.yaml``)."""
    data: dict[str, Any] = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    return data


def areas() -> list[dict[str, Any]]:
    """The three knowledge areas with their topics."""
    return list(seed()["areas"])


def area_of(key: str) -> dict[str, Any]:
    return next(a for a in areas() if a["key"] == key)


def topic_titles(area: str) -> dict[str, dict[str, str]]:
    return {t["key"]: t["title"] for t in area_of(area)["topics"]}


async def ensure_matrix(session: AsyncSession) -> int:
    """Install Table 4's rows that are missing (idempotent: existing rows, possibly edited, are kept)."""
    known = set(await session.scalars(select(TargetGroup.key)))
    added = 0
    position = 0
    for family in seed()["families"]:
        for group in family["groups"]:
            position += 10
            if group["key"] in known:
                continue
            row = TargetGroup(
                key=group["key"],
                family=family["key"],
                family_title=family["title"],
                title=group["title"],
                position=position,
                from_action_plan=True,
            )
            session.add(row)
            await session.flush()
            for area, level in zip(AREAS, group["levels"], strict=True):
                session.add(MatrixCell(target_group_id=row.id, area=area, level=level, topics=list(topic_titles(area))))
            added += 1
    if added:
        await session.flush()
    return added


@dataclass
class MatrixRow:
    group: TargetGroup
    cells: dict[str, MatrixCell]


async def matrix(session: AsyncSession) -> list[MatrixRow]:
    """Every profile of the matrix, in Table 4's order, each with its three cells."""
    if not await session.scalar(select(func.count()).select_from(TargetGroup)):
        await ensure_matrix(session)
    groups = list(await session.scalars(select(TargetGroup).order_by(TargetGroup.position, TargetGroup.key)))
    cells: dict[UUID, dict[str, MatrixCell]] = defaultdict(dict)
    for cell in await session.scalars(select(MatrixCell)):
        cells[cell.target_group_id][cell.area] = cell
    return [MatrixRow(g, cells[g.id]) for g in groups]


async def target_levels(session: AsyncSession) -> dict[str, dict[str, str]]:
    """group key → area → required level."""
    return {row.group.key: {a: c.level for a, c in row.cells.items()} for row in await matrix(session)}


async def add_profile(session: AsyncSession, data: ProfileInput, *, actor: Actor) -> TargetGroup:
    """A new row of the matrix (e.g. 'Urban Security Coordinator'), added by an admin without code."""
    if await session.scalar(select(TargetGroup.id).where(TargetGroup.key == data.key)):
        raise TrainingError("key", N_("A profile with this identifier already exists."))
    last = await session.scalar(select(func.max(TargetGroup.position))) or 0
    group = TargetGroup(
        key=data.key,
        family="other",
        family_title={"en": data.family},
        title={"en": data.title},
        position=last + 10,
        from_action_plan=False,
    )
    session.add(group)
    await session.flush()
    for area in AREAS:
        session.add(
            MatrixCell(
                target_group_id=group.id, area=area, level=str(getattr(data, area)), topics=list(topic_titles(area))
            )
        )
    audit.record(
        session,
        actor=actor,
        action="training.profile_added",
        entity_type="training_target_group",
        entity_id=group.id,
        after=data.model_dump(mode="json"),
    )
    await session.flush()
    return group


# -- curricula --------------------------------------------------------------------------------------


async def _check_groups(session: AsyncSession, keys: list[str]) -> None:
    known = set(await session.scalars(select(TargetGroup.key).where(TargetGroup.key.in_(keys))))
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise TrainingError("target_groups", N_("This target group is not in the competence matrix."))


async def create_curriculum(session: AsyncSession, city_id: UUID, data: CurriculumInput, *, actor: Actor) -> Curriculum:
    await matrix(session)
    await _check_groups(session, data.target_groups)
    partners = [str(c) for c in data.partner_city_ids if c != city_id]
    if partners:
        found = set(await session.scalars(select(City.id).where(City.id.in_(data.partner_city_ids))))
        if len(found) < len(set(data.partner_city_ids)):
            raise TrainingError("partner_city_ids", N_("A partner city does not exist."))
    curriculum = Curriculum(
        city_id=city_id,
        title=data.title,
        summary=data.summary,
        language=data.language,
        target_groups=list(dict.fromkeys(data.target_groups)),
        partner_city_ids=partners,
    )
    session.add(curriculum)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.curriculum_created",
        entity_type="training_curriculum",
        entity_id=curriculum.id,
        after={"title": curriculum.title, "target_groups": curriculum.target_groups},
    )
    return curriculum


def authored_by(curriculum: Curriculum, city_id: UUID) -> bool:
    """The lead city and its co-authors may edit a curriculum and run it."""
    return curriculum.city_id == city_id or str(city_id) in (curriculum.partner_city_ids or [])


async def get_curriculum(session: AsyncSession, curriculum_id: UUID) -> Curriculum | None:
    return await session.get(Curriculum, curriculum_id)


async def city_curricula(session: AsyncSession, city_id: UUID) -> list[Curriculum]:
    """Curricula the city leads or co-authors, then every published one it may run."""
    rows = await session.scalars(select(Curriculum).order_by(Curriculum.created_at.desc()))
    return [c for c in rows if authored_by(c, city_id) or c.status == CurriculumStatus.published]


async def curricula(session: AsyncSession, *, status: str = "") -> list[Curriculum]:
    stmt = select(Curriculum).order_by(Curriculum.created_at.desc())
    if status:
        stmt = stmt.where(Curriculum.status == status)
    return list(await session.scalars(stmt))


async def units_of(session: AsyncSession, curriculum_id: UUID) -> list[CurriculumUnit]:
    return list(
        await session.scalars(
            select(CurriculumUnit)
            .where(CurriculumUnit.curriculum_id == curriculum_id)
            .order_by(CurriculumUnit.position, CurriculumUnit.created_at)
        )
    )


async def add_unit(session: AsyncSession, curriculum: Curriculum, data: UnitInput, *, actor: Actor) -> CurriculumUnit:
    """A unit must sit on an existing cell of the matrix, for one of the curriculum's target groups."""
    if curriculum.status == CurriculumStatus.published:
        raise TrainingError("title", N_("A published curriculum can no longer be changed."))
    if str(data.level) not in LEVEL_RANK:
        raise TrainingError("level", N_("The level must be basic, intermediate or advanced."))
    cell = await session.scalar(
        select(MatrixCell)
        .join(TargetGroup, TargetGroup.id == MatrixCell.target_group_id)
        .where(TargetGroup.key == data.target_group, MatrixCell.area == data.area)
    )
    if cell is None:
        raise TrainingError("target_group", N_("This unit is mapped to a matrix cell that does not exist."))
    if data.target_group not in curriculum.target_groups:
        raise TrainingError("target_group", N_("The curriculum is not written for this target group."))
    count = await session.scalar(select(func.count()).where(CurriculumUnit.curriculum_id == curriculum.id)) or 0
    unit = CurriculumUnit(curriculum_id=curriculum.id, position=count + 1, **data.model_dump(mode="json"))
    session.add(unit)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.unit_added",
        entity_type="training_curriculum",
        entity_id=curriculum.id,
        after={"unit": unit.title, "area": unit.area, "level": unit.level},
    )
    return unit


async def submit_for_review(session: AsyncSession, curriculum: Curriculum, *, actor: Actor) -> None:
    if curriculum.status != CurriculumStatus.draft:
        raise TrainingError("status", N_("Only a draft can be submitted for review."))
    if not await units_of(session, curriculum.id):
        raise TrainingError("status", N_("Add at least one unit before submitting the curriculum."))
    curriculum.status = CurriculumStatus.in_review
    audit.record(
        session,
        actor=actor,
        action="training.curriculum_submitted",
        entity_type="training_curriculum",
        entity_id=curriculum.id,
        before={"status": "draft"},
        after={"status": "in_review"},
    )
    await session.flush()


async def review_curriculum(session: AsyncSession, curriculum: Curriculum, *, approve: bool, actor: Actor) -> None:
    """A reviewer publishes the curriculum, or sends it back to its authors as a draft."""
    if curriculum.status != CurriculumStatus.in_review:
        raise TrainingError("status", N_("This curriculum is not waiting for review."))
    curriculum.status = CurriculumStatus.published if approve else CurriculumStatus.draft
    curriculum.published_at = datetime.now(UTC) if approve else None
    audit.record(
        session,
        actor=actor,
        action="training.curriculum_reviewed",
        entity_type="training_curriculum",
        entity_id=curriculum.id,
        before={"status": "in_review"},
        after={"status": curriculum.status},
    )
    await session.flush()


# -- pilot sessions and participants ------------------------------------------------------------------


async def create_session(session: AsyncSession, city_id: UUID, data: SessionInput, *, actor: Actor) -> TrainingSession:
    curriculum = await session.get(Curriculum, data.curriculum_id)
    if curriculum is None or not (authored_by(curriculum, city_id) or curriculum.status == CurriculumStatus.published):
        raise TrainingError("curriculum_id", N_("Choose one of your curricula or a published one."))
    ts = TrainingSession(city_id=city_id, **data.model_dump())
    session.add(ts)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.session_planned",
        entity_type="training_session",
        entity_id=ts.id,
        after=data.model_dump(mode="json"),
    )
    return ts


async def city_sessions(session: AsyncSession, city_id: UUID) -> list[TrainingSession]:
    return list(
        await session.scalars(
            select(TrainingSession).where(TrainingSession.city_id == city_id).order_by(TrainingSession.starts_on.desc())
        )
    )


async def get_city_session(session: AsyncSession, city_id: UUID, session_id: UUID) -> TrainingSession | None:
    ts = await session.get(TrainingSession, session_id)
    return ts if ts is not None and ts.city_id == city_id else None


async def participants_of(session: AsyncSession, session_id: UUID) -> list[Participant]:
    return list(
        await session.scalars(
            select(Participant).where(Participant.session_id == session_id).order_by(Participant.created_at)
        )
    )


async def register_participant(
    session: AsyncSession, ts: TrainingSession, *, name: str, email: str = "", target_group: str = "", actor: Actor
) -> Participant:
    """Registers someone; once the session is full they go on the waiting list instead."""
    if ts.questionnaire_closed_at is not None:
        raise TrainingError("name", N_("This session is evaluated and closed."))
    if target_group:
        await _check_groups(session, [target_group])
    registered = await session.scalar(
        select(func.count()).where(Participant.session_id == ts.id, Participant.waiting_list.is_(False))
    )
    person = Participant(
        session_id=ts.id,
        name=name,
        email=email,
        target_group=target_group,
        waiting_list=(registered or 0) >= ts.capacity,
        token=secrets.token_urlsafe(24),
    )
    session.add(person)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.participant_registered",
        entity_type="training_session",
        entity_id=ts.id,
        after={"participant": str(person.id), "waiting_list": person.waiting_list},
    )
    return person


async def set_attendance(session: AsyncSession, ts: TrainingSession, attended_ids: set[UUID], *, actor: Actor) -> None:
    for person in await participants_of(session, ts.id):
        person.attended = person.id in attended_ids and not person.waiting_list
    audit.record(
        session,
        actor=actor,
        action="training.attendance_recorded",
        entity_type="training_session",
        entity_id=ts.id,
        after={"attended": len(attended_ids)},
    )
    await session.flush()


def questionnaire_link(base_url: str, person: Participant) -> str:
    return f"{base_url.rstrip('/')}/m/training/q/{person.token}"


async def send_questionnaire_links(session: AsyncSession, ts: TrainingSession, base_url: str, *, actor: Actor) -> int:
    """Mail each registered participant with an address their personal link, in their language (their
    account's preference, English without one); returns how many were queued."""
    sent = 0
    people = [p for p in await participants_of(session, ts.id) if not (p.waiting_list or not p.email or p.answered)]
    locales = await recipient_locales(session, [p.email for p in people])
    for person in people:
        with using_locale(locales[person.email]):
            subject = _("%(title)s: how was the training?") % {"title": ts.title}
            body = _(
                "Hello %(name)s,\n\nThank you for taking part in “%(title)s”. Please tell us what you thought "
                "of it (5 minutes, anonymous):\n\n%(link)s\n"
            ) % {"name": person.name, "title": ts.title, "link": questionnaire_link(base_url, person)}
        queue_mail(session, to=person.email, subject=subject, body_text=body)
        sent += 1
    audit.record(
        session,
        actor=actor,
        action="training.questionnaire_sent",
        entity_type="training_session",
        entity_id=ts.id,
        after={"sent": sent},
    )
    return sent


LINK_LIFETIME = timedelta(days=180)
"""A personal questionnaire link works at most this long after the person was registered, and no longer once
the questionnaire is closed; a self-assessment link this long after it was answered. Then the daily job
replaces the secret (the link dies, the answers stay)."""
EXPIRED_PREFIX = "expired-"


async def participant_by_token(session: AsyncSession, token: str) -> Participant | None:
    """The participant of a live questionnaire link (None once it has expired)."""
    if not token or len(token) > 64 or token.startswith(EXPIRED_PREFIX):
        return None
    person: Participant | None = await session.scalar(select(Participant).where(Participant.token == token))
    if person is not None:
        ts = await session.get(TrainingSession, person.session_id)
        if ts is None or person.created_at < datetime.now(UTC) - LINK_LIFETIME:
            return None
    return person


async def expire_links(session: AsyncSession) -> int:
    """Retention (daily job): the secrets of expired personal links are replaced, so a link found in an old
    mailbox opens nothing. Returns how many links died."""
    limit = datetime.now(UTC) - LINK_LIFETIME
    people = await session.scalars(
        select(Participant)
        .join(TrainingSession, TrainingSession.id == Participant.session_id)
        .where(
            or_(Participant.created_at < limit, TrainingSession.questionnaire_closed_at.is_not(None)),
            Participant.token.not_like(f"{EXPIRED_PREFIX}%"),
        )
    )
    assessments = await session.scalars(
        select(SelfAssessment).where(
            SelfAssessment.completed_at < limit,
            SelfAssessment.token.not_like(f"{EXPIRED_PREFIX}%"),
        )
    )
    count = 0
    for row in [*people, *assessments]:
        row.token = EXPIRED_PREFIX + secrets.token_urlsafe(24)
        count += 1
    await session.flush()
    return count


async def answer_questionnaire(session: AsyncSession, token: str, data: AnswerInput) -> QuestionnaireAnswer:
    """Stores one anonymous answer: the link is marked used, the answer keeps no trace of who gave it."""
    person = await participant_by_token(session, token)
    if person is None:
        raise TrainingError("token", N_("This questionnaire link is not valid."))
    ts = await session.get(TrainingSession, person.session_id)
    assert ts is not None
    if ts.questionnaire_closed_at is not None:
        raise TrainingError("token", N_("This questionnaire is closed; answers are no longer accepted."))
    if person.waiting_list:
        raise TrainingError("token", N_("You were on the waiting list of this session."))
    if person.answered:
        raise TrainingError("token", N_("This link has already been used to answer the questionnaire."))
    person.answered = True
    answer = QuestionnaireAnswer(
        session_id=ts.id, scores=data.scores(), liked=data.liked.strip(), improve=data.improve.strip()
    )
    session.add(answer)
    await session.flush()
    return answer


# -- evaluation ------------------------------------------------------------------------------------


@dataclass
class ItemSummary:
    item: str
    mean: float | None
    distribution: dict[int, int]


@dataclass
class SessionReport:
    session: TrainingSession
    participants: int
    attended: int
    respondents: int
    response_rate: float | None
    satisfaction: float | None
    items: list[ItemSummary]
    comments_liked: list[str] = field(default_factory=list)
    comments_improve: list[str] = field(default_factory=list)


def summarise(answers: list[dict[str, int]]) -> tuple[list[ItemSummary], float | None]:
    """Mean and 1-5 distribution of each Likert item, and the overall mean of every score given."""
    items = []
    every: list[int] = []
    for item in LIKERT_ITEMS:
        values = [a[item] for a in answers if item in a]
        every += values
        items.append(
            ItemSummary(
                item=item,
                mean=round(statistics.fmean(values), 2) if values else None,
                distribution={score: values.count(score) for score in range(1, 6)},
            )
        )
    return items, (round(statistics.fmean(every), 2) if every else None)


async def session_report(session: AsyncSession, ts: TrainingSession) -> SessionReport:
    """Per-session report: response rate (answers / registered participants), item means and distributions,
    the open comments in random-free but identity-free order (no participant is linked to an answer)."""
    people = [p for p in await participants_of(session, ts.id) if not p.waiting_list]
    answers = list(
        await session.scalars(
            select(QuestionnaireAnswer)
            .where(QuestionnaireAnswer.session_id == ts.id)
            .order_by(QuestionnaireAnswer.liked, QuestionnaireAnswer.improve)
        )
    )
    items, overall = summarise([a.scores for a in answers])
    return SessionReport(
        session=ts,
        participants=len(people),
        attended=sum(1 for p in people if p.attended),
        respondents=len(answers),
        response_rate=round(len(answers) / len(people), 3) if people else None,
        satisfaction=overall,
        items=items,
        comments_liked=sorted(a.liked for a in answers if a.liked),
        comments_improve=sorted(a.improve for a in answers if a.improve),
    )


async def close_questionnaire(session: AsyncSession, ts: TrainingSession, *, actor: Actor) -> SessionReport:
    """Closes the questionnaire and publishes ``training.session_evaluated`` with the session's figures."""
    if ts.questionnaire_closed_at is not None:
        raise TrainingError("status", N_("This questionnaire is already closed."))
    ts.questionnaire_closed_at = datetime.now(UTC)
    report = await session_report(session, ts)
    curriculum = await session.get(Curriculum, ts.curriculum_id)
    audit.record(
        session,
        actor=actor,
        action="training.session_evaluated",
        entity_type="training_session",
        entity_id=ts.id,
        after={"respondents": report.respondents, "satisfaction": report.satisfaction},
    )
    outbox.record(
        session,
        SessionEvaluated(
            actor=_actor_id(actor),
            city_id=ts.city_id,
            session_id=ts.id,
            curriculum_id=ts.curriculum_id,
            target_groups=list(curriculum.target_groups if curriculum else []),
            participants=report.participants,
            attended=report.attended,
            respondents=report.respondents,
            satisfaction=report.satisfaction,
        ),
    )
    await session.flush()
    return report


async def record_feedback_actions(session: AsyncSession, ts: TrainingSession, text: str, *, actor: Actor) -> None:
    before = ts.feedback_actions
    ts.feedback_actions = text
    audit.record(
        session,
        actor=actor,
        action="training.feedback_actions",
        entity_type="training_session",
        entity_id=ts.id,
        before={"feedback_actions": before},
        after={"feedback_actions": text},
    )
    await session.flush()


@dataclass
class ReportLine:
    label: str
    sessions: int
    participants: int
    respondents: int
    satisfaction: float | None


@dataclass
class EvaluationReport:
    sessions: int
    participants: int
    respondents: int
    satisfaction: float | None
    by_curriculum: list[ReportLine]
    by_target_group: list[ReportLine]
    by_city: list[ReportLine]
    feedback_actions: list[tuple[str, str, str]]
    """(city, session title, feedback actions taken)."""


async def evaluation_report(session: AsyncSession, *, year: int | None = None) -> EvaluationReport:
    """All evaluated pilots, by curriculum, target group and city: satisfaction is the mean of every answer's
    scores in the group (not a mean of session means, so a large session weighs as much as its answers)."""
    stmt = (
        select(TrainingSession, Curriculum, City.name)
        .join(Curriculum, Curriculum.id == TrainingSession.curriculum_id)
        .join(City, City.id == TrainingSession.city_id)
        .where(TrainingSession.questionnaire_closed_at.is_not(None))
        .order_by(TrainingSession.starts_on)
    )
    rows = list((await session.execute(stmt)).all())
    if year is not None:
        rows = [r for r in rows if r[0].starts_on.year == year]
    ids = [r[0].id for r in rows]
    scores: dict[UUID, list[dict[str, int]]] = defaultdict(list)
    if ids:
        for sid, sc in await session.execute(
            select(QuestionnaireAnswer.session_id, QuestionnaireAnswer.scores).where(
                QuestionnaireAnswer.session_id.in_(ids)
            )
        ):
            scores[sid].append(sc)
    registered: dict[UUID, int] = {}
    if ids:
        registered = dict(
            (
                await session.execute(
                    select(Participant.session_id, func.count())
                    .where(Participant.session_id.in_(ids), Participant.waiting_list.is_(False))
                    .group_by(Participant.session_id)
                )
            ).all()  # type: ignore[arg-type]
        )

    groups: dict[str, dict[str, list[UUID]]] = {
        "curriculum": defaultdict(list),
        "group": defaultdict(list),
        "city": defaultdict(list),
    }
    for ts, curriculum, city_name in rows:
        groups["curriculum"][curriculum.title].append(ts.id)
        for key in curriculum.target_groups:
            groups["group"][key].append(ts.id)
        groups["city"][city_name].append(ts.id)

    def line(label: str, sids: list[UUID]) -> ReportLine:
        answers = [a for sid in sids for a in scores[sid]]
        _, overall = summarise(answers)
        return ReportLine(label, len(sids), sum(registered.get(s, 0) for s in sids), len(answers), overall)

    _, overall = summarise([a for sid in ids for a in scores[sid]])
    return EvaluationReport(
        sessions=len(rows),
        participants=sum(registered.values()),
        respondents=sum(len(v) for v in scores.values()),
        satisfaction=overall,
        by_curriculum=[line(k, v) for k, v in sorted(groups["curriculum"].items())],
        by_target_group=[line(k, v) for k, v in sorted(groups["group"].items())],
        by_city=[line(k, v) for k, v in sorted(groups["city"].items())],
        feedback_actions=[(c, ts.title, ts.feedback_actions) for ts, _cur, c in rows if ts.feedback_actions],
    )


# -- competence self-assessment and gap analysis ------------------------------------------------------


async def start_self_assessment(
    session: AsyncSession, city_id: UUID, data: SelfAssessmentInput, *, user_id: UUID | None, actor: Actor
) -> SelfAssessment:
    """Opens a self-assessment for one person (answered through its personal link, or by the signed-in user)."""
    await matrix(session)
    await _check_groups(session, [data.target_group])
    if data.session_id is not None and await get_city_session(session, city_id, data.session_id) is None:
        raise TrainingError("session_id", N_("No such training session in this city."))
    sa = SelfAssessment(
        city_id=city_id,
        target_group=data.target_group,
        phase=data.phase,
        session_id=data.session_id,
        user_id=user_id,
        token=secrets.token_urlsafe(24),
    )
    session.add(sa)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.self_assessment_opened",
        entity_type="training_self_assessment",
        entity_id=sa.id,
        after={"target_group": sa.target_group, "phase": sa.phase},
    )
    return sa


async def self_assessment_by_token(session: AsyncSession, token: str) -> SelfAssessment | None:
    if not token or len(token) > 64 or token.startswith(EXPIRED_PREFIX):
        return None
    found: SelfAssessment | None = await session.scalar(select(SelfAssessment).where(SelfAssessment.token == token))
    return found


async def _check_topics(session: AsyncSession, sa: SelfAssessment, data: RatingInput) -> None:
    """Topic levels must name topics of the profile's cells."""
    if not data.topics:
        return
    row = next((r for r in await matrix(session) if r.group.key == sa.target_group), None)
    allowed = {f"{area}.{t}" for area, cell in (row.cells.items() if row else []) for t in cell.topics}
    if any(key not in allowed for key in data.topics):
        raise TrainingError("topics", N_("This topic is not part of the profile's competence matrix cells."))


async def rate_self(session: AsyncSession, sa: SelfAssessment, data: RatingInput) -> None:
    if sa.completed_at is not None:
        raise TrainingError("token", N_("This self-assessment has already been answered."))
    await _check_topics(session, sa, data)
    sa.own_levels = data.levels()
    sa.own_topics = data.topic_levels()
    sa.completed_at = datetime.now(UTC)
    await session.flush()


async def rate_by_supervisor(session: AsyncSession, sa: SelfAssessment, data: RatingInput, *, actor: Actor) -> None:
    await _check_topics(session, sa, data)
    sa.supervisor_levels = data.levels()
    sa.supervisor_topics = data.topic_levels()
    audit.record(
        session,
        actor=actor,
        action="training.supervisor_rated",
        entity_type="training_self_assessment",
        entity_id=sa.id,
        after={"rated": True},
    )
    await session.flush()


async def start_my_self_assessment(
    session: AsyncSession, identity: Identity, data: MySelfAssessmentInput
) -> SelfAssessment:
    """A signed-in staff member opens a self-assessment for themself, in a city they work for."""
    if data.city_id not in identity.cities():
        raise TrainingError("city_id", N_("You can only assess yourself for a city you work for."))
    return await start_self_assessment(
        session,
        data.city_id,
        SelfAssessmentInput(target_group=data.target_group, phase=data.phase),
        user_id=identity.user_id,
        actor=identity,
    )


async def my_self_assessments(session: AsyncSession, user_id: UUID) -> list[SelfAssessment]:
    return list(
        await session.scalars(
            select(SelfAssessment).where(SelfAssessment.user_id == user_id).order_by(SelfAssessment.created_at.desc())
        )
    )


async def my_self_assessment(session: AsyncSession, user_id: UUID | None, assessment_id: UUID) -> SelfAssessment | None:
    """One of the user's own self-assessments (None for anybody else's)."""
    sa = await session.get(SelfAssessment, assessment_id)
    return sa if sa is not None and user_id is not None and sa.user_id == user_id else None


@dataclass
class Gap:
    target_group: str
    area: str
    target_level: str | None
    people: int
    mean_own: float | None
    mean_supervisor: float | None
    below_target: int
    gap: float | None
    """Target rank minus the mean assessed rank (the supervisor's when given, else the person's own)."""


def gap_lines(
    targets: dict[str, dict[str, str]], ratings: list[tuple[str, dict[str, str], dict[str, str]]]
) -> list[Gap]:
    """Aggregates completed ratings (target group, own, supervisor) into gaps per target group and area.

    Levels count 1 (basic) to 3 (advanced). Groups smaller than :data:`MIN_GROUP_SIZE` show their size only."""
    by_group: dict[str, list[tuple[dict[str, str], dict[str, str]]]] = defaultdict(list)
    for group, own_levels, sup_levels in ratings:
        by_group[group].append((own_levels, sup_levels))
    lines = []
    for group in sorted(by_group):
        people = by_group[group]
        for area in AREAS:
            target = targets.get(group, {}).get(area)
            if len(people) < MIN_GROUP_SIZE:
                lines.append(Gap(group, area, target, len(people), None, None, 0, None))
                continue
            own = [LEVEL_RANK[o[area]] for o, _ in people if area in o]
            sup = [LEVEL_RANK[s[area]] for _, s in people if area in s]
            effective = [LEVEL_RANK[(s.get(area) or o[area])] for o, s in people if area in o]
            tr = LEVEL_RANK.get(target or "", None)
            lines.append(
                Gap(
                    target_group=group,
                    area=area,
                    target_level=target,
                    people=len(people),
                    mean_own=round(statistics.fmean(own), 2) if own else None,
                    mean_supervisor=round(statistics.fmean(sup), 2) if sup else None,
                    below_target=sum(1 for e in effective if tr is not None and e < tr),
                    gap=round(tr - statistics.fmean(effective), 2) if tr is not None and effective else None,
                )
            )
    return lines


async def city_gaps(session: AsyncSession, city_id: UUID, *, phase: str = "") -> list[Gap]:
    """The city-wide gap view by target group: the input for its learning plan (aggregates only)."""
    stmt = select(SelfAssessment.target_group, SelfAssessment.own_levels, SelfAssessment.supervisor_levels).where(
        SelfAssessment.city_id == city_id, SelfAssessment.completed_at.is_not(None)
    )
    if phase:
        stmt = stmt.where(SelfAssessment.phase == phase)
    ratings = [(g, o or {}, s or {}) for g, o, s in (await session.execute(stmt)).all()]
    return gap_lines(await target_levels(session), ratings)


async def recommended_curricula(session: AsyncSession, gaps: list[Gap]) -> list[tuple[Curriculum, list[str]]]:
    """Published curricula with a unit on a cell where the city falls short (positive gap), with those cells."""
    wanted = {(g.target_group, g.area) for g in gaps if g.gap is not None and g.gap > 0}
    if not wanted:
        return []
    published = {c.id: c for c in await curricula(session, status=CurriculumStatus.published)}
    found: dict[UUID, list[str]] = defaultdict(list)
    for unit in await session.scalars(select(CurriculumUnit).where(CurriculumUnit.curriculum_id.in_(list(published)))):
        cell = f"{unit.target_group}/{unit.area}"
        if (unit.target_group, unit.area) in wanted and cell not in found[unit.curriculum_id]:
            found[unit.curriculum_id].append(cell)
    return [(published[cid], cells) for cid, cells in found.items()]


@dataclass
class TopicGap:
    target_group: str
    area: str
    topic: str
    target_level: str | None
    people: int
    mean_assessed: float | None
    gap: float | None


def topic_gap_lines(
    targets: dict[str, dict[str, str]], ratings: list[tuple[str, dict[str, str], dict[str, str]]]
) -> list[TopicGap]:
    """Gaps per topic (target group, own topics, supervisor topics), from the people who rated that topic.

    A topic's target is its area's level; the supervisor's rating takes precedence; fewer than
    :data:`MIN_GROUP_SIZE` people show their size only."""
    ranks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for group, own, sup in ratings:
        for key, level in own.items():
            ranks[(group, key)].append(LEVEL_RANK[sup.get(key) or level])
    lines = []
    for (group, key), values in sorted(ranks.items()):
        area, _, topic = key.partition(".")
        target = targets.get(group, {}).get(area)
        tr = LEVEL_RANK.get(target or "")
        if len(values) < MIN_GROUP_SIZE:
            lines.append(TopicGap(group, area, topic, target, len(values), None, None))
            continue
        mean = statistics.fmean(values)
        gap = round(tr - mean, 2) if tr is not None else None
        lines.append(TopicGap(group, area, topic, target, len(values), round(mean, 2), gap))
    return lines


async def city_topic_gaps(session: AsyncSession, city_id: UUID) -> list[TopicGap]:
    """The city's gaps per topic, from the self-assessments rated topic by topic (aggregates only)."""
    stmt = select(SelfAssessment.target_group, SelfAssessment.own_topics, SelfAssessment.supervisor_topics).where(
        SelfAssessment.city_id == city_id, SelfAssessment.completed_at.is_not(None)
    )
    ratings = [(g, o or {}, s or {}) for g, o, s in (await session.execute(stmt)).all() if o]
    return topic_gap_lines(await target_levels(session), ratings)


def personal_gaps(sa: SelfAssessment, targets: dict[str, str]) -> dict[str, int]:
    """area → target rank minus the person's assessed rank (the supervisor's where given), for one assessment."""
    gaps: dict[str, int] = {}
    for area in AREAS:
        level = (sa.supervisor_levels or {}).get(area) or (sa.own_levels or {}).get(area)
        if level and targets.get(area):
            gaps[area] = LEVEL_RANK[targets[area]] - LEVEL_RANK[level]
    return gaps


@dataclass
class PlanItem:
    curriculum: Curriculum
    covered_gap: int
    cells: list[str] = field(default_factory=list)


async def learning_plan(session: AsyncSession, user_id: UUID) -> list[PlanItem]:
    """A person's learning plan: published curricula whose units cover the areas where they fall short.

    Uses the person's latest answered self-assessment per profile. A unit counts when it sits on the person's
    profile and a short area, at a level above the one assessed; curricula come largest covered gap first."""
    latest: dict[str, SelfAssessment] = {}
    for sa in await my_self_assessments(session, user_id):
        if sa.completed_at is not None and sa.target_group not in latest:
            latest[sa.target_group] = sa
    if not latest:
        return []
    targets = await target_levels(session)
    short: dict[tuple[str, str], tuple[int, int]] = {}
    """(group, area) → (gap, assessed rank)."""
    for group, sa in latest.items():
        for area, gap in personal_gaps(sa, targets.get(group, {})).items():
            if gap > 0:
                assessed = LEVEL_RANK[targets[group][area]] - gap
                short[(group, area)] = (gap, assessed)
    if not short:
        return []
    rows = await session.execute(
        select(CurriculumUnit, Curriculum)
        .join(Curriculum, Curriculum.id == CurriculumUnit.curriculum_id)
        .where(
            Curriculum.status == CurriculumStatus.published,
            CurriculumUnit.target_group.in_({g for g, _ in short}),
            CurriculumUnit.area.in_({a for _, a in short}),
        )
    )
    plan: dict[UUID, PlanItem] = {}
    for unit, curriculum in rows.tuples():
        cell = (unit.target_group, unit.area)
        if cell not in short or LEVEL_RANK.get(unit.level, 0) <= short[cell][1]:
            continue
        item = plan.setdefault(curriculum.id, PlanItem(curriculum, 0))
        name = f"{unit.target_group}/{unit.area}"
        if name not in item.cells:
            item.cells.append(name)
            item.covered_gap += short[cell][0]
    return sorted(plan.values(), key=lambda i: (-i.covered_gap, i.curriculum.title))


# -- lists with search and pages -------------------------------------------------------------------------


def page_of(items: list[Any], number: int, size: int = DEFAULT_PAGE_SIZE) -> Page[Any]:
    number = max(1, min(number, max(1, -(-len(items) // size))))
    return Page(items[(number - 1) * size : number * size], len(items), number, size)


async def _paged(session: AsyncSession, stmt: Any, number: int, size: int) -> Page[Any]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    number = max(1, min(number, max(1, -(-total // size))))
    items = list(await session.scalars(stmt.limit(size).offset((number - 1) * size)))
    return Page(items, total, number, size)


def _like(text: str) -> str:
    escaped = text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_city_curricula(
    session: AsyncSession, city_id: UUID, *, q: str = "", status: str = "", number: int = 1, size: int = 10
) -> Page[Curriculum]:
    items = await city_curricula(session, city_id)
    if q.strip():
        needle = q.strip().lower()
        items = [c for c in items if needle in c.title.lower() or needle in (c.summary or "").lower()]
    if status:
        items = [c for c in items if c.status == status]
    return page_of(items, number, size)


async def search_city_sessions(
    session: AsyncSession, city_id: UUID, *, q: str = "", number: int = 1, size: int = 10
) -> Page[TrainingSession]:
    stmt = select(TrainingSession).where(TrainingSession.city_id == city_id)
    if q.strip():
        like = _like(q)
        stmt = stmt.where(
            func.lower(TrainingSession.title).like(like, escape="\\")
            | func.lower(TrainingSession.place).like(like, escape="\\")
            | func.lower(TrainingSession.trainers).like(like, escape="\\")
        )
    return await _paged(session, stmt.order_by(TrainingSession.starts_on.desc(), TrainingSession.id), number, size)


async def search_city_self_assessments(
    session: AsyncSession, city_id: UUID, *, target_group: str = "", phase: str = "", number: int = 1, size: int = 10
) -> Page[SelfAssessment]:
    stmt = select(SelfAssessment).where(SelfAssessment.city_id == city_id)
    if target_group:
        stmt = stmt.where(SelfAssessment.target_group == target_group)
    if phase:
        stmt = stmt.where(SelfAssessment.phase == phase)
    return await _paged(session, stmt.order_by(SelfAssessment.created_at.desc(), SelfAssessment.id), number, size)


async def search_toolbox(session: AsyncSession, *, q: str = "", number: int = 1, size: int = 25) -> Page[ToolboxEntry]:
    stmt = select(ToolboxEntry)
    if q.strip():
        like = _like(q)
        stmt = stmt.where(
            func.lower(ToolboxEntry.title).like(like, escape="\\")
            | func.lower(ToolboxEntry.summary).like(like, escape="\\")
        )
    return await _paged(session, stmt.order_by(ToolboxEntry.created_at.desc(), ToolboxEntry.id), number, size)


# -- toolbox ---------------------------------------------------------------------------------------


async def add_toolbox_entry(
    session: AsyncSession,
    *,
    source: str,
    source_key: str,
    title: str,
    summary: str = "",
    link: str = "",
    city_id: UUID | None = None,
) -> ToolboxEntry:
    """Upsert on (source, source_key), so a redelivered event changes nothing."""
    entry = await session.scalar(
        select(ToolboxEntry).where(ToolboxEntry.source == source, ToolboxEntry.source_key == source_key)
    )
    if entry is None:
        entry = ToolboxEntry(source=source, source_key=source_key, title=title[:300], city_id=city_id)
        session.add(entry)
    entry.title = title[:300]
    entry.summary = summary
    entry.link = link[:500]
    await session.flush()
    return entry


async def attach_toolbox_entry(session: AsyncSession, curriculum: Curriculum, entry_id: UUID, *, actor: Actor) -> None:
    """Attach a toolbox resource to a curriculum (once)."""
    if await session.get(ToolboxEntry, entry_id) is None:
        raise TrainingError("entry_id", N_("No such toolbox entry."))
    if str(entry_id) in (curriculum.toolbox_entry_ids or []):
        return
    curriculum.toolbox_entry_ids = [*(curriculum.toolbox_entry_ids or []), str(entry_id)]
    audit.record(
        session,
        actor=actor,
        action="training.toolbox_attached",
        entity_type="training_curriculum",
        entity_id=curriculum.id,
        after={"toolbox_entry_id": str(entry_id)},
    )
    await session.flush()


async def toolbox(session: AsyncSession) -> list[ToolboxEntry]:
    return list(await session.scalars(select(ToolboxEntry).order_by(ToolboxEntry.created_at.desc()).limit(200)))


# -- monitoring hooks ------------------------------------------------------------------------------


async def cycle_section(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """A city's training part of the yearly checklist: a pilot evaluated this year, and a gap view."""
    evaluated = [
        ts for ts in await city_sessions(session, city_id) if ts.questionnaire_closed_at and ts.starts_on.year == year
    ]
    assessed = await session.scalar(
        select(func.count()).where(SelfAssessment.city_id == city_id, SelfAssessment.completed_at.is_not(None))
    )
    done = (50 if evaluated else 0) + (50 if assessed else 0)
    status: Literal["not_started", "in_progress", "submitted"] = (
        "not_started" if done == 0 else ("submitted" if done == 100 else "in_progress")
    )
    return CycleSection(status=status, completeness=done, link=f"/m/training/cities/{city_id}/")


async def report_section(session: AsyncSession, year: int) -> ReportSection:
    report = await evaluation_report(session, year=year)
    return ReportSection(
        title="Competence-based training",
        figures={
            "pilot sessions evaluated": report.sessions,
            "participants": report.participants,
            "questionnaire answers": report.respondents,
            "mean satisfaction (1-5)": report.satisfaction if report.satisfaction is not None else "—",
        },
        tables=[
            {
                "city": line.label,
                "sessions": line.sessions,
                "participants": line.participants,
                "satisfaction": line.satisfaction,
            }
            for line in report.by_city
        ],
    )


def report_csv(report: EvaluationReport) -> str:
    """The evaluation report as CSV: one line per curriculum, target group and city."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["breakdown", "name", "sessions", "participants", "answers", "mean_satisfaction"])
    for breakdown, lines in (
        ("curriculum", report.by_curriculum),
        ("target_group", report.by_target_group),
        ("city", report.by_city),
    ):
        for line in lines:
            satisfaction = "" if line.satisfaction is None else line.satisfaction
            writer.writerow([breakdown, line.label, line.sessions, line.participants, line.respondents, satisfaction])
    return out.getvalue()


# -- recommendations after a city's assessment ---------------------------------------------------------

# Which knowledge area trains a weak assessment dimension, by words in the dimension's name. The assessment
# framework is another module's; anything unrecognised points at the integrated approach (know-how).
AREA_WORDS: dict[str, tuple[str, ...]] = {
    "knowledge": ("regulat", "law", "legal", "technolog", "data", "cctv", "privacy", "gdpr", "prevention", "capacity"),
    "interpersonal": ("communit", "cohesion", "citizen", "participat", "inclusion", "perception", "resident"),
    "know_how": ("governance", "partnership", "integrat", "cooperat", "planning", "design", "public space"),
}


def areas_for(dimensions: list[str]) -> list[str]:
    """The knowledge areas that address the given weak dimensions (see :data:`AREA_WORDS`)."""
    found: list[str] = []
    for dimension in dimensions:
        text = dimension.lower().replace("_", " ")
        hits = [area for area, words in AREA_WORDS.items() if any(w in text for w in words)] or ["know_how"]
        found += [a for a in hits if a not in found]
    return [a for a in AREAS if a in found]


async def record_assessment_priorities(
    session: AsyncSession, city_id: UUID, year: int, dimensions: list[str]
) -> AssessmentPriority:
    """Upsert on (city, year): a resubmitted assessment replaces the previous weak dimensions."""
    row = await session.scalar(
        select(AssessmentPriority).where(AssessmentPriority.city_id == city_id, AssessmentPriority.year == year)
    )
    if row is None:
        row = AssessmentPriority(city_id=city_id, year=year)
        session.add(row)
    row.weak_dimensions = list(dimensions)
    row.areas = areas_for(dimensions)
    await session.flush()
    return row


async def assessment_recommendations(
    session: AsyncSession, city_id: UUID
) -> tuple[AssessmentPriority | None, list[Curriculum]]:
    """The city's latest weak dimensions and the published curricula with units in the matching areas."""
    latest = await session.scalar(
        select(AssessmentPriority)
        .where(AssessmentPriority.city_id == city_id)
        .order_by(AssessmentPriority.year.desc())
        .limit(1)
    )
    if latest is None or not latest.areas:
        return latest, []
    ids = set(
        await session.scalars(
            select(CurriculumUnit.curriculum_id)
            .join(Curriculum, Curriculum.id == CurriculumUnit.curriculum_id)
            .where(CurriculumUnit.area.in_(latest.areas), Curriculum.status == CurriculumStatus.published)
        )
    )
    return latest, [c for c in await curricula(session, status=CurriculumStatus.published) if c.id in ids]
