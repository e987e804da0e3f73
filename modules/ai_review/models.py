"""The technology register of Action 3: each deployment a city declares, and its review against the law."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_


class Category(StrEnum):
    """The technologies the Action Plan (§2.2.3) names."""

    video_surveillance = "video_surveillance"
    facial_recognition = "facial_recognition"
    sound_detection = "sound_detection"
    blockchain = "blockchain"
    iot_platform = "iot_platform"
    unstructured_data = "unstructured_data"
    predictive_policing = "predictive_policing"
    citizen_app = "citizen_app"
    other = "other"


CATEGORY_LABELS: dict[str, str] = {
    Category.video_surveillance: N_("Intelligent video surveillance"),
    Category.facial_recognition: N_("Facial recognition"),
    Category.sound_detection: N_("Sound detection"),
    Category.blockchain: N_("Blockchain and distributed ledgers"),
    Category.iot_platform: N_("ICT and IoT platforms"),
    Category.unstructured_data: N_("Unstructured data processing (e.g. social media analysis)"),
    Category.predictive_policing: N_("Crime forecasting and predictive policing"),
    Category.citizen_app: N_("Citizen-to-law-enforcement apps"),
    Category.other: N_("Other"),
}


class TechnologyStatus(StrEnum):
    idea = "idea"
    pilot = "pilot"
    operational = "operational"
    decommissioned = "decommissioned"
    archived = "archived"


STATUS_LABELS: dict[str, str] = {
    TechnologyStatus.idea: N_("Idea"),
    TechnologyStatus.pilot: N_("Pilot"),
    TechnologyStatus.operational: N_("Operational"),
    TechnologyStatus.decommissioned: N_("Decommissioned"),
    TechnologyStatus.archived: N_("Archived"),
}


class Visibility(StrEnum):
    public = "public"
    restricted = "restricted"
    """Law-enforcement and biometric uses the AI Act registers in the non-public part of the EU database."""


class RiskClass(StrEnum):
    prohibited = "prohibited"
    high = "high"
    limited = "limited"
    minimal = "minimal"
    not_ai = "not_ai"


RISK_LABELS: dict[str, str] = {
    RiskClass.prohibited: N_("Prohibited practice (AI Act Art. 5)"),
    RiskClass.high: N_("High risk (AI Act Annex III)"),
    RiskClass.limited: N_("Transparency obligations (AI Act Art. 50)"),
    RiskClass.minimal: N_("Minimal risk"),
    RiskClass.not_ai: N_("Not an AI system (GDPR/LED only)"),
}


class ReviewStatus(StrEnum):
    not_started = "not_started"
    draft = "draft"
    submitted = "submitted"
    signed_off = "signed_off"


REVIEW_STATUS_LABELS: dict[str, str] = {
    ReviewStatus.not_started: N_("Not reviewed"),
    ReviewStatus.draft: N_("Questionnaire in progress"),
    ReviewStatus.submitted: N_("Awaiting the reviewer"),
    ReviewStatus.signed_off: N_("Signed off"),
}


class Technology(AuditedBase):
    """One technology deployment or experiment of a city, as the register shows it."""

    __tablename__ = "ai_review_technology"
    __table_args__ = (
        Index("ix_ai_review_technology_city_id_created_at", "city_id", "created_at"),
        Index("ix_ai_review_technology_published_at_id", "published_at", "id"),
        Index("ix_ai_review_technology_category_published_at", "category", "published_at"),
        Index("ix_ai_review_technology_review_status_updated_at", "review_status", "updated_at"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    short_description: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(2), default="en")
    category: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    supplier: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default=TechnologyStatus.idea)
    decommission_reason: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date | None] = mapped_column(Date, default=None)
    revision_date: Mapped[date | None] = mapped_column(Date, default=None)
    """When the review must be renewed; past it, the review is overdue."""
    spaces: Mapped[str] = mapped_column(Text, default="")
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    biometric_data: Mapped[bool] = mapped_column(Boolean, default=False)
    special_categories: Mapped[bool] = mapped_column(Boolean, default=False)
    data_subjects: Mapped[str] = mapped_column(Text, default="")
    retention: Mapped[str] = mapped_column(String(200), default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    human_oversight: Mapped[str] = mapped_column(Text, default="")
    dpia_done: Mapped[bool] = mapped_column(Boolean, default=False)
    dpia_date: Mapped[date | None] = mapped_column(Date, default=None)
    alternatives: Mapped[str] = mapped_column(Text, default="")
    complaint_channel: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(12), default=Visibility.public)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    """None while the entry is private to the city and the reviewers."""
    review_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The questionnaire's answers (see services.QUESTIONS)."""
    fria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The fundamental rights impact assessment (AI Act Art. 27(1)(a) to (f))."""
    risk_class: Mapped[str | None] = mapped_column(String(12), default=None)
    review_status: Mapped[str] = mapped_column(String(12), default=ReviewStatus.not_started)
    reviewer_id: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    reviewer_note: Mapped[str] = mapped_column(Text, default="")
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    public_override_reason: Mapped[str] = mapped_column(Text, default="")
    """Why a reviewer allowed a law-enforcement or biometric use to be public (empty: no override)."""
    public_override_by: Mapped[UUID | None] = mapped_column(
        ForeignKey("account_user.id", ondelete="SET NULL"), default=None
    )
    public_override_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "category": self.category,
            "status": self.status,
            "visibility": self.visibility,
            "risk_class": self.risk_class,
            "review_status": self.review_status,
            "published": self.published_at is not None,
            "public_override_reason": self.public_override_reason,
        }


# -- the bottleneck survey and the legal tracker ----------------------------------------------------


BOTTLENECKS: tuple[tuple[str, str], ...] = (
    ("legal_uncertainty", N_("Legal uncertainty about what the law allows")),
    ("dpa_authorisation", N_("Obtaining the data protection authority's opinion or authorisation")),
    ("skills", N_("Lack of in-house technical and legal skills")),
    ("procurement", N_("Public procurement of innovative solutions")),
    ("funding", N_("Cost and funding")),
    ("data", N_("Quality and availability of data")),
    ("acceptance", N_("Public acceptance and trust")),
    ("supplier_dependency", N_("Dependency on suppliers outside the EU")),
    ("interoperability", N_("Interoperability with existing systems")),
    ("evaluation", N_("Measuring effectiveness")),
)
"""What the Action Plan's survey asks about: the bottlenecks met when using and experimenting with AI."""

SEVERITY_LABELS: tuple[str, ...] = (N_("Not a problem"), N_("Minor"), N_("Significant"), N_("Blocking"))


class SurveyResponse(AuditedBase):
    """One city's answers to the bottleneck survey for one year."""

    __tablename__ = "ai_review_survey_response"
    __table_args__ = (
        UniqueConstraint("city_id", "year", name="uq_ai_review_survey_response_city_year"),
        Index("ix_ai_review_survey_response_year_city_id", "year", "city_id"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    ratings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    """Bottleneck key → severity 0 (not a problem) to 3 (blocking)."""
    experiments: Mapped[int] = mapped_column(Integer, default=0)
    """How many AI experiments the city ran or prepared that year."""
    quote: Mapped[str] = mapped_column(Text, default="")
    quote_public: Mapped[bool] = mapped_column(Boolean, default=False)
    """The city agrees that its quote is shown (anonymously) in the aggregate."""
    name_public: Mapped[bool] = mapped_column(Boolean, default=False)
    """The city agrees to be named among the survey's participants (never next to its answers)."""
    language: Mapped[str] = mapped_column(String(2), default="en")


class DevelopmentKind(StrEnum):
    dpa_opinion = "dpa_opinion"
    bill = "bill"
    law = "law"
    court_decision = "court_decision"


KIND_LABELS: dict[str, str] = {
    DevelopmentKind.dpa_opinion: N_("Data protection authority opinion or decision"),
    DevelopmentKind.bill: N_("National bill"),
    DevelopmentKind.law: N_("Law adopted"),
    DevelopmentKind.court_decision: N_("Court decision"),
}


class Stance(StrEnum):
    restrictive = "restrictive"
    conditional = "conditional"
    permissive = "permissive"


STANCE_LABELS: dict[str, str] = {
    Stance.restrictive: N_("Restrictive"),
    Stance.conditional: N_("Allowed under conditions"),
    Stance.permissive: N_("Permissive"),
}


class LegalDevelopment(AuditedBase):
    """A legal development in a member state: a DPA opinion, a bill, a law or a court decision."""

    __tablename__ = "ai_review_legal_development"
    __table_args__ = (Index("ix_ai_review_legal_development_country_code_decided_on", "country_code", "decided_on"),)

    country_code: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(30))
    stance: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(300))
    authority: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
