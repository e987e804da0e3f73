"""One schema per input, shared by the HTML forms, the imports and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from covenant.i18n import N_
from covenant.i18n import gettext as _
from modules.funding.models import THEMES, AdvocacyKind, AdvocacyStatus, ApplicationStatus, DeadlineModel


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _as_list(value: Any) -> Any:
    """One form value, several, or a cell separated by commas, semicolons or new lines."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.replace(";", "\n").replace(",", "\n").splitlines()
        return [p.strip() for p in parts if p.strip()]
    if isinstance(value, list | tuple):
        out: list[Any] = []
        for item in value:
            out.extend(_as_list(item) if isinstance(item, str) else [item])
        return out
    return value


def _as_bool(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y"}
    return bool(value) if value is not None else False


def euros_to_cents(value: Any) -> int | None:
    """'1 250,50' or '1250.5' euros → 125050 cents; None for blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).replace(" ", "").replace("\u202f", "").replace(",", ".")
    try:
        return int((Decimal(text) * 100).to_integral_value())
    except InvalidOperation as exc:
        raise ValueError(_("%(value)s is not an amount in euros.") % {"value": repr(value)}) from exc


Amount = Annotated[Annotated[int, Field(ge=0)] | None, BeforeValidator(_blank_to_none)]
"""A non-negative whole number (euro cents, people, grants), or nothing."""
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
OptionalId = Annotated[UUID | None, BeforeValidator(_blank_to_none)]
StrList = Annotated[list[Annotated[str, Field(max_length=80)]], BeforeValidator(_as_list)]
DateList = Annotated[list[date], BeforeValidator(_as_list)]
Flag = Annotated[bool, BeforeValidator(_as_bool)]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _euros(cls, data: Any) -> Any:
        """HTML forms ask for euros (``<field>_eur``); the API speaks cents (``<field>_cents``)."""
        if isinstance(data, dict):
            data = dict(data)
            for key in [k for k in data if isinstance(k, str) and k.endswith("_eur")]:
                raw = data.pop(key)
                cents_key = key.removesuffix("_eur") + "_cents"
                if cents_key not in data or data[cents_key] in (None, ""):
                    data[cents_key] = euros_to_cents(raw)
        return data


class CallInput(Form):
    """A call for proposals, as an administrator enters it or an import brings it."""

    identifier: Annotated[str, Field(min_length=2, max_length=120, description="The portal's topic identifier.")]
    reference: Annotated[str, Field(max_length=120)] = ""
    title: Annotated[str, Field(min_length=3, max_length=300)]
    programme: Annotated[str, Field(min_length=2, max_length=40, description="A programme code, e.g. ISF-POLICE.")]
    description: Annotated[str, Field(max_length=50_000)] = ""
    opening_date: date
    deadline_model: DeadlineModel = DeadlineModel.single_stage
    deadlines: DateList = Field(description="One date; two for a two-stage call; several cut-off dates.")
    budget_cents: Amount = None
    expected_grants: Amount = None
    action_type: Annotated[str, Field(max_length=80)] = ""
    eligible_countries: StrList = Field(default_factory=list, description="ISO codes; empty: every member state.")
    applicant_types: StrList = Field(default_factory=list)
    min_population: Amount = None
    max_population: Amount = None
    partnership_required: Flag = False
    themes: StrList = Field(default_factory=list)
    url: Annotated[str, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _coherent(self) -> CallInput:
        if not self.deadlines:
            raise ValueError(N_("A call needs at least one deadline."))
        self.deadlines = sorted(set(self.deadlines))
        if self.deadlines[0] < self.opening_date:
            raise ValueError(N_("A deadline cannot be before the opening date."))
        if self.deadline_model == DeadlineModel.single_stage and len(self.deadlines) != 1:
            raise ValueError(N_("A single-stage call has exactly one deadline."))
        if self.deadline_model == DeadlineModel.two_stage and len(self.deadlines) != 2:
            raise ValueError(N_("A two-stage call has exactly two deadlines."))
        if (
            self.min_population is not None
            and self.max_population is not None
            and self.min_population > self.max_population
        ):
            raise ValueError(N_("The minimum population is above the maximum."))
        unknown = [t for t in self.themes if t not in THEMES]
        if unknown:
            raise ValueError(
                _("Unknown themes: %(values)s (known: %(allowed)s).")
                % {"values": ", ".join(unknown), "allowed": ", ".join(THEMES)}
            )
        self.eligible_countries = [c.upper() for c in self.eligible_countries]
        if any(len(c) != 2 for c in self.eligible_countries):
            raise ValueError(N_("Countries are two-letter ISO codes."))
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(N_("The web address must start with http:// or https://."))
        return self


class ApplicationInput(Form):
    """A city's application (or its intention to apply)."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    programme: Annotated[str, Field(min_length=2, max_length=40)]
    call_id: OptionalId = None
    requested_cents: Amount = None
    commitment_ids: Annotated[list[UUID], BeforeValidator(_as_list)] = Field(default_factory=list)
    notes: Annotated[str, Field(max_length=20_000)] = ""


class ApplicationStep(Form):
    """Moving an application one step along: interested → preparing → submitted → awarded / rejected."""

    status: ApplicationStatus
    on: OptionalDate = None
    awarded_cents: Amount = None
    eu_share_cents: Amount = None

    @model_validator(mode="after")
    def _award(self) -> ApplicationStep:
        if self.status == ApplicationStatus.awarded:
            if self.awarded_cents is None:
                raise ValueError(N_("An award needs the amount awarded."))
            if self.eu_share_cents is not None and self.eu_share_cents > self.awarded_cents:
                raise ValueError(N_("The EU share cannot exceed the amount awarded."))
        return self


class AdvocacyInput(Form):
    kind: AdvocacyKind
    title: Annotated[str, Field(min_length=3, max_length=300)]
    language: Literal["en", "fr", "es", "it"] = "en"
    addressees: StrList = Field(default_factory=list, description="Institutions addressed.")
    topics: StrList = Field(default_factory=list)
    summary: Annotated[str, Field(max_length=50_000)] = ""


class AdvocacyStep(Form):
    status: AdvocacyStatus
    on: OptionalDate = None
    answer: Annotated[str, Field(max_length=50_000)] = ""


# -- answers ----------------------------------------------------------------------------------------


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    code: str
    name: dict[str, str]
    fund: str
    management: str
    funding_form: str
    managing_body: str
    cofinancing_rate: int | None
    applicant_types: list[str]
    themes: list[str]
    description: dict[str, str]
    links: list[str]


class CallOut(BaseModel):
    id: UUID
    identifier: str
    reference: str
    title: str
    programme: str
    status: str
    opening_date: date
    deadline_model: str
    deadlines: list[date]
    budget_cents: int | None
    expected_grants: int | None
    action_type: str
    eligible_countries: list[str]
    applicant_types: list[str]
    min_population: int | None
    max_population: int | None
    partnership_required: bool
    themes: list[str]
    url: str
    description: str


class CallPageOut(BaseModel):
    items: list[CallOut]
    total: int
    page: int
    page_size: int
    pages: int


class ReasonOut(BaseModel):
    kind: str
    detail: str


class SuggestionOut(BaseModel):
    call: CallOut
    score: int
    reasons: list[ReasonOut]
    commitment_ids: list[UUID]


class ExclusionOut(BaseModel):
    call: CallOut
    reasons: list[ReasonOut]


class SuggestionsOut(BaseModel):
    city_id: UUID
    suggestions: list[SuggestionOut]
    excluded: list[ExclusionOut] = Field(default_factory=list)


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    city_id: UUID
    programme_id: UUID
    call_id: UUID | None
    title: str
    status: str
    requested_cents: int | None
    awarded_cents: int | None
    eu_share_cents: int | None
    commitment_ids: list[str]
    submitted_on: date | None
    decided_on: date | None
    notes: str


class AdvocacyOut(BaseModel):
    id: UUID
    kind: str
    title: str
    language: str
    addressees: list[str]
    topics: list[str]
    summary: str
    status: str
    sent_on: date | None
    answered_on: date | None
    answer: str
    has_document: bool
    cosigning_cities: list[str]


class ImportOut(BaseModel):
    created: int
    updated: int


class UptakeOut(BaseModel):
    year: int | None
    figures: dict[str, int | float | str]
    tables: list[dict[str, Any]]
