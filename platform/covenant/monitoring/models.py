"""The yearly monitoring cycle: the cycle of a year, each city's sections of it, delay requests, written
notices, reminders sent, stage badges, the compiled report, and each module's record of its year."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from covenant.db import AuditedBase
from covenant.i18n import N_

COMMITMENTS = "commitments"
"""The core's own section: the progress update of the city's published commitments."""


class CycleStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class SectionStatus(StrEnum):
    not_started = "not_started"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    validated = "validated"


OPEN_FOR_CITY = (SectionStatus.not_started, SectionStatus.in_progress, SectionStatus.returned)
"""Statuses in which the city still works on a section (reminders and notices go to these)."""
DONE = (SectionStatus.submitted, SectionStatus.validated)

CYCLE_STATUS_LABELS: dict[str, str] = {
    CycleStatus.draft: N_("Draft"),
    CycleStatus.open: N_("Open"),
    CycleStatus.closed: N_("Closed"),
}
SECTION_STATUS_LABELS: dict[str, str] = {
    SectionStatus.not_started: N_("Not started"),
    SectionStatus.in_progress: N_("In progress"),
    SectionStatus.submitted: N_("Submitted"),
    SectionStatus.returned: N_("Returned"),
    SectionStatus.validated: N_("Validated"),
}


class MonitoringCycle(AuditedBase):
    """The monitoring of one year: its dates, what is required of which city size, and where it stands."""

    __tablename__ = "monitoring_cycle"

    year: Mapped[int] = mapped_column(Integer, unique=True)
    opens_on: Mapped[date] = mapped_column(Date)
    submission_deadline: Mapped[date] = mapped_column(Date)
    validation_deadline: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer, default=30)
    """Days between the written notice and the suspension an admin may then confirm."""
    reminder_days: Mapped[list[int]] = mapped_column(JSON, default=list)
    """Days before the submission deadline on which cities with incomplete sections are reminded."""
    required: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    """``{section (module slug or "commitments"): [size classes it is required of]}``."""
    status: Mapped[str] = mapped_column(String(10), default=CycleStatus.draft)
    opened_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)

    @property
    def is_open(self) -> bool:
        return self.status == CycleStatus.open

    def snapshot(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "opens_on": self.opens_on.isoformat(),
            "submission_deadline": self.submission_deadline.isoformat(),
            "validation_deadline": self.validation_deadline.isoformat(),
            "grace_days": self.grace_days,
            "reminder_days": list(self.reminder_days or []),
            "required": dict(self.required or {}),
            "status": self.status,
        }


class Participant(AuditedBase):
    """A city taking part in a year's cycle, with the name, country and size class it had when it joined the
    cycle: the roster the admins' matrix pages through (one row per city, indexed for each filter), so a
    page of 50 cities never scans the year's tens of thousands of sections."""

    __tablename__ = "monitoring_participant"
    __table_args__ = (
        UniqueConstraint("cycle_id", "city_id", name="uq_monitoring_participant_cycle_city"),
        Index("ix_monitoring_participant_cycle_id_name", "cycle_id", "name"),
        Index("ix_monitoring_participant_cycle_id_country_code_name", "cycle_id", "country_code", "name"),
        Index("ix_monitoring_participant_cycle_id_size_class_name", "cycle_id", "size_class", "name"),
    )

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey("monitoring_cycle.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(160))
    country_code: Mapped[str] = mapped_column(String(2))
    size_class: Mapped[str] = mapped_column(String(12))


class MonitoringSection(AuditedBase):
    """One city's part of one year's monitoring for one module (or the core's commitments)."""

    __tablename__ = "monitoring_section"
    __table_args__ = (
        UniqueConstraint("cycle_id", "city_id", "module", name="uq_monitoring_section_cycle_city_module"),
        Index("ix_monitoring_section_cycle_id_module_status", "cycle_id", "module", "status"),
        Index("ix_monitoring_section_cycle_id_status", "cycle_id", "status"),
    )

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey("monitoring_cycle.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(12), default=SectionStatus.not_started)
    completeness: Mapped[int] = mapped_column(Integer, default=0)
    """0 to 100, from the module's ``cycle_section`` hook at the last automatic check."""
    missing: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    """What the last automatic check found missing (None: never checked)."""
    checked_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    """The secretariat's comment when it returned or validated the section."""
    submitted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)


class DelayStatus(StrEnum):
    pending = "pending"
    granted = "granted"
    refused = "refused"


DELAY_STATUS_LABELS: dict[str, str] = {
    DelayStatus.pending: N_("Waiting for a decision"),
    DelayStatus.granted: N_("Granted"),
    DelayStatus.refused: N_("Refused"),
}


class DelayRequest(AuditedBase):
    """A city asks for more time before the deadline; the secretariat grants or refuses it."""

    __tablename__ = "monitoring_delay_request"
    __table_args__ = (
        Index("ix_monitoring_delay_request_cycle_id_status", "cycle_id", "status"),
        Index("ix_monitoring_delay_request_cycle_id_city_id", "cycle_id", "city_id"),
    )

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey("monitoring_cycle.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    requested_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=DelayStatus.pending)
    requested_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    decided_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    decision_comment: Mapped[str] = mapped_column(Text, default="")


class Notice(AuditedBase):
    """The written notice to a city that did not submit by the validation deadline, and, once the grace
    period is over and an admin confirms, its suspension (through the membership lifecycle)."""

    __tablename__ = "monitoring_notice"
    __table_args__ = (UniqueConstraint("cycle_id", "city_id", name="uq_monitoring_notice_cycle_city"),)

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey("monitoring_cycle.id", ondelete="CASCADE"))
    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    sent_on: Mapped[date] = mapped_column(Date)
    grace_until: Mapped[date] = mapped_column(Date)
    suspended_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    confirmed_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)


class Reminder(AuditedBase):
    """One round of reminders (scheduled: ``days_before`` set, sent once; by hand: None)."""

    __tablename__ = "monitoring_reminder"
    __table_args__ = (UniqueConstraint("cycle_id", "days_before", name="uq_monitoring_reminder_cycle_days"),)

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey("monitoring_cycle.id", ondelete="CASCADE"))
    days_before: Mapped[int | None] = mapped_column(Integer, default=None)
    sent_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    cities: Mapped[int] = mapped_column(Integer, default=0)
    mails: Mapped[int] = mapped_column(Integer, default=0)


class Badge(AuditedBase):
    """Recognition instead of ranking: a stage a city reached in a year (shown on its public profile)."""

    __tablename__ = "monitoring_badge"
    __table_args__ = (
        UniqueConstraint("city_id", "year", "badge", name="uq_monitoring_badge_city_year_badge"),
        Index("ix_monitoring_badge_year_badge", "year", "badge"),
    )

    city_id: Mapped[UUID] = mapped_column(ForeignKey("city.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    badge: Mapped[str] = mapped_column(String(40))
    awarded_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class MonitoringReport(AuditedBase):
    """The year's report, compiled from the core's figures and every module's section; public once published."""

    __tablename__ = "monitoring_report"

    cycle_id: Mapped[UUID] = mapped_column(ForeignKey("monitoring_cycle.id", ondelete="CASCADE"), unique=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    compiled_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    published_by: Mapped[UUID | None] = mapped_column(ForeignKey("account_user.id", ondelete="SET NULL"), default=None)


class ModuleYear(AuditedBase):
    """A module's own record of a monitoring year: opened (with how many sections), then frozen at close
    with its report section as it stood (later changes to the module's data do not alter the year)."""

    __tablename__ = "monitoring_module_year"
    __table_args__ = (UniqueConstraint("module", "year", name="uq_monitoring_module_year_module_year"),)

    module: Mapped[str] = mapped_column(String(30))
    year: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    sections: Mapped[int] = mapped_column(Integer, default=0)
    prepared: Mapped[int] = mapped_column(Integer, default=0)
    """Rows the module prepared for the year at opening (e.g. draft responses); 0 when it needs none."""
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
