"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from covenant.i18n import N_
from modules.training.models import AREAS, LIKERT_ITEMS, Level


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


def _checkbox(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() in {"on", "true", "1", "yes"}
    return value


KeyList = Annotated[list[Annotated[str, Field(max_length=60)]], BeforeValidator(_as_list)]
Checkbox = Annotated[bool, BeforeValidator(_checkbox)]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class ProfileInput(Form):
    """A new profile (row) of the competence matrix, e.g. 'Urban Security Coordinator'."""

    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{2,59}$", description="Lowercase identifier.")]
    title: Annotated[str, Field(min_length=3, max_length=200)]
    family: Annotated[str, Field(min_length=3, max_length=200)] = "Other profiles"
    knowledge: Level
    know_how: Level
    interpersonal: Level


class CurriculumInput(Form):
    title: Annotated[str, Field(min_length=3, max_length=200)]
    summary: Annotated[str, Field(max_length=20_000)] = ""
    language: Literal["en", "fr", "es", "it"] = "en"
    target_groups: KeyList = Field(min_length=1, description="Keys of the matrix's target groups.")
    partner_city_ids: Annotated[list[UUID], BeforeValidator(_as_list)] = Field(
        default_factory=list, description="Cities co-authoring a joint curriculum."
    )


class UnitInput(Form):
    """A unit, mapped to a matrix cell: a target group and a knowledge area, at a level."""

    title: Annotated[str, Field(min_length=3, max_length=200)]
    target_group: Annotated[str, Field(max_length=60)]
    area: Literal["knowledge", "know_how", "interpersonal"]
    level: Level
    learning_outcomes: Annotated[str, Field(max_length=10_000)] = ""
    hours: Annotated[int, Field(ge=1, le=500)] = 4
    method: Annotated[str, Field(max_length=200)] = ""
    materials: Annotated[str, Field(max_length=10_000)] = ""


class SessionInput(Form):
    curriculum_id: UUID
    title: Annotated[str, Field(min_length=3, max_length=200)]
    starts_on: date
    ends_on: date
    place: Annotated[str, Field(max_length=200)] = ""
    online: Checkbox = False
    trainers: Annotated[str, Field(max_length=400)] = ""
    capacity: Annotated[int, Field(ge=1, le=1000)] = 20

    @model_validator(mode="after")
    def _dates(self) -> SessionInput:
        if self.ends_on < self.starts_on:
            raise ValueError(N_("The end date cannot be before the start date."))
        if not self.online and not self.place:
            raise ValueError(N_("Give a place, or tick 'online'."))
        return self


class ParticipantInput(Form):
    name: Annotated[str, Field(min_length=2, max_length=200)]
    email: Annotated[str, Field(max_length=254)] = ""
    target_group: Annotated[str, Field(max_length=60)] = ""


Likert = Annotated[int, Field(ge=1, le=5)]


class AnswerInput(Form):
    """The common basic satisfaction questionnaire: five Likert items (1 = disagree … 5 = agree), two open questions."""

    relevance: Likert
    quality: Likert
    trainers: Likert
    organisation: Likert
    applicability: Likert
    liked: Annotated[str, Field(max_length=5000)] = ""
    improve: Annotated[str, Field(max_length=5000)] = ""

    def scores(self) -> dict[str, int]:
        return {item: int(getattr(self, item)) for item in LIKERT_ITEMS}


TOPIC_PREFIX = "topic."
"""Form fields ``topic.<area>.<topic key>`` carry a level per topic of the profile's cells."""


def area_from_topics(levels: list[str]) -> str:
    """An area's level from its topics' levels: the mean rank (1 basic … 3 advanced), rounded half up."""
    ranks = {"basic": 1, "intermediate": 2, "advanced": 3}
    mean = sum(ranks[lv] for lv in levels) / len(levels)
    return {1: "basic", 2: "intermediate", 3: "advanced"}[int(mean + 0.5)]


class RatingInput(Form):
    """Levels for the three knowledge areas (own rating, or a supervisor's), given per area or per topic.

    Topic levels arrive as ``topics`` (``{"area.topic": level}``) or, from an HTML form, as fields
    ``topic.<area>.<topic>``; an area without its own level gets the level derived from its topics."""

    knowledge: Level | None = None
    know_how: Level | None = None
    interpersonal: Level | None = None
    topics: dict[Annotated[str, Field(max_length=130)], Level] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_topics(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        topics = dict(data.get("topics") or {})
        for key, value in list(data.items()):
            if isinstance(key, str) and key.startswith(TOPIC_PREFIX) and value:
                topics[key[len(TOPIC_PREFIX) :]] = value
        for area in AREAS:
            if data.get(area) == "":
                data[area] = None
        data["topics"] = topics
        return data

    @model_validator(mode="after")
    def _every_area(self) -> RatingInput:
        for key in self.topics:
            area, _, topic = key.partition(".")
            if area not in AREAS or not topic:
                raise ValueError(N_("A topic must be given as area.topic."))
        for area in AREAS:
            if getattr(self, area) is None:
                mine = [str(v) for k, v in self.topics.items() if k.startswith(area + ".")]
                if not mine:
                    raise ValueError(N_("Choose a level for each knowledge area or for its topics."))
                setattr(self, area, Level(area_from_topics(mine)))
        return self

    def levels(self) -> dict[str, str]:
        return {area: str(getattr(self, area)) for area in AREAS}

    def topic_levels(self) -> dict[str, str]:
        return {key: str(level) for key, level in self.topics.items()}


class MySelfAssessmentInput(Form):
    """A signed-in person opens a self-assessment for themself, in one of their cities."""

    city_id: UUID
    target_group: Annotated[str, Field(max_length=60)]
    phase: Literal["standalone", "before", "after"] = "standalone"


class SelfAssessmentInput(Form):
    target_group: Annotated[str, Field(max_length=60)]
    phase: Literal["standalone", "before", "after"] = "standalone"
    session_id: Annotated[UUID | None, BeforeValidator(lambda v: v or None)] = None


class FeedbackInput(Form):
    feedback_actions: Annotated[str, Field(max_length=20_000)] = ""


# -- answers ---------------------------------------------------------------------------------------


class MatrixCellOut(BaseModel):
    area: str
    level: str
    topics: list[str]


class TargetGroupOut(BaseModel):
    key: str
    family: str
    title: dict[str, str]
    family_title: dict[str, str]
    from_action_plan: bool
    cells: list[MatrixCellOut]


class ItemStats(BaseModel):
    item: str
    mean: float | None
    distribution: dict[str, int]


class SessionReportOut(BaseModel):
    session_id: UUID
    title: str
    participants: int
    attended: int
    respondents: int
    response_rate: float | None
    satisfaction: float | None
    items: list[ItemStats]
    comments_liked: list[str]
    comments_improve: list[str]
    closed: bool


class SessionOut(BaseModel):
    id: UUID
    city_id: UUID
    curriculum_id: UUID
    title: str
    starts_on: date
    ends_on: date
    place: str
    online: bool
    capacity: int
    registered: int
    waiting: int
    closed: bool


class TopicGapOut(BaseModel):
    target_group: str
    area: str
    topic: str
    target_level: str | None
    people: int
    mean_assessed: float | None
    gap: float | None


class PlanItemOut(BaseModel):
    curriculum_id: UUID
    title: str
    covered_gap: float
    cells: list[str]


class GapOut(BaseModel):
    target_group: str
    area: str
    target_level: str | None
    people: int
    mean_own: float | None
    mean_supervisor: float | None
    below_target: int
    gap: float | None
