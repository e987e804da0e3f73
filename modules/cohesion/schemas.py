"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from covenant.i18n import N_
from covenant.i18n import gettext as _
from modules.cohesion.models import DESIGNS, INDICATORS, LEVELS

Language = Literal["en", "fr", "es", "it"]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _lines(value: Any) -> Any:
    """A textarea's lines (or a list) as a clean list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    return value


def _as_list(value: Any) -> Any:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return value


def _euros_to_cents(value: Any) -> Any:
    """Forms type euros (``12500`` or ``12 500,50``); the API may send cents as ``annual_budget_cents``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, str):
        cleaned = value.replace(" ", "").replace("\u202f", "").replace(",", ".")
        try:
            return round(float(cleaned) * 100)
        except ValueError as exc:
            raise ValueError(N_("Type an amount in euros, e.g. 12500.")) from exc
    if isinstance(value, int | float):
        return round(value * 100)
    return value


Lines = Annotated[list[Annotated[str, Field(max_length=500)]], BeforeValidator(_lines), Field(max_length=50)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class GlossaryInput(Form):
    """A glossary term's English and French wording (other languages come with translation)."""

    term_en: Annotated[str, Field(min_length=2, max_length=100)]
    definition_en: Annotated[str, Field(min_length=10, max_length=5000)]
    term_fr: Annotated[str, Field(max_length=100)] = ""
    definition_fr: Annotated[str, Field(max_length=5000)] = ""
    source: Annotated[str, Field(max_length=300)] = ""


class MeasureInput(Form):
    """A local measure aiming to reduce insecurity or feelings of insecurity."""

    name: Annotated[str, Field(min_length=3, max_length=200)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    language: Language = "en"
    level: str = Field(description="Level of the prevention pyramid: " + ", ".join(LEVELS))
    target_group: Annotated[str, Field(max_length=200)] = ""
    area: Annotated[str, Field(max_length=200)] = ""
    partners: Lines = Field(default_factory=list, description="One partner per line.")
    annual_budget: Annotated[int, BeforeValidator(_euros_to_cents), Field(ge=0, le=10**13)] = Field(
        0, description="Annual budget in euros (stored as cents)."
    )
    start_date: OptionalDate = None
    status: Literal["planned", "running", "ended"] = "running"

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in LEVELS:
            raise ValueError(
                _("%(value)s is not a level of the prevention pyramid (use one of: %(allowed)s).")
                % {"value": repr(value), "allowed": ", ".join(LEVELS)}
            )
        return value


class EvaluationPlanInput(Form):
    """The evaluation's design: problem analysis, objectives tree, logic model, indicators."""

    problem_analysis: Annotated[str, Field(max_length=20_000)] = ""
    objectives: Annotated[str, Field(max_length=10_000)] = Field(
        "", description="One objective per line; indent sub-objectives with two spaces or start them with '-'."
    )
    inputs: Lines = Field(default_factory=list)
    activities: Lines = Field(default_factory=list)
    outputs: Lines = Field(default_factory=list)
    outcomes: Lines = Field(default_factory=list)
    indicators: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list, min_length=1)
    design: str = "pre_post"

    @field_validator("indicators")
    @classmethod
    def _indicators(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in INDICATORS]
        if unknown:
            raise ValueError(
                _("Unknown indicator %(value)s (use: %(allowed)s).")
                % {"value": repr(unknown[0]), "allowed": ", ".join(INDICATORS)}
            )
        return list(dict.fromkeys(value))

    @field_validator("design")
    @classmethod
    def _design(cls, value: str) -> str:
        if value not in DESIGNS:
            raise ValueError(
                _("Unknown design %(value)s (use: %(allowed)s).")
                % {"value": repr(value), "allowed": ", ".join(DESIGNS)}
            )
        return value


class WaveInput(Form):
    """Aggregated survey values of one indicator, in one area, at one wave (0 = baseline)."""

    indicator: str
    area: Literal["intervention", "comparison"] = "intervention"
    wave: Annotated[int, Field(ge=0, le=20)]
    mean: float
    sd: float = Field(description="Standard deviation; must be greater than 0.")
    n: int = Field(description="Number of respondents; at least 2.")

    @field_validator("sd")
    @classmethod
    def _sd(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(N_("The standard deviation must be greater than 0."))
        return value

    @field_validator("n")
    @classmethod
    def _n(cls, value: int) -> int:
        if value < 2:
            raise ValueError(N_("At least 2 respondents are needed (n ≥ 2)."))
        return value


class VerdictInput(Form):
    """What the city decides after the analysis, and why (measures that did not work are kept)."""

    verdict: Literal["continue", "adjust", "stop"]
    reasons: Annotated[str, Field(min_length=10, max_length=10_000)]


class InitiativeInput(Form):
    title: Annotated[str, Field(min_length=3, max_length=200)]
    problem: Annotated[str, Field(max_length=10_000)] = ""
    partners: Lines = Field(default_factory=list, description="One partner per line: 'name — sector'.")


class RubricInput(Form):
    """Scores from 0 (absent) to 4 (strong) for each condition and precondition of Collective Impact."""

    scored_on: date
    common_agenda: Annotated[int, Field(ge=0, le=4)]
    shared_measurement: Annotated[int, Field(ge=0, le=4)]
    mutually_reinforcing_activities: Annotated[int, Field(ge=0, le=4)]
    continuous_communication: Annotated[int, Field(ge=0, le=4)]
    backbone_support: Annotated[int, Field(ge=0, le=4)]
    champion: Annotated[int, Field(ge=0, le=4)]
    resources: Annotated[int, Field(ge=0, le=4)]
    urgency: Annotated[int, Field(ge=0, le=4)]
    notes: Annotated[str, Field(max_length=5000)] = ""


class SwotBoardInput(Form):
    title: Annotated[str, Field(min_length=3, max_length=200)]


class SwotEntryInput(Form):
    quadrant: Literal["strengths", "weaknesses", "opportunities", "threats"]
    text: Annotated[str, Field(min_length=2, max_length=500)]


class LessonInput(Form):
    title: Annotated[str, Field(min_length=3, max_length=200)]
    body: Annotated[str, Field(min_length=10, max_length=20_000)]
    language: Language = "en"
    evaluation_id: Annotated[UUID | None, BeforeValidator(_blank_to_none)] = None
    initiative_id: Annotated[UUID | None, BeforeValidator(_blank_to_none)] = None


# -- answers ----------------------------------------------------------------------------------------


class GlossaryTermOut(BaseModel):
    key: str
    term: dict[str, str]
    definition: dict[str, str]
    source: str


class MeasureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    city_id: UUID
    name: str
    description: str
    language: str
    level: str
    target_group: str
    area: str
    partners: list[str]
    annual_budget_cents: int
    start_date: date | None
    status: str
    selected: bool
    evaluated: bool = False


class LevelOut(BaseModel):
    level: str
    measures: int
    budget_cents: int


class PyramidOut(BaseModel):
    city_id: UUID
    city_name: str
    levels: list[LevelOut]
    empty_levels: list[str]
    measures_without_evaluation: int
    total_budget_cents: int


class EstimateOut(BaseModel):
    value: float
    low: float
    high: float
    effect_size: float
    direction: str


class IndicatorResultOut(BaseModel):
    indicator: str
    follow_up_wave: int
    change: EstimateOut
    comparison_change: EstimateOut | None = None
    difference_in_differences: EstimateOut | None = None


class AnalysisOut(BaseModel):
    evaluation_id: UUID
    measure_id: UUID
    design: str
    results: list[IndicatorResultOut]
    warnings: list[str]
    headline_effect: float | None
    verdict: str | None
    verdict_reasons: str


class RubricScoreOut(BaseModel):
    scored_on: date
    scores: dict[str, int]
    """0 (absent) to 4 (strong) per condition and precondition."""
    conditions_average: float
    notes: str


class InitiativeOut(BaseModel):
    id: UUID
    city_id: UUID
    title: str
    problem: str
    partners: list[dict[str, str]]
    rubric: list[RubricScoreOut]
    """Oldest first: the rubric's history."""
    board_ids: list[UUID]


class SwotEntryOut(BaseModel):
    id: UUID
    quadrant: str
    text: str
    votes: int


class SwotBoardOut(BaseModel):
    id: UUID
    title: str
    initiative_id: UUID | None
    entries: dict[str, list[SwotEntryOut]]


class VoteOut(BaseModel):
    entry_id: UUID
    counted: bool
    votes: int


class LessonOut(BaseModel):
    id: UUID
    city_id: UUID
    title: str
    body: str
    language: str
    evaluation_id: UUID | None
    initiative_id: UUID | None
    published_at: datetime | None
