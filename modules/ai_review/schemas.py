"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from covenant.i18n import N_
from modules.ai_review.models import Category, DevelopmentKind, Stance, TechnologyStatus, Visibility


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _checkbox(value: Any) -> Any:
    """An HTML checkbox sends "on" when ticked and nothing otherwise; the API sends booleans."""
    if isinstance(value, list):
        value = value[-1] if value else False
    if isinstance(value, str):
        return value.strip().lower() in ("on", "true", "yes", "1")
    return bool(value) if value is not None else False


OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]
Checkbox = Annotated[bool, BeforeValidator(_checkbox)]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class TechnologyInput(Form):
    """A register entry as a city declares it, from project start."""

    name: Annotated[str, Field(min_length=3, max_length=200)]
    short_description: Annotated[str, Field(min_length=3, max_length=150, description="At most 150 characters.")]
    description: Annotated[str, Field(max_length=20_000)] = ""
    language: Literal["en", "fr", "es", "it"] = "en"
    category: Category
    purpose: Annotated[str, Field(max_length=5_000)] = ""
    department: Annotated[str, Field(max_length=200)] = ""
    contact: Annotated[str, Field(max_length=200)] = ""
    supplier: Annotated[str, Field(max_length=200)] = ""
    status: TechnologyStatus = TechnologyStatus.idea
    decommission_reason: Annotated[str, Field(max_length=5_000)] = ""
    start_date: OptionalDate = None
    revision_date: OptionalDate = Field(None, description="When the review must be renewed.")
    spaces: Annotated[str, Field(max_length=5_000)] = Field("", description="Publicly accessible spaces covered.")
    personal_data: Checkbox = False
    biometric_data: Checkbox = False
    special_categories: Checkbox = False
    data_subjects: Annotated[str, Field(max_length=2_000)] = ""
    retention: Annotated[str, Field(max_length=200)] = ""
    legal_basis: Annotated[str, Field(max_length=2_000)] = Field("", description="GDPR Art. 6/9, LED, national law.")
    human_oversight: Annotated[str, Field(max_length=5_000)] = ""
    dpia_done: Checkbox = False
    dpia_date: OptionalDate = None
    alternatives: Annotated[str, Field(max_length=5_000)] = ""
    complaint_channel: Annotated[str, Field(max_length=2_000)] = ""
    visibility: Visibility = Visibility.public

    @model_validator(mode="after")
    def _consistent(self) -> TechnologyInput:
        if self.status == TechnologyStatus.decommissioned and not self.decommission_reason:
            raise ValueError(N_("Say why the technology was decommissioned."))
        if self.dpia_done and self.dpia_date is None:
            raise ValueError(N_("Give the date of the data protection impact assessment."))
        if self.start_date and self.revision_date and self.revision_date < self.start_date:
            raise ValueError(N_("The revision date cannot be before the start date."))
        return self


class ReviewInput(Form):
    """The questionnaire's answers (``true``/``false``, a choice or a text per question key) and the FRIA."""

    answers: dict[str, bool | str | None] = Field(default_factory=dict)
    fria: dict[str, Annotated[str, Field(max_length=10_000)]] = Field(default_factory=dict)

    @classmethod
    def from_form(cls, data: dict[str, Any]) -> dict[str, Any]:
        """HTML radios are named ``q_<key>`` ("yes"/"no"/choice/text), FRIA fields ``fria_<key>``."""
        answers: dict[str, Any] = {}
        fria: dict[str, Any] = {}
        for name, raw in data.items():
            value = raw[-1] if isinstance(raw, list) else raw
            if name.startswith("q_"):
                key = name[2:]
                answers[key] = True if value == "yes" else False if value == "no" else (value or None)
            elif name.startswith("fria_"):
                fria[name[5:]] = value or ""
        return {"answers": answers, "fria": fria}


class PublishInput(Form):
    sensitive_information_removed: Checkbox = Field(
        False, description="The user confirms that sensitive information has been removed."
    )


class PublicOverrideInput(Form):
    """A reviewer allows a law-enforcement or biometric use to be public, and says why."""

    reason: Annotated[str, Field(min_length=20, max_length=2_000, description="Why the entry may be public.")]


class SignOffInput(Form):
    approve: Checkbox = True
    note: Annotated[str, Field(max_length=5_000)] = ""


class FindingOut(BaseModel):
    key: str
    text: str
    articles: str


class ClassificationOut(BaseModel):
    risk_class: str
    rules: list[FindingOut]
    derogation_applied: bool
    missing_answers: list[str]
    contradictions: list[FindingOut]
    open_obligations: list[FindingOut]
    missing_safeguards: list[FindingOut]
    fria_required: bool
    fria_missing: list[str]
    complete: bool


class TechnologyOut(BaseModel):
    id: UUID
    city_id: UUID
    name: str
    short_description: str
    description: str
    category: str
    status: str
    visibility: str
    public_override_reason: str
    restriction_grounds: list[str]
    risk_class: str | None
    review_status: str
    review_overdue: bool
    revision_date: date | None
    published: bool
    published_at: datetime | None


class RegisterPageOut(BaseModel):
    items: list[dict[str, Any]]
    """Entries in the Eurocities Algorithmic Transparency Standard's field names."""
    total: int
    page: int
    page_size: int
    pages: int


class SurveyInput(Form):
    """A city's answers to the bottleneck survey for one year."""

    year: Annotated[int, Field(ge=2020, le=2100)]
    ratings: dict[str, Annotated[int, Field(ge=0, le=3)]] = Field(
        default_factory=dict, description="Bottleneck key → 0 (not a problem) to 3 (blocking)."
    )
    experiments: Annotated[int, Field(ge=0, le=10_000)] = 0
    quote: Annotated[str, Field(max_length=2_000)] = ""
    quote_public: Checkbox = False
    name_public: Checkbox = Field(False, description="The city agrees to be named among the participants.")
    language: Literal["en", "fr", "es", "it"] = "en"

    @classmethod
    def from_form(cls, data: dict[str, Any]) -> dict[str, Any]:
        """HTML radios are named ``r_<bottleneck>``."""
        values = {k: (v[-1] if isinstance(v, list) else v) for k, v in data.items() if not k.startswith("r_")}
        values["ratings"] = {
            k[2:]: (v[-1] if isinstance(v, list) else v) for k, v in data.items() if k.startswith("r_")
        }
        return values


class LegalDevelopmentInput(Form):
    """A DPA opinion, bill, law or court decision in a member state."""

    country_code: Annotated[str, Field(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")]
    kind: DevelopmentKind
    decided_on: date
    category: Category
    stance: Stance
    title: Annotated[str, Field(min_length=3, max_length=300)]
    authority: Annotated[str, Field(max_length=200)] = ""
    link: Annotated[str, Field(max_length=500, pattern=r"^(https?://\S+)?$")] = ""
    summary: Annotated[str, Field(max_length=10_000)] = ""


class LegalDevelopmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    country_code: str
    kind: str
    decided_on: date
    category: str
    stance: str
    title: str
    authority: str
    link: str
    summary: str


class SurveyAggregateOut(BaseModel):
    year: int
    responses: int
    experiments: int
    bottlenecks: list[dict[str, Any]]
    """Per bottleneck: key, counts per severity (0 to 3), share rating it significant or blocking (%)."""
    quotes: list[str]
    named_participants: list[dict[str, str]] = Field(
        default_factory=list, description="Participants that agreed to be named (city, country)."
    )
