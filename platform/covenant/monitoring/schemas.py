"""One schema per input of the monitoring cycle, shared by the HTML forms and the JSON API, and the API's answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from covenant.cities.models import SizeClass
from covenant.i18n import N_

SIZE_CLASSES: tuple[str, ...] = tuple(s.value for s in SizeClass)
DEFAULT_REMINDER_DAYS = (14, 7, 1)


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def _split_days(value: Any) -> Any:
    """``"14, 7 1"`` (a form) or ``[14, 7, 1]`` (the API)."""
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    return value


class CycleInput(Form):
    """A year's monitoring cycle: its dates, reminders, grace period and what is required of whom."""

    year: int = Field(ge=2000, le=2100)
    opens_on: date = Field(description="The day the cycle opens (by the scheduler, or earlier by hand).")
    submission_deadline: date = Field(description="Cities submit their sections by this day.")
    validation_deadline: date = Field(description="The secretariat validates by this day; notices follow it.")
    grace_days: int = Field(default=30, ge=0, le=365, description="Days between the written notice and suspension.")
    reminder_days: list[Annotated[int, Field(ge=0, le=365)]] = Field(
        default_factory=lambda: list(DEFAULT_REMINDER_DAYS),
        max_length=10,
        description="Days before the submission deadline on which incomplete cities are reminded.",
    )
    required: dict[str, list[SizeClass]] | None = Field(
        default=None,
        description="Per section (a module slug, or 'commitments'), the size classes it is required of. "
        "Omitted: every enabled module and the commitments, for every size class.",
    )

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        return _split_days(value)

    @field_validator("reminder_days")
    @classmethod
    def _sorted(cls, value: list[int]) -> list[int]:
        return sorted(set(value), reverse=True)

    @field_validator("submission_deadline")
    @classmethod
    def _after_opening(cls, value: date, info: ValidationInfo) -> date:
        opens_on = info.data.get("opens_on")
        if opens_on is not None and value <= opens_on:
            raise ValueError(N_("The submission deadline must come after the opening date."))
        return value

    @field_validator("validation_deadline")
    @classmethod
    def _after_submission(cls, value: date, info: ValidationInfo) -> date:
        deadline = info.data.get("submission_deadline")
        opens_on = info.data.get("opens_on")
        if deadline is not None and value < deadline:
            raise ValueError(N_("The validation deadline cannot come before the submission deadline."))
        if opens_on is not None and value <= opens_on:
            raise ValueError(N_("The validation deadline must come after the opening date."))
        return value


class CommentInput(Form):
    """The secretariat's comment on a section it validates or returns (returning needs one)."""

    comment: Annotated[str, Field(max_length=4000)] = ""


class DelayInput(Form):
    """A city asks for more time: until when, and why."""

    requested_until: date
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class DelayDecisionInput(Form):
    decision: Literal["grant", "refuse"]
    comment: Annotated[str, Field(max_length=2000)] = ""


class CloseInput(Form):
    confirm: bool = Field(default=False, description="Closing is irreversible except by an explicit reopen.")

    @field_validator("confirm", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> Any:
        return value in (True, "on", "yes", "true", "1", 1)


class ReopenInput(Form):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class SuspendInput(Form):
    confirm: bool = False
    reason: Annotated[str, Field(max_length=2000)] = ""

    @field_validator("confirm", mode="before")
    @classmethod
    def _checkbox(cls, value: Any) -> Any:
        return value in (True, "on", "yes", "true", "1", 1)


# -- answers of the API ------------------------------------------------------------------------------


class CycleOut(BaseModel):
    id: UUID
    year: int
    status: str
    opens_on: date
    submission_deadline: date
    validation_deadline: date
    grace_days: int
    reminder_days: list[int]
    required: dict[str, list[str]]
    opened_at: datetime | None
    closed_at: datetime | None
    report_published_at: datetime | None = None


class SectionOut(BaseModel):
    id: UUID
    city_id: UUID
    module: str
    title: str
    status: str
    completeness: int
    missing: list[str]
    comment: str
    link: str
    submitted_at: datetime | None
    decided_at: datetime | None


class ChecklistOut(BaseModel):
    city_id: UUID
    year: int
    cycle_status: str
    deadline: date
    ready: bool
    """Every open section is complete: the city may submit."""
    sections: list[SectionOut]


class MatrixCellOut(BaseModel):
    id: UUID
    status: str
    completeness: int


class MatrixRowOut(BaseModel):
    city_id: UUID
    name: str
    country_code: str
    size_class: str
    sections: dict[str, MatrixCellOut]


class MatrixOut(BaseModel):
    items: list[MatrixRowOut]
    total: int
    page: int
    page_size: int
    pages: int
    modules: list[str]


class ProgressLineOut(BaseModel):
    key: str
    sections: int
    done: int
    by_status: dict[str, int]


class SummaryOut(BaseModel):
    year: int
    status: str
    sections: int
    done: int
    share_done: float
    by_status: dict[str, int]
    by_module: list[ProgressLineOut]
    by_country: list[ProgressLineOut]
    pending_delays: int


class DelayOut(BaseModel):
    id: UUID
    city_id: UUID
    requested_until: date
    reason: str
    status: str
    decision_comment: str
