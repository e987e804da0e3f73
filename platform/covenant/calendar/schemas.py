"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from covenant.calendar.models import Audience, EditionStatus
from covenant.i18n import N_

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _split_ids(value: Any) -> Any:
    """Commitment ids from a form arrive as one text (comma, space or newline separated)."""
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,;]+", value) if part]
    return value


Optional = BeforeValidator(_blank_to_none)


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class EditionForm(Form):
    year: Annotated[int, Field(ge=2000, le=2100)]
    title: Annotated[str, Field(min_length=3, max_length=200)]
    host_city_id: Annotated[UUID | None, Optional] = None
    starts_on: date
    ends_on: date
    timezone: Annotated[str, Field(max_length=40)] = "Europe/Brussels"
    venue: Annotated[str, Field(max_length=200)] = ""
    theme: Annotated[str, Field(max_length=300)] = ""
    description: Annotated[str, Field(max_length=10_000)] = ""
    status: EditionStatus = EditionStatus.draft
    capacity: Annotated[int, Field(ge=1, le=100_000)] = 200

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, value: date, info: ValidationInfo) -> date:
        starts_on = info.data.get("starts_on")
        if starts_on is not None and value < starts_on:
            raise ValueError(N_("The convention cannot end before it starts."))
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(N_("Enter a time zone such as Europe/Brussels.")) from exc
        return value


class SessionForm(Form):
    """Times are the convention's local times (its edition's time zone) unless they carry an offset."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    starts_at: datetime
    ends_at: datetime
    room: Annotated[str, Field(max_length=120)] = ""
    speakers: Annotated[str, Field(max_length=500)] = ""
    description: Annotated[str, Field(max_length=10_000)] = ""
    commitment_ids: Annotated[list[UUID], BeforeValidator(_split_ids)] = Field(default_factory=list)

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and (value.tzinfo is None) == (starts_at.tzinfo is None) and value <= starts_at:
            raise ValueError(N_("The session must end after it starts."))
        return value


class RegistrationForm(Form):
    name: Annotated[str, Field(min_length=2, max_length=160)]
    email: Annotated[str, Field(min_length=3, max_length=254)]
    role: Annotated[str, Field(max_length=120)] = ""

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        value = value.strip().lower()
        if not EMAIL_PATTERN.match(value):
            raise ValueError(N_("Enter an e-mail address like name@city.eu."))
        return value


class DeadlineForm(Form):
    title: Annotated[str, Field(min_length=3, max_length=200)]
    due_on: date
    audience: Audience = Audience.all
    city_id: Annotated[UUID | None, Optional, Field(validate_default=True)] = None
    link: Annotated[str, Field(max_length=500)] = ""
    description: Annotated[str, Field(max_length=10_000)] = ""

    @field_validator("city_id")
    @classmethod
    def _city_for_city_audience(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        if info.data.get("audience") == Audience.city and value is None:
            raise ValueError(N_("Choose the city this deadline concerns."))
        return value

    @field_validator("link")
    @classmethod
    def _link(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://", "/")):
            raise ValueError(N_("Enter a web address starting with https:// or a path starting with /."))
        return value


# -- answers of the API -------------------------------------------------------------------------------


class SessionOut(BaseModel):
    id: UUID
    title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    speakers: str
    description: str
    commitment_ids: list[UUID]


class EditionOut(BaseModel):
    id: UUID
    year: int
    title: str
    host_city_id: UUID | None
    host_city_name: str | None
    starts_on: date
    ends_on: date
    timezone: str
    venue: str
    theme: str
    description: str
    status: EditionStatus
    capacity: int
    confirmed: int = 0
    waiting: int = 0
    sessions: list[SessionOut] = Field(default_factory=list)


class EditionList(BaseModel):
    items: list[EditionOut]
    total: int


class RegistrationOut(BaseModel):
    id: UUID
    edition_year: int
    city_id: UUID
    name: str
    email: str
    role: str
    status: str
    registered_at: datetime
    waiting_position: int | None = None


class RegistrationList(BaseModel):
    items: list[RegistrationOut]
    capacity: int
    confirmed: int
    waiting: int


class DeadlineOut(BaseModel):
    id: UUID
    title: str
    due_on: date
    audience: Audience
    city_id: UUID | None
    source: str
    key: str
    link: str
    description: str


class DeadlineList(BaseModel):
    items: list[DeadlineOut]
    total: int
    page: int
    size: int
