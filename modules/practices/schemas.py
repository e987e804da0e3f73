"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from covenant.i18n import N_
from covenant.i18n import gettext as _
from modules.practices.models import COST_RANGES, MEASURES, PLACE_KINDS

Language = Literal["en", "fr", "es", "it", "de", "nl", "pt", "el", "pl", "lv", "lt", "sl", "hr", "fi", "sk", "ro"]
_URL = TypeAdapter(AnyHttpUrl)


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _as_list(value: Any) -> Any:
    """One form value arrives as a string, several as a list; a textarea separates them by lines or commas."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(";", "\n").replace(",", "\n").split("\n")
        return [part.strip() for part in parts if part.strip()]
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, str) else [item])
        return out
    return value


def _links_as_list(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split() if part.strip()]
    return _as_list(value)


OptionalInt = Annotated[int | None, BeforeValidator(_blank_to_none)]
TextList = Annotated[list[Annotated[str, Field(max_length=60)]], BeforeValidator(_as_list), Field(max_length=30)]
LinkList = Annotated[list[Annotated[str, Field(max_length=500)]], BeforeValidator(_links_as_list), Field(max_length=20)]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class FicheInput(Form):
    """A good-practice fiche as a city drafts or edits it."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    project: Annotated[str, Field(max_length=200)] = ""
    summary: Annotated[str, Field(max_length=2_000)] = ""
    place_kind: str = Field("other", description="Kind of place: " + ", ".join(PLACE_KINDS))
    problem: Annotated[str, Field(max_length=20_000)] = ""
    measures: TextList = Field(default_factory=list, description="Measures: " + ", ".join(MEASURES))
    partnership: Annotated[str, Field(max_length=20_000)] = ""
    outcome: Annotated[str, Field(max_length=20_000)] = ""
    cost_range: str = Field("", description="Cost range: " + ", ".join(k for k in COST_RANGES if k))
    duration_months: OptionalInt = Field(None, ge=0, le=600)
    difficulties: Annotated[str, Field(max_length=20_000)] = ""
    lessons: Annotated[str, Field(max_length=20_000)] = ""
    links: LinkList = Field(default_factory=list, description="Web addresses of documents and sites.")
    tags: TextList = Field(default_factory=list)
    language: Language = Field("en", description="The language the fiche is written in.")
    languages: TextList = Field(default_factory=list, description="Languages its material exists in.")
    year: OptionalInt = Field(None, ge=1950, le=2100, description="The year the measures were delivered.")

    @model_validator(mode="after")
    def _known_values(self) -> FicheInput:
        if self.place_kind not in PLACE_KINDS:
            raise ValueError(_("Unknown kind of place %(value)s.") % {"value": repr(self.place_kind)})
        unknown = [m for m in self.measures if m not in MEASURES]
        if unknown:
            raise ValueError(_("Unknown measures: %(values)s.") % {"values": ", ".join(unknown)})
        if self.cost_range not in COST_RANGES:
            raise ValueError(_("Unknown cost range %(value)s.") % {"value": repr(self.cost_range)})
        for link in self.links:
            try:
                _URL.validate_python(link)
            except ValueError as exc:
                raise ValueError(
                    _("%(link)s is not a web address (http:// or https://).") % {"link": repr(link)}
                ) from exc
        return self


class IndicatorInput(Form):
    """A SMART indicator: what was measured, before and after, each with its date."""

    name: Annotated[str, Field(min_length=3, max_length=200)]
    unit: Annotated[str, Field(max_length=40)] = ""
    baseline_value: float = Field(description="The value before the measures.")
    baseline_date: date
    after_value: float = Field(description="The value after the measures.")
    after_date: date

    @model_validator(mode="after")
    def _dates(self) -> IndicatorInput:
        if self.after_date <= self.baseline_date:
            raise ValueError(N_("The after date must come after the baseline date."))
        return self


class ReviewInput(Form):
    """A reviewer's decision: a comment, a request for changes, publication or rejection."""

    decision: Literal["comment", "request_changes", "publish", "reject"]
    body: Annotated[str, Field(max_length=10_000)] = ""

    @model_validator(mode="after")
    def _explained(self) -> ReviewInput:
        if self.decision in ("comment", "request_changes", "reject") and not self.body:
            raise ValueError(N_("Say what you found: a comment is needed with this decision."))
        return self


class CampaignInput(Form):
    """A collection campaign: who is invited to submit fiches, by when."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    message: Annotated[str, Field(max_length=10_000)] = ""
    deadline: date
    invite_new_signatories: bool = True
    city_ids: Annotated[list[UUID], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Cities invited now (none: every active signatory)."
    )


class IndicatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    name: str
    unit: str
    baseline_value: float
    baseline_date: date
    after_value: float
    after_date: date


class ImageOut(BaseModel):
    id: UUID
    stage: str
    caption: str
    alt_text: str
    width: int
    height: int
    url: str
    thumbnail_url: str


class LinkedCommitmentOut(BaseModel):
    """A city's published commitment the fiche is related to, and why."""

    commitment_id: UUID
    title: str
    city_id: UUID
    city_name: str
    due_date: date
    reason: str
    url: str


class DocumentOut(BaseModel):
    id: UUID
    title: str
    size_bytes: int
    url: str


class FicheOut(BaseModel):
    """A fiche as the API shows it."""

    id: UUID
    city_id: UUID | None
    city_name: str
    country_code: str
    title: str
    project: str
    summary: str
    place_kind: str
    problem: str
    measures: list[str]
    partnership: str
    outcome: str
    cost_range: str
    duration_months: int | None
    difficulties: str
    lessons: str
    links: list[str]
    tags: list[str]
    language: str
    languages: list[str]
    year: int | None
    status: str
    published_at: datetime | None
    indicators: list[IndicatorOut] = Field(default_factory=list)
    images: list[ImageOut] = Field(default_factory=list)
    documents: list[DocumentOut] = Field(default_factory=list)
    commitments: list[LinkedCommitmentOut] = Field(default_factory=list)
    """Published commitments of cities this practice relates to."""


class FacetOut(BaseModel):
    value: str
    count: int


class FichePageOut(BaseModel):
    items: list[FicheOut]
    total: int
    page: int
    page_size: int
    pages: int
    facets: dict[str, list[FacetOut]] = Field(default_factory=dict)
