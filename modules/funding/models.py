"""Tables of the funding module: the programme catalogue, calls, matches, the pipeline, the advocacy register."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class ManagementMode(StrEnum):
    direct = "direct"
    shared = "shared"
    indirect = "indirect"


class FundingForm(StrEnum):
    grant = "grant"
    loan = "loan"
    blending = "blending"
    advisory = "advisory"
    prize = "prize"


class DeadlineModel(StrEnum):
    single_stage = "single_stage"
    two_stage = "two_stage"
    multiple_cut_off = "multiple_cut_off"


class CallStatus(StrEnum):
    forthcoming = "forthcoming"
    open = "open"
    closed = "closed"


class ApplicationStatus(StrEnum):
    interested = "interested"
    preparing = "preparing"
    submitted = "submitted"
    awarded = "awarded"
    rejected = "rejected"
    withdrawn = "withdrawn"


class AdvocacyKind(StrEnum):
    position_paper = "position_paper"
    letter = "letter"


class AdvocacyStatus(StrEnum):
    draft = "draft"
    sent = "sent"
    answered = "answered"


THEMES: dict[str, str] = {
    "public_spaces": N_("Protection of public spaces"),
    "prevention": N_("Crime prevention"),
    "radicalisation": N_("Preventing radicalisation"),
    "urban_planning": N_("Urban planning and security by design"),
    "technology": N_("Security technology"),
    "research": N_("Research and innovation"),
    "social_inclusion": N_("Social inclusion and cohesion"),
    "victims": N_("Support to victims"),
    "training": N_("Training and capacity building"),
    "cooperation": N_("Cooperation between cities"),
    "critical_infrastructure": N_("Critical infrastructure and resilience"),
}

STATUS_LABELS: dict[str, str] = {
    CallStatus.forthcoming: N_("Forthcoming"),
    CallStatus.open: N_("Open"),
    CallStatus.closed: N_("Closed"),
    ApplicationStatus.interested: N_("Interested"),
    ApplicationStatus.preparing: N_("Preparing"),
    ApplicationStatus.submitted: N_("Submitted"),
    ApplicationStatus.awarded: N_("Awarded"),
    ApplicationStatus.rejected: N_("Rejected"),
    ApplicationStatus.withdrawn: N_("Withdrawn"),
    AdvocacyStatus.draft: N_("Draft"),
    AdvocacyStatus.sent: N_("Sent"),
    AdvocacyStatus.answered: N_("Answered"),
}

MANAGEMENT_LABELS: dict[str, str] = {
    ManagementMode.direct: N_("Direct (the Commission)"),
    ManagementMode.shared: N_("Shared (national managing authorities)"),
    ManagementMode.indirect: N_("Indirect (entrusted bodies)"),
}

FORM_LABELS: dict[str, str] = {
    FundingForm.grant: N_("Grant"),
    FundingForm.loan: N_("Loan"),
    FundingForm.blending: N_("Blending"),
    FundingForm.advisory: N_("Advisory"),
    FundingForm.prize: N_("Prize"),
}

DEADLINE_MODEL_LABELS: dict[str, str] = {
    DeadlineModel.single_stage: N_("Single stage"),
    DeadlineModel.two_stage: N_("Two stages"),
    DeadlineModel.multiple_cut_off: N_("Multiple cut-off dates"),
}


class Programme(AuditedBase):
    """An EU funding programme or instrument (reference data shipped in ``seed/programmes.yaml``)."""

    __tablename__ = "funding_programme"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]] = mapped_column(JSON)
    fund: Mapped[str] = mapped_column(String(80))
    management: Mapped[str] = mapped_column(String(10))
    funding_form: Mapped[str] = mapped_column(String(10))
    managing_body: Mapped[str] = mapped_column(String(200), default="")
    cofinancing_rate: Mapped[int | None] = mapped_column(Integer, default=None)
    """The usual EU co-financing rate, in percent."""
    applicant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)


class Call(AuditedBase):
    """A call for proposals (a topic of the Funding & Tenders portal, or a managing authority's call)."""

    __tablename__ = "funding_call"
    __table_args__ = (
        Index("ix_funding_call_programme_id_final_deadline", "programme_id", "final_deadline"),
        Index("ix_funding_call_final_deadline_opening_date", "final_deadline", "opening_date"),
    )

    identifier: Mapped[str] = mapped_column(String(120), unique=True)
    reference: Mapped[str] = mapped_column(String(120), default="")
    title: Mapped[str] = mapped_column(String(300))
    programme_id: Mapped[UUID] = mapped_column(ForeignKey("funding_programme.id", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(Text, default="")
    opening_date: Mapped[date] = mapped_column(Date)
    deadline_model: Mapped[str] = mapped_column(String(20), default=DeadlineModel.single_stage)
    deadlines: Mapped[list[str]] = mapped_column(JSON, default=list)
    """ISO dates, sorted; two for a two-stage call, several for cut-offs."""
    final_deadline: Mapped[date] = mapped_column(Date)
    budget_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    expected_grants: Mapped[int | None] = mapped_column(Integer, default=None)
    action_type: Mapped[str] = mapped_column(String(80), default="")
    eligible_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    """ISO codes; empty = every EU member state."""
    applicant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_population: Mapped[int | None] = mapped_column(Integer, default=None)
    max_population: Mapped[int | None] = mapped_column(Integer, default=None)
    partnership_required: Mapped[bool] = mapped_column(Boolean, default=False)
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    url: Mapped[str] = mapped_column(String(500), default="")
    opened_announced: Mapped[bool] = mapped_column(Boolean, default=False)
    closing_announced_for: Mapped[date | None] = mapped_column(Date, default=None)
    """The deadline whose ``funding.call_closing`` was already sent (one per deadline)."""

    def deadline_dates(self) -> list[date]:
        return [date.fromisoformat(d) for d in self.deadlines or []]

    def status_on(self, today: date) -> CallStatus:
        if today < self.opening_date:
            return CallStatus.forthcoming
        if today <= self.final_deadline:
            return CallStatus.open
        return CallStatus.closed

    def next_deadline(self, today: date) -> date | None:
        return next((d for d in self.deadline_dates() if d >= today), None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "title": self.title,
            "opening_date": self.opening_date.isoformat(),
            "deadlines": list(self.deadlines or []),
            "budget_cents": self.budget_cents,
        }


class CityNeeds(AuditedBase):
    """What the assessment told us about a city: its weakest dimensions (from ``assessment.submitted``)."""

    __tablename__ = "funding_city_needs"

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"), unique=True)
    weak_dimensions: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer, default=None)


class CallMatch(AuditedBase):
    """A call suggested to a city, with its score and the reasons (recomputed, never edited)."""

    __tablename__ = "funding_call_match"
    __table_args__ = (
        UniqueConstraint("city_id", "call_id", name="uq_funding_call_match_city_id_call_id"),
        Index("ix_funding_call_match_city_id_score", "city_id", "score"),
        Index("ix_funding_call_match_call_id", "call_id"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    call_id: Mapped[UUID] = mapped_column(ForeignKey("funding_call.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    commitment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class Application(AuditedBase):
    """A city's application to a call or programme, followed from interest to award."""

    __tablename__ = "funding_application"
    __table_args__ = (
        Index("ix_funding_application_city_id_created_at", "city_id", "created_at"),
        Index("ix_funding_application_status_programme_id", "status", "programme_id"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    programme_id: Mapped[UUID] = mapped_column(ForeignKey("funding_programme.id", ondelete="RESTRICT"))
    call_id: Mapped[UUID | None] = mapped_column(ForeignKey("funding_call.id", ondelete="SET NULL"), default=None)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=ApplicationStatus.interested)
    requested_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    awarded_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    eu_share_cents: Mapped[int | None] = mapped_column(BigInteger, default=None)
    commitment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_on: Mapped[date | None] = mapped_column(Date, default=None)
    decided_on: Mapped[date | None] = mapped_column(Date, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")


class AdvocacyDocument(AuditedBase):
    """A position paper or an official letter of the Covenant to EU or national institutions."""

    __tablename__ = "funding_advocacy_document"
    __table_args__ = (Index("ix_funding_advocacy_document_status_created_at", "status", "created_at"),)

    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2), default="en")
    addressees: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=AdvocacyStatus.draft)
    sent_on: Mapped[date | None] = mapped_column(Date, default=None)
    answered_on: Mapped[date | None] = mapped_column(Date, default=None)
    answer: Mapped[str] = mapped_column(Text, default="")
    file_name: Mapped[str | None] = mapped_column(String(80), default=None)
    """Random name under ``var/uploads/funding``."""
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(80), default="")


class CoSignature(AuditedBase):
    """A city co-signing an advocacy document, from its mayor's office account."""

    __tablename__ = "funding_cosignature"
    __table_args__ = (UniqueConstraint("document_id", "city_id", name="uq_funding_cosignature_document_id_city_id"),)

    document_id: Mapped[UUID] = mapped_column(ForeignKey("funding_advocacy_document.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    signed_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    signed_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
