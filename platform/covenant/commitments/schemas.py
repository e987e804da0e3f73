"""One schema per input, shared by the HTML forms, the CSV import and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from covenant.commitments.models import CommitmentStatus, Priority
from covenant.i18n import N_
from covenant.i18n import gettext as _

Language = Literal["en", "fr", "es", "it"]
LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "it")
_URL = TypeAdapter(AnyHttpUrl)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _as_list(value: Any) -> Any:
    """A form sends one value as a string and several as a list; a CSV cell or a textarea separates them
    by commas, semicolons or new lines."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(";", "\n").replace(",", "\n").split()
        return [part.strip() for part in parts if part.strip()]
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, str) else [item])
        return out
    return value


def _check_links(value: list[str]) -> list[str]:
    checked = []
    for link in value:
        try:
            _URL.validate_python(link)
        except ValueError as exc:
            raise ValueError(_("%(link)s is not a web address (http:// or https://).") % {"link": repr(link)}) from exc
        checked.append(link)
    return checked


OptionalFloat = Annotated[float | None, BeforeValidator(_blank_to_none)]
OptionalId = Annotated[UUID | None, BeforeValidator(_blank_to_none)]
SlugList = Annotated[list[Annotated[str, Field(max_length=40)]], BeforeValidator(_as_list)]
LinkList = Annotated[list[Annotated[str, Field(max_length=500)]], BeforeValidator(_as_list), Field(max_length=20)]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class CommitmentInput(Form):
    """A commitment as a mayor's office drafts or edits it."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    description: Annotated[str, Field(max_length=20_000)] = ""
    language: Language = Field("en", description="The language the commitment is written in.")
    priority: Priority
    modules: SlugList = Field(default_factory=list, description="Slugs of the related action modules.")
    indicator: Annotated[str, Field(max_length=200)] = ""
    baseline: OptionalFloat = None
    target_value: OptionalFloat = None
    unit: Annotated[str, Field(max_length=40)] = ""
    start_date: date
    due_date: date
    parent_id: OptionalId = Field(None, description="A commitment of the same city this one contributes to.")
    weight: Annotated[int, Field(ge=1, le=100)] = Field(1, description="How much it counts in its parent's progress.")
    status: Literal["planned", "in_progress"] = "planned"

    @model_validator(mode="after")
    def _dates(self) -> CommitmentInput:
        if self.due_date < self.start_date:
            raise ValueError(N_("The due date cannot be before the start date."))
        return self


class ProgressInput(Form):
    """A dated progress update of one commitment."""

    reported_on: date
    percentage: Annotated[int, Field(ge=0, le=100, description="Progress from 0 to 100.")]
    narrative: Annotated[str, Field(max_length=20_000)] = ""
    evidence_links: LinkList = Field(default_factory=list, description="Web addresses of the evidence.")

    @model_validator(mode="after")
    def _links(self) -> ProgressInput:
        _check_links(self.evidence_links)
        return self


class ProgressUpdateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    reported_on: date
    percentage: int
    narrative: str
    evidence_links: list[str]


class CommitmentOut(BaseModel):
    """A commitment as the API shows it. ``progress`` is computed for parents (see services)."""

    id: UUID
    city_id: UUID
    city_name: str
    country_code: str
    parent_id: UUID | None
    title: str
    description: str
    language: str
    priority: str
    modules: list[str]
    indicator: str
    baseline: float | None
    target_value: float | None
    unit: str
    start_date: date
    due_date: date
    status: CommitmentStatus
    progress: int
    weight: int
    published: bool
    published_at: datetime | None
    updates: list[ProgressUpdateOut] = Field(default_factory=list)


class CommitmentPageOut(BaseModel):
    items: list[CommitmentOut]
    total: int
    page: int
    page_size: int
    pages: int
