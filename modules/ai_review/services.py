"""The register's business rules: entries, the review's classification, sign-off and publication.

Classification (:func:`classify`) is rule-based and deterministic. Given the questionnaire's answers
(``rules.QUESTIONS``) and the register entry, it:

1. lists the answers still missing (a question counts only when it applies to the other answers);
2. flags contradictions (e.g. "no personal data" with facial recognition), which must be resolved;
3. takes the strictest class whose rules match, in this order:
   - ``prohibited`` — any Art. 5 rule (social scoring; crime prediction solely from profiling; untargeted
     facial scraping; emotion recognition at work or in education; biometric categorisation by sensitive
     traits; real-time remote biometric identification in public spaces for law enforcement unless one of
     the three exceptions of Art. 5(1)(h) applies *and* each use is authorised beforehand);
   - ``high`` — any Annex III rule, unless the Art. 6(3) derogation holds (claimed, documented, no profiling);
   - ``limited`` — any Art. 50 transparency rule;
   - ``minimal`` — an AI system matching none of the above;
   - ``not_ai`` — not an AI system: only the GDPR/LED checks apply;
4. lists the obligations still open (deployer duties of Art. 26, the FRIA of Art. 27 for public bodies,
   registration of Art. 49, the Art. 50 notices) and the GDPR/LED safeguards missing (legal basis,
   a DPIA where monitoring of public areas is systematic and large-scale, necessity and proportionality,
   bounded retention, a complaint channel).

A reviewer may sign off only a submitted, complete, contradiction-free review (and, for high risk, a
complete FRIA). Sign-off records ``ai_review.technology_reviewed`` in the outbox.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import yaml
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from covenant import audit
from covenant.accounts.identity import Identity
from covenant.cities.models import City
from covenant.events import outbox
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.plugins import CycleSection, ReportSection
from covenant.web.pagination import Page
from modules.ai_review import rules
from modules.ai_review.events import TechnologyReviewed
from modules.ai_review.models import (
    BOTTLENECKS,
    Category,
    LegalDevelopment,
    ReviewStatus,
    RiskClass,
    SurveyResponse,
    Technology,
    TechnologyStatus,
    Visibility,
)
from modules.ai_review.schemas import (
    LegalDevelopmentInput,
    PublishInput,
    ReviewInput,
    SignOffInput,
    SurveyInput,
    TechnologyInput,
)


class ReviewError(Exception):
    """A refused action, with the field it concerns and a message for people."""

    def __init__(self, message: str, field: str = "form") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def actor_id(actor: Identity | UUID | None) -> UUID | None:
    return actor.user_id if isinstance(actor, Identity) else actor


def today() -> date:
    return datetime.now(UTC).date()


# -- classification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    key: str
    text: str
    articles: str = ""


@dataclass
class Classification:
    risk_class: str
    rules: list[Finding] = field(default_factory=list)
    derogation_applied: bool = False
    missing_answers: list[str] = field(default_factory=list)
    contradictions: list[Finding] = field(default_factory=list)
    open_obligations: list[Finding] = field(default_factory=list)
    missing_safeguards: list[Finding] = field(default_factory=list)
    fria_required: bool = False
    fria_missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing_answers and not self.contradictions

    @property
    def ready_for_sign_off(self) -> bool:
        return self.complete and not (self.fria_required and self.fria_missing)


@dataclass(frozen=True)
class EntryFacts:
    """What the register entry itself says, for the GDPR checks and contradictions."""

    category: str = Category.other
    personal_data: bool = False
    biometric_data: bool = False
    legal_basis: str = ""
    dpia_done: bool = False
    human_oversight: str = ""
    complaint_channel: str = ""

    @classmethod
    def of(cls, t: Technology) -> EntryFacts:
        return cls(
            category=t.category,
            personal_data=t.personal_data,
            biometric_data=t.biometric_data,
            legal_basis=t.legal_basis,
            dpia_done=t.dpia_done,
            human_oversight=t.human_oversight,
            complaint_channel=t.complaint_channel,
        )


CONTRADICTIONS: tuple[tuple[str, str, Any], ...] = (
    (
        "face_without_personal_data",
        N_("Facial recognition is declared, but the entry says no personal or biometric data is processed."),
        lambda a, e: e.category == Category.facial_recognition and not (e.personal_data and e.biometric_data),
    ),
    (
        "biometric_without_personal_data",
        N_("Biometric data is personal data: the entry says biometric data but no personal data."),
        lambda a, e: e.biometric_data and not e.personal_data,
    ),
    (
        "biometric_use_without_biometric_data",
        N_(
            "Biometric identification, categorisation or emotion recognition is "
            "answered, but the entry says no biometric data."
        ),
        lambda a, e: (
            not e.biometric_data
            and any(
                rules.yes(a, k)
                for k in (
                    "realtime_rbi",
                    "remote_biometric_id",
                    "biometric_categorisation",
                    "emotion_recognition",
                    "biometric_categorisation_sensitive",
                    "emotion_work_education",
                )
            )
        ),
    ),
    (
        "biometric_use_but_not_ai",
        N_(
            "Biometric identification or emotion recognition is answered, "
            "but the system is said not to be an AI system."
        ),
        lambda a, e: (
            a.get("is_ai_system") is False
            and any(
                rules.yes(a, k)
                for k in ("realtime_rbi", "remote_biometric_id", "emotion_recognition", "emotion_work_education")
            )
        ),
    ),
    (
        "monitoring_without_personal_data",
        N_(
            "Large-scale monitoring of public areas is answered, but the entry says no "
            "personal data: explain the anonymisation or correct the entry."
        ),
        lambda a, e: (
            rules.yes(a, "large_scale_monitoring")
            and not e.personal_data
            and e.category in (Category.video_surveillance, Category.facial_recognition)
        ),
    ),
)


def missing_answers(answers: rules.Answers) -> list[str]:
    missing = []
    for q in rules.QUESTIONS:
        if not q.asked(answers):
            continue
        value = answers.get(q.key)
        if (q.kind == "yesno" and not isinstance(value, bool)) or (
            q.kind in ("choice", "text") and not str(value or "").strip()
        ):
            missing.append(q.key)
    return missing


def classify(answers: rules.Answers, entry: EntryFacts, fria: dict[str, Any] | None = None) -> Classification:
    """The risk class and what remains to do; see the module docstring for the order of the rules."""
    matched_prohibited = [r for r in rules.PROHIBITED_RULES if r.applies(answers)]
    matched_high = [r for r in rules.HIGH_RISK_RULES if r.applies(answers)]
    matched_transparency = [r for r in rules.TRANSPARENCY_RULES if r.applies(answers)]
    derogation = bool(matched_high) and rules.derogation_holds(answers)
    if matched_prohibited:
        risk, matched = RiskClass.prohibited, matched_prohibited
    elif matched_high and not derogation:
        risk, matched = RiskClass.high, matched_high
    elif matched_transparency:
        risk, matched = RiskClass.limited, matched_transparency
    elif answers.get("is_ai_system") is False:
        risk, matched = RiskClass.not_ai, []
    else:
        risk, matched = RiskClass.minimal, []
    result = Classification(
        risk_class=risk,
        rules=[Finding(r.key, r.text, r.articles) for r in matched],
        derogation_applied=derogation and not matched_prohibited,
        missing_answers=missing_answers(answers),
        contradictions=[Finding(key, text) for key, text, test in CONTRADICTIONS if test(answers, entry)],
    )
    if risk == RiskClass.prohibited:
        result.open_obligations.append(
            Finding(
                "stop",
                N_("Do not deploy, or stop: the practice is prohibited since 2 February 2025."),
                "AI Act Art. 5, Art. 113(a)",
            )
        )
    if risk == RiskClass.high:
        result.fria_required = True
        fria = fria or {}
        result.fria_missing = [k for k in rules.FRIA_KEYS if not str(fria.get(k) or "").strip()]
        if result.fria_missing:
            result.open_obligations.append(
                Finding(
                    "fria", N_("Complete the fundamental rights impact assessment before first use."), "AI Act Art. 27"
                )
            )
        result.open_obligations.append(
            Finding(
                "register",
                N_("Register the use in the EU database (non-public section for law enforcement)."),
                "AI Act Art. 26(8), Art. 49(3), Art. 49(4)",
            )
        )
        result.open_obligations.append(
            Finding("logs", N_("Keep the automatically generated logs for at least six months."), "AI Act Art. 26(6)")
        )
        if not entry.human_oversight.strip():
            result.missing_safeguards.append(
                Finding(
                    "oversight",
                    N_("Describe the human oversight: who can override or stop the system."),
                    "AI Act Art. 26(2), Art. 14",
                )
            )
    if risk == RiskClass.limited or matched_transparency:
        result.open_obligations.append(
            Finding(
                "inform",
                N_("Inform the people exposed that they interact with or are analysed by an AI system."),
                "AI Act Art. 50",
            )
        )
    if result.derogation_applied:
        result.open_obligations.append(
            Finding(
                "derogation",
                N_("Keep the Art. 6(3) assessment on file and register the system before use."),
                "AI Act Art. 6(4), Art. 49(2)",
            )
        )
    if entry.personal_data:
        if not entry.legal_basis.strip():
            result.missing_safeguards.append(
                Finding(
                    "legal_basis",
                    N_("State the legal basis of the processing."),
                    "GDPR Art. 6 and 9; LED Art. 8 and 10",
                )
            )
        if rules.yes(answers, "large_scale_monitoring") and not entry.dpia_done:
            result.missing_safeguards.append(
                Finding(
                    "dpia",
                    N_("A data protection impact assessment is required and not done."),
                    "GDPR Art. 35(3)(c); LED Art. 27",
                )
            )
        if answers.get("necessity_argued") is False:
            result.missing_safeguards.append(
                Finding(
                    "necessity",
                    N_("Argue necessity and proportionality in writing."),
                    "GDPR Art. 5(1)(c); LED Art. 4(1)(c), Art. 10",
                )
            )
        if answers.get("retention_bounded") is False:
            result.missing_safeguards.append(
                Finding(
                    "retention", N_("Fix a limited retention period."), "GDPR Art. 5(1)(e); LED Art. 4(1)(e), Art. 5"
                )
            )
        if not entry.complaint_channel.strip():
            result.missing_safeguards.append(
                Finding(
                    "complaints",
                    N_("Give people a channel for complaints and the exercise of their rights."),
                    "GDPR Art. 12-22; LED Art. 12-18",
                )
            )
    return result


def classification_of(t: Technology) -> Classification:
    return classify(t.review_answers or {}, EntryFacts.of(t), t.fria or {})


# -- register entries -------------------------------------------------------------------------------


RESTRICTED_CATEGORIES: frozenset[str] = frozenset({Category.facial_recognition, Category.predictive_policing})
"""Categories whose uses the AI Act registers in the non-public part of the EU database (Art. 49(4))."""

RESTRICTED_ANSWERS: tuple[tuple[str, str], ...] = (
    ("realtime_rbi", N_("real-time remote biometric identification")),
    ("remote_biometric_id", N_("remote biometric identification")),
    ("law_enforcement", N_("use by or for law enforcement (Law Enforcement Directive)")),
    ("law_enforcement_assessment", N_("law enforcement assessment of persons (Law Enforcement Directive)")),
)


def restriction_grounds(category: str, answers: rules.Answers) -> list[str]:
    """Why an entry must be restricted: facial recognition, predictive policing, remote biometric
    identification, or any use the questionnaire puts under the Law Enforcement Directive."""
    grounds = [CATEGORY_GROUNDS[category]] if category in RESTRICTED_CATEGORIES else []
    grounds += [text for key, text in RESTRICTED_ANSWERS if rules.yes(answers, key)]
    return grounds


CATEGORY_GROUNDS: dict[str, str] = {
    Category.facial_recognition: N_("facial recognition"),
    Category.predictive_policing: N_("predictive policing"),
}

RESTRICTION_MESSAGE = N_(
    "Law-enforcement and biometric uses (facial recognition, remote biometric identification, predictive "
    "policing, uses under the Law Enforcement Directive) must be restricted. Choose “restricted”, or ask a "
    "reviewer to allow public visibility with a reason."
)

RESTRICTED_NOW_MESSAGE = N_(
    "The answers show a law-enforcement or biometric use: the entry is now restricted and off the public register."
)

MIN_OVERRIDE_REASON = 20


def check_visibility(t: Technology) -> None:
    """Refuse a public law-enforcement or biometric use unless a reviewer allowed it with a reason."""
    if (
        t.visibility == Visibility.public
        and not t.public_override_reason.strip()
        and restriction_grounds(t.category, t.review_answers or {})
    ):
        raise ReviewError(RESTRICTION_MESSAGE, "visibility")


def _audit(
    session: AsyncSession,
    t: Technology,
    action: str,
    actor: Identity | UUID | None,
    before: dict[str, Any] | None = None,
) -> None:
    """One audit entry for a change to a register entry, with the entry as it is after the change."""
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="ai_review_technology",
        entity_id=t.id,
        before=before,
        after=t.snapshot(),
    )


async def allow_public_visibility(
    session: AsyncSession, t: Technology, reason: str, *, actor: Identity | UUID | None
) -> Technology:
    """A reviewer's explicit override: the entry may be public despite being a law-enforcement or biometric
    use. The reason is recorded with the reviewer and the time (and in the audit log)."""
    reason = reason.strip()
    if len(reason) < MIN_OVERRIDE_REASON:
        raise ReviewError(
            N_("Explain in at least 20 characters why this entry may be public despite its use."),
            "reason",
        )
    before = t.snapshot()
    t.public_override_reason = reason
    t.public_override_by = actor_id(actor)
    t.public_override_at = datetime.now(UTC)
    t.visibility = Visibility.public
    await session.flush()
    _audit(session, t, "ai_review.public_visibility_allowed", actor, before=before)
    return t


async def withdraw_public_override(
    session: AsyncSession, t: Technology, *, actor: Identity | UUID | None
) -> Technology:
    """Withdraw the reviewer's override: a use that needs it becomes restricted and leaves the public register."""
    before = t.snapshot()
    t.public_override_reason = ""
    t.public_override_by = None
    t.public_override_at = None
    _restrict_if_needed(t)
    await session.flush()
    _audit(session, t, "ai_review.public_visibility_withdrawn", actor, before=before)
    return t


def _restrict_if_needed(t: Technology) -> bool:
    try:
        check_visibility(t)
    except ReviewError:
        t.visibility = Visibility.restricted
        t.published_at = None
        return True
    return False


def _apply(t: Technology, data: TechnologyInput) -> None:
    for name, value in data.model_dump().items():
        setattr(t, name, value)


async def create_technology(
    session: AsyncSession, city_id: UUID, data: TechnologyInput, *, actor: Identity | UUID | None
) -> Technology:
    t = Technology(city_id=city_id, review_answers={}, fria={}, public_override_reason="")
    _apply(t, data)
    check_visibility(t)
    session.add(t)
    await session.flush()
    _audit(session, t, "ai_review.technology_registered", actor)
    return t


async def update_technology(
    session: AsyncSession, t: Technology, data: TechnologyInput, *, actor: Identity | UUID | None
) -> Technology:
    before = t.snapshot()
    if (
        data.visibility == Visibility.public
        and not t.public_override_reason.strip()
        and restriction_grounds(data.category, t.review_answers or {})
    ):
        raise ReviewError(RESTRICTION_MESSAGE, "visibility")
    if data.visibility == Visibility.restricted and t.published_at is not None:
        t.published_at = None  # a restricted entry never stays on the public register
    _apply(t, data)
    if t.review_status == ReviewStatus.signed_off:
        t.review_status = ReviewStatus.draft  # the facts changed: the review must be confirmed again
    if t.review_answers:
        result = classification_of(t)
        t.risk_class = result.risk_class if result.complete else None
    await session.flush()
    _audit(session, t, "ai_review.technology_updated", actor, before=before)
    return t


async def get_technology(session: AsyncSession, technology_id: UUID) -> Technology | None:
    return await session.get(Technology, technology_id)


async def get_city_technology(session: AsyncSession, city_id: UUID, technology_id: UUID) -> Technology | None:
    t = await session.get(Technology, technology_id)
    return t if t is not None and t.city_id == city_id else None


async def city_technologies(session: AsyncSession, city_id: UUID) -> list[Technology]:
    rows = await session.scalars(
        select(Technology).where(Technology.city_id == city_id).order_by(Technology.created_at.desc())
    )
    return list(rows)


async def publish_technology(
    session: AsyncSession, t: Technology, data: PublishInput, *, actor: Identity | UUID | None
) -> Technology:
    """Put the entry on the public register. Restricted entries are refused; the user must confirm that
    sensitive information (camera positions, security details, personal data) has been removed."""
    if t.visibility != Visibility.public:
        raise ReviewError(N_("A restricted entry cannot be published on the public register."), "visibility")
    check_visibility(t)
    if not data.sensitive_information_removed:
        raise ReviewError(
            N_("Confirm that sensitive information has been removed before publishing."),
            "sensitive_information_removed",
        )
    if t.published_at is None:
        t.published_at = datetime.now(UTC)
        await session.flush()
        _audit(session, t, "ai_review.technology_published", actor)
    return t


async def unpublish_technology(session: AsyncSession, t: Technology, *, actor: Identity | UUID | None) -> Technology:
    if t.published_at is not None:
        t.published_at = None
        await session.flush()
        _audit(session, t, "ai_review.technology_unpublished", actor)
    return t


# -- review -----------------------------------------------------------------------------------------


async def save_review(
    session: AsyncSession, t: Technology, data: ReviewInput, *, actor: Identity | UUID | None
) -> Classification:
    """Store the questionnaire and the FRIA, recompute the risk class; a signed-off review goes back to draft."""
    if t.review_status == ReviewStatus.submitted:
        raise ReviewError(N_("The review is with the reviewer; wait for the sign-off or a request for changes."))
    before = t.snapshot()
    t.review_answers = {k: v for k, v in data.answers.items() if k in rules.QUESTION_KEYS}
    t.fria = {k: v for k, v in data.fria.items() if k in rules.FRIA_KEYS}
    result = classification_of(t)
    t.risk_class = result.risk_class if result.complete else None  # a provisional outcome is not published
    t.review_status = ReviewStatus.draft
    # answers that reveal a law-enforcement or biometric use restrict a public entry (unless a reviewer allowed it)
    _restrict_if_needed(t)
    await session.flush()
    _audit(session, t, "ai_review.review_saved", actor, before=before)
    return result


async def submit_review(session: AsyncSession, t: Technology, *, actor: Identity | UUID | None) -> Classification:
    result = classification_of(t)
    if result.missing_answers:
        raise ReviewError(N_("The questionnaire is incomplete: answer every question first."), "answers")
    if result.contradictions:
        raise ReviewError(N_("Some answers contradict the entry: resolve them first."), "answers")
    t.review_status = ReviewStatus.submitted
    t.risk_class = result.risk_class
    await session.flush()
    _audit(session, t, "ai_review.review_submitted", actor)
    return result


async def sign_off(
    session: AsyncSession, t: Technology, data: SignOffInput, *, actor: Identity | UUID | None
) -> Classification:
    """A reviewer confirms (or sends back) a submitted review. Confirming records ``ai_review.technology_reviewed``."""
    if t.review_status != ReviewStatus.submitted:
        raise ReviewError(N_("Only a submitted review can be signed off."))
    result = classification_of(t)
    before = t.snapshot()
    t.reviewer_note = data.note
    t.reviewer_id = actor_id(actor)
    if not data.approve:
        t.review_status = ReviewStatus.draft
        await session.flush()
        _audit(session, t, "ai_review.review_returned", actor, before=before)
        return result
    if not result.complete:
        raise ReviewError(N_("An incomplete or contradictory questionnaire cannot be signed off."))
    if result.fria_required and result.fria_missing:
        raise ReviewError(
            N_("A high-risk use needs a complete fundamental rights impact assessment before sign-off."), "fria"
        )
    t.review_status = ReviewStatus.signed_off
    t.risk_class = result.risk_class
    t.signed_off_at = datetime.now(UTC)
    await session.flush()
    _audit(session, t, "ai_review.review_signed_off", actor, before=before)
    outbox.record(
        session,
        TechnologyReviewed(
            actor=actor_id(actor),
            city_id=t.city_id,
            technology_id=t.id,
            category=t.category,
            risk_class=result.risk_class,
            signed_off_on=t.signed_off_at.date(),
        ),
    )
    return result


def review_overdue(t: Technology, on: date | None = None) -> bool:
    """Re-review is due at the revision date: overdue once it passed without a sign-off since."""
    on = on or today()
    if (
        t.revision_date is None
        or t.revision_date > on
        or t.status in (TechnologyStatus.archived, TechnologyStatus.decommissioned)
    ):
        return False
    return t.signed_off_at is None or t.signed_off_at.date() < t.revision_date


async def review_queue(session: AsyncSession) -> list[tuple[Technology, str]]:
    """Submitted reviews first, then overdue entries, for reviewers (all cities)."""
    rows = (
        await session.execute(
            select(Technology, City.name)
            .join(City, City.id == Technology.city_id)
            .where(or_(Technology.review_status == ReviewStatus.submitted, Technology.revision_date <= today()))
            .order_by(Technology.updated_at)
        )
    ).all()
    out = [(t, name) for t, name in rows if t.review_status == ReviewStatus.submitted or review_overdue(t)]
    out.sort(key=lambda pair: pair[0].review_status != ReviewStatus.submitted)
    return out


# -- public register --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    q: str = ""
    country: str = ""
    category: str = ""
    status: str = ""
    risk_class: str = ""


@dataclass(frozen=True)
class RegisterRow:
    technology: Technology
    city_name: str
    country_code: str


def _public_query(filters: RegisterFilters) -> Any:
    query = (
        select(Technology, City.name, City.country_code)
        .join(City, City.id == Technology.city_id)
        .where(Technology.published_at.is_not(None), Technology.visibility == Visibility.public)
    )
    if filters.q:
        like = f"%{filters.q}%"
        query = query.where(
            or_(Technology.name.ilike(like), Technology.short_description.ilike(like), City.name.ilike(like))
        )
    if filters.country:
        query = query.where(City.country_code == filters.country.upper())
    if filters.category:
        query = query.where(Technology.category == filters.category)
    if filters.status:
        query = query.where(Technology.status == filters.status)
    if filters.risk_class:
        query = query.where(Technology.risk_class == filters.risk_class)
    return query


async def search_public(
    session: AsyncSession, filters: RegisterFilters, *, number: int = 1, size: int = 25
) -> Page[RegisterRow]:
    query = _public_query(filters)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (
        await session.execute(
            query.order_by(Technology.published_at.desc(), Technology.id).limit(size).offset((number - 1) * size)
        )
    ).all()
    return Page([RegisterRow(t, n, c) for t, n, c in rows], total, number, size)


async def all_public(session: AsyncSession, filters: RegisterFilters) -> list[RegisterRow]:
    rows = (await session.execute(_public_query(filters).order_by(City.country_code, City.name, Technology.name))).all()
    return [RegisterRow(t, n, c) for t, n, c in rows]


EUROCITIES_FIELDS: tuple[str, ...] = (
    "name",
    "organisation",
    "country",
    "department",
    "contact",
    "short_description",
    "description",
    "category",
    "purpose",
    "status",
    "start_date",
    "revision_date",
    "supplier",
    "data_sources",
    "personal_data",
    "biometric_data",
    "data_retention",
    "legal_basis",
    "human_oversight",
    "risk_class",
    "dpia",
    "alternatives",
    "complaint_channel",
    "language",
)
"""Export columns, named after the Eurocities Algorithmic Transparency Standard's fields."""


def eurocities_record(row: RegisterRow) -> dict[str, Any]:
    t = row.technology
    return {
        "name": t.name,
        "organisation": row.city_name,
        "country": row.country_code,
        "department": t.department,
        "contact": t.contact,
        "short_description": t.short_description,
        "description": t.description,
        "category": t.category,
        "purpose": t.purpose,
        "status": t.status,
        "start_date": t.start_date.isoformat() if t.start_date else None,
        "revision_date": t.revision_date.isoformat() if t.revision_date else None,
        "supplier": t.supplier,
        "data_sources": t.data_subjects,
        "personal_data": t.personal_data,
        "biometric_data": t.biometric_data,
        "data_retention": t.retention,
        "legal_basis": t.legal_basis,
        "human_oversight": t.human_oversight,
        "risk_class": t.risk_class or "",
        "dpia": t.dpia_date.isoformat() if t.dpia_done and t.dpia_date else t.dpia_done,
        "alternatives": t.alternatives,
        "complaint_channel": t.complaint_channel,
        "language": t.language,
    }


def register_csv(rows: Sequence[RegisterRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(EUROCITIES_FIELDS))
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: ("yes" if v is True else "no" if v is False else v) for k, v in eurocities_record(row).items()}
        )
    return out.getvalue()


# -- platform hooks ---------------------------------------------------------------------------------


async def cycle_section(session: AsyncSession, city_id: UUID, year: int) -> CycleSection:
    """A city's part of the yearly checklist: share of its active technologies with a current sign-off."""
    entries = [
        t
        for t in await city_technologies(session, city_id)
        if t.status not in (TechnologyStatus.archived, TechnologyStatus.decommissioned)
    ]
    link = f"/m/ai_review/cities/{city_id}/technologies"
    if not entries:
        return CycleSection("not_started", 0, link)
    done = sum(1 for t in entries if t.review_status == ReviewStatus.signed_off and not review_overdue(t))
    percent = round(100 * done / len(entries))
    status = "validated" if done == len(entries) else "in_progress"
    return CycleSection(status, percent, link)  # type: ignore[arg-type]


async def report_section(session: AsyncSession, year: int) -> ReportSection:
    rows = (await session.execute(select(Technology.risk_class, func.count()).group_by(Technology.risk_class))).all()
    by_class = {str(k or "unreviewed"): int(n) for k, n in rows}
    total = sum(by_class.values())
    published = (
        await session.scalar(select(func.count()).select_from(Technology).where(Technology.published_at.is_not(None)))
        or 0
    )
    return ReportSection(
        title="AI and surveillance technology review",
        figures={"technologies registered": total, "on the public register": published}
        | {f"risk: {k}": v for k, v in sorted(by_class.items())},
    )


# -- the bottleneck survey --------------------------------------------------------------------------


async def city_survey(session: AsyncSession, city_id: UUID, year: int) -> SurveyResponse | None:
    response: SurveyResponse | None = await session.scalar(
        select(SurveyResponse).where(SurveyResponse.city_id == city_id, SurveyResponse.year == year)
    )
    return response


async def answer_survey(
    session: AsyncSession, city_id: UUID, data: SurveyInput, *, actor: Identity | UUID | None
) -> SurveyResponse:
    """Once per city per year: a second answer for the same year replaces the first."""
    known = {key for key, _label in BOTTLENECKS}
    unknown = sorted(set(data.ratings) - known)
    if unknown:
        raise ReviewError(N_("Unknown bottleneck in the answers."), "ratings")
    if set(data.ratings) != known:
        raise ReviewError(N_("Rate every bottleneck (choose “not a problem” where it does not apply)."), "ratings")
    response = await city_survey(session, city_id, data.year)
    before = None
    if response is None:
        response = SurveyResponse(city_id=city_id, year=data.year)
        session.add(response)
    else:
        before = {"ratings": dict(response.ratings), "quote": response.quote}
    response.ratings = dict(data.ratings)
    response.experiments = data.experiments
    response.quote = data.quote
    response.quote_public = data.quote_public
    response.name_public = data.name_public
    response.language = data.language
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="ai_review.survey_answered",
        entity_type="ai_review_survey_response",
        entity_id=response.id,
        before=before,
        after={"year": data.year, "ratings": dict(data.ratings), "quote": data.quote},
    )
    return response


@dataclass(frozen=True)
class BottleneckCount:
    key: str
    label: str
    counts: tuple[int, ...]
    """How many cities rated it 0, 1, 2, 3."""

    @property
    def serious_share(self) -> int:
        total = sum(self.counts)
        return round(100 * (self.counts[2] + self.counts[3]) / total) if total else 0


@dataclass(frozen=True)
class SurveyAggregate:
    year: int
    responses: int
    experiments: int
    bottlenecks: list[BottleneckCount]
    quotes: list[str]
    named: list[tuple[str, str]] = field(default_factory=list)
    """(city, country) of the participants that agreed to be named, by name; the others stay anonymous."""


async def survey_years(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(SurveyResponse.year).distinct().order_by(SurveyResponse.year.desc())))


async def survey_aggregate(session: AsyncSession, year: int) -> SurveyAggregate:
    """Counts per bottleneck and severity, sorted by the share of cities finding it significant or blocking;
    quotes only where the city agreed, without the city's name."""
    rows = list(await session.scalars(select(SurveyResponse).where(SurveyResponse.year == year)))
    named = (
        await session.execute(
            select(City.name, City.country_code)
            .join(SurveyResponse, SurveyResponse.city_id == City.id)
            .where(SurveyResponse.year == year, SurveyResponse.name_public.is_(True))
            .order_by(City.name)
        )
    ).all()
    counts = {key: [0, 0, 0, 0] for key, _label in BOTTLENECKS}
    for row in rows:
        for key, value in (row.ratings or {}).items():
            if key in counts and 0 <= int(value) <= 3:
                counts[key][int(value)] += 1
    labels = dict(BOTTLENECKS)
    items = [BottleneckCount(key, labels[key], tuple(c)) for key, c in counts.items()]
    items.sort(key=lambda b: (-b.serious_share, b.key))
    return SurveyAggregate(
        year=year,
        responses=len(rows),
        experiments=sum(r.experiments for r in rows),
        bottlenecks=items,
        quotes=[r.quote for r in rows if r.quote_public and r.quote.strip()],
        named=[(str(n), str(c)) for n, c in named],
    )


SURVEY_CSV_FIELDS: tuple[str, ...] = (
    "year",
    "bottleneck",
    "label",
    "responses",
    "not_a_problem",
    "minor",
    "significant",
    "blocking",
    "significant_or_blocking_percent",
)


def survey_csv(aggregate: SurveyAggregate) -> str:
    """One row per bottleneck: counts only, never a city's answers (no city names, no quotes)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SURVEY_CSV_FIELDS)
    for b in aggregate.bottlenecks:
        writer.writerow([aggregate.year, b.key, _(b.label), aggregate.responses, *b.counts, b.serious_share])
    return out.getvalue()


def survey_participants_csv(aggregate: SurveyAggregate) -> str:
    """The participants that agreed to be named, and how many others took part anonymously."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("year", "city", "country"))
    for name, country in aggregate.named:
        writer.writerow((aggregate.year, name, country))
    anonymous = aggregate.responses - len(aggregate.named)
    if anonymous:
        writer.writerow((aggregate.year, _("%(n)s other cities (not named)") % {"n": anonymous}, ""))
    return out.getvalue()


# -- the legal tracker ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LegalFilters:
    country: str = ""
    category: str = ""
    kind: str = ""
    stance: str = ""


async def add_legal_development(
    session: AsyncSession, data: LegalDevelopmentInput, *, actor: Identity | UUID | None
) -> LegalDevelopment:
    values = data.model_dump()
    values["country_code"] = values["country_code"].upper()
    development = LegalDevelopment(**values)
    session.add(development)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="ai_review.legal_development_added",
        entity_type="ai_review_legal_development",
        entity_id=development.id,
        after={k: str(v) for k, v in values.items()},
    )
    return development


async def get_legal_development(session: AsyncSession, development_id: UUID) -> LegalDevelopment | None:
    return await session.get(LegalDevelopment, development_id)


def _legal_snapshot(d: LegalDevelopment) -> dict[str, str]:
    return {k: str(getattr(d, k)) for k in LegalDevelopmentInput.model_fields}


async def update_legal_development(
    session: AsyncSession, development: LegalDevelopment, data: LegalDevelopmentInput, *, actor: Identity | UUID | None
) -> LegalDevelopment:
    before = _legal_snapshot(development)
    values = data.model_dump()
    values["country_code"] = values["country_code"].upper()
    for name, value in values.items():
        setattr(development, name, value)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="ai_review.legal_development_updated",
        entity_type="ai_review_legal_development",
        entity_id=development.id,
        before=before,
        after=_legal_snapshot(development),
    )
    return development


async def delete_legal_development(
    session: AsyncSession, development: LegalDevelopment, *, actor: Identity | UUID | None
) -> None:
    before = _legal_snapshot(development)
    development_id = development.id
    await session.delete(development)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="ai_review.legal_development_deleted",
        entity_type="ai_review_legal_development",
        entity_id=development_id,
        before=before,
    )


async def legal_developments(
    session: AsyncSession, filters: LegalFilters, *, number: int = 1, size: int = 25
) -> Page[LegalDevelopment]:
    query = select(LegalDevelopment)
    if filters.country:
        query = query.where(LegalDevelopment.country_code == filters.country.upper())
    if filters.category:
        query = query.where(LegalDevelopment.category == filters.category)
    if filters.kind:
        query = query.where(LegalDevelopment.kind == filters.kind)
    if filters.stance:
        query = query.where(LegalDevelopment.stance == filters.stance)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(LegalDevelopment.decided_on.desc(), LegalDevelopment.id).limit(size).offset((number - 1) * size)
    )
    return Page(list(rows), total, number, size)


LEGAL_CSV_FIELDS: tuple[str, ...] = (
    "decided_on",
    "country",
    "kind",
    "category",
    "stance",
    "title",
    "authority",
    "link",
    "summary",
)


async def all_legal_developments(session: AsyncSession, filters: LegalFilters) -> list[LegalDevelopment]:
    page = await legal_developments(session, filters, number=1, size=100_000)
    return list(page.items)


def csv_cell(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def legal_csv(developments: Sequence[LegalDevelopment]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(LEGAL_CSV_FIELDS)
    for d in developments:
        writer.writerow(
            (
                d.decided_on.isoformat(),
                d.country_code,
                d.kind,
                d.category,
                d.stance,
                csv_cell(d.title),
                csv_cell(d.authority),
                d.link,
                csv_cell(d.summary),
            )
        )
    return out.getvalue()


async def comparison_matrix(session: AsyncSession) -> tuple[list[str], list[str], dict[tuple[str, str], str]]:
    """Country by category: the stance of the most recent development, showing where member states differ."""
    rows = (
        await session.execute(
            select(
                LegalDevelopment.country_code,
                LegalDevelopment.category,
                LegalDevelopment.stance,
                LegalDevelopment.decided_on,
            ).order_by(LegalDevelopment.decided_on)
        )
    ).all()
    latest: dict[tuple[str, str], str] = {}
    for country, category, stance, _decided in rows:
        latest[(country, category)] = stance  # later rows overwrite earlier ones
    countries = sorted({c for c, _ in latest})
    categories = [c.value for c in Category if any(cat == c.value for _, cat in latest)]
    return countries, categories, latest


async def load_legal_seed(session: AsyncSession) -> int:
    """The seed's legal developments not yet in the tracker (matched on country, date and title)."""
    specs = yaml.safe_load((Path(__file__).parent / "seed" / "legal_developments.yaml").read_text(encoding="utf-8"))
    added = 0
    for spec in specs:
        data = LegalDevelopmentInput.model_validate(spec)
        exists = await session.scalar(
            select(LegalDevelopment.id).where(
                LegalDevelopment.country_code == data.country_code.upper(),
                LegalDevelopment.decided_on == data.decided_on,
                LegalDevelopment.title == data.title,
            )
        )
        if exists is None:
            await add_legal_development(session, data, actor=None)
            added += 1
    return added


# -- EU-funded projects (reference data of the compendium) ------------------------------------------


@dataclass(frozen=True)
class EUProject:
    """An EU-funded project the Action Plan names, from `seed/eu_projects.yaml` (no table, no migration)."""

    acronym: str
    full_name: str
    programme: str
    years: str
    category: str
    summary_en: str
    summary_fr: str
    link: str
    source: str

    def summary(self, locale: str) -> str:
        return self.summary_fr if locale.startswith("fr") and self.summary_fr else self.summary_en


EU_PROJECTS_PATH = Path(__file__).parent / "seed" / "eu_projects.yaml"


@functools.cache
def eu_projects() -> tuple[EUProject, ...]:
    """The seed's EU-funded projects, read once at the first request; unknown categories fall to `other`."""
    specs = yaml.safe_load(EU_PROJECTS_PATH.read_text(encoding="utf-8")) or []
    known = {c.value for c in Category}
    projects = []
    for spec in specs:
        values = {f: str(spec.get(f) or "") for f in EUProject.__dataclass_fields__}
        if values["category"] not in known:
            values["category"] = Category.other.value
        projects.append(EUProject(**values))
    return tuple(projects)


COMPENDIUM_CSV_FIELDS = (
    "kind",
    "category",
    "name",
    "city_or_programme",
    "country_or_years",
    "status",
    "summary",
    "link",
)


def compendium_csv(rows: Sequence[RegisterRow], projects: Sequence[EUProject]) -> str:
    """Register entries then EU-funded projects in one table, every text cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COMPENDIUM_CSV_FIELDS)
    for row in rows:
        t = row.technology
        cells = ("register", t.category, t.name, row.city_name, row.country_code, t.status, t.short_description, "")
        writer.writerow([csv_cell(str(c)) for c in cells])
    for p in projects:
        name = f"{p.acronym} ({p.full_name})" if p.full_name else p.acronym
        cells = ("eu_project", p.category, name, p.programme, p.years, "", p.summary_en, p.link)
        writer.writerow([csv_cell(c) for c in cells])
    return out.getvalue()


def _md(text: str) -> str:
    """Plain text for a Markdown line: no line breaks, no table pipes, no raw HTML."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def compendium_markdown(
    groups: Sequence[tuple[str, Sequence[RegisterRow], Sequence[EUProject]]],
    *,
    category_label: Any,
    status_label: Any,
    title: str,
    register_heading: str,
    projects_heading: str,
    locale: str,
) -> str:
    """The compendium as a Markdown annex: one section per category, register entries then EU projects."""
    lines = [f"# {_md(title)}", ""]
    for category, rows, projects in groups:
        lines += [f"## {_md(category_label(category))}", ""]
        if rows:
            lines += [f"### {_md(register_heading)}", ""]
            for row in rows:
                t = row.technology
                lines.append(
                    f"- **{_md(t.name)}** — {_md(row.city_name)} ({_md(row.country_code)}), "
                    f"{_md(status_label(t.status))}: {_md(t.short_description)}"
                )
            lines.append("")
        if projects:
            lines += [f"### {_md(projects_heading)}", ""]
            for p in projects:
                name = f"**{_md(p.acronym)}**" + (f" ({_md(p.full_name)})" if p.full_name else "")
                extra = "".join(f", {_md(x)}" for x in (p.years,) if x)
                link = f" <{p.link}>" if p.link.startswith("https://") else ""
                lines.append(f"- {name} — {_md(p.programme)}{extra}: {_md(p.summary(locale))}{link}")
            lines.append("")
    return "\n".join(lines)
