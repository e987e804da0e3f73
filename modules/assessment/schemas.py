"""Inputs and outputs of the self-assessment module, shared by the HTML forms and the JSON API.

The survey's own fields come from the framework (one per indicator), so their values are checked by each
indicator's ``parse`` (type, allowed range, choices); these schemas check everything else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modules.assessment.models import SURVEY_LANGUAGES

Language = Literal["en", "fr", "es", "it"]
Rating = Annotated[int, Field(ge=1, le=5)]
RawAnswer = str | float | int | bool | None


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class LanguageInput(BaseModel):
    """The language the city answers the survey in (answers are stored independently of it)."""

    language: Language


class SharingInput(BaseModel):
    """Whether the city shows its individual scores to its peers."""

    shared: bool = False

    @field_validator("shared", mode="before")
    @classmethod
    def _checkbox(cls, value: object) -> object:
        # An unticked HTML checkbox sends nothing; a ticked one "on".
        return value in (True, "on", "true", "1", 1, "yes")


class AnswersInput(BaseModel):
    """Answers of a response, by indicator code: text as typed, a number, or a boolean; empty clears it."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, RawAnswer] = Field(default_factory=dict, max_length=500)
    language: Language | None = None


class FeedbackItem(BaseModel):
    """Pilot feedback on one indicator: is it usable (clear, answerable) and relevant (1 = not at all, 5 = very)."""

    usability: Rating | None = None
    relevance: Rating | None = None
    comment: str = Field(default="", max_length=2000)

    _blank = field_validator("usability", "relevance", mode="before")(_blank_to_none)

    @field_validator("comment", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @property
    def empty(self) -> bool:
        return self.usability is None and self.relevance is None and not self.comment


class FrameworkImportInput(BaseModel):
    """A framework YAML pasted in the form (a file upload goes through the same check)."""

    yaml: str = Field(min_length=1, max_length=1_000_000)
    notes: str = Field(default="", max_length=2000)


# -- outputs ----------------------------------------------------------------------------------------


class FrameworkVersionOut(BaseModel):
    id: UUID
    code: str
    version: str
    title: str
    status: str
    indicator_count: int
    published_at: datetime | None
    yaml_url: str


class FrameworkVersionPageOut(BaseModel):
    items: list[FrameworkVersionOut]
    total: int
    page: int
    page_size: int
    pages: int


class AnswerOut(BaseModel):
    indicator_code: str
    dimension: str
    value: float | None
    raw: str
    source: str
    source_detail: str
    updated_at: datetime


class ResponseOut(BaseModel):
    city_id: UUID
    year: int
    framework_code: str
    framework_version: str
    framework_version_id: UUID
    language: str
    status: str
    submitted_at: datetime | None
    applicable: int
    answered: int
    coverage: float
    """Share (0-1) of the indicators applicable to the city's size class that are answered."""
    missing: list[str]
    answers: list[AnswerOut]


class ScoreOut(BaseModel):
    year: int
    framework_version_id: UUID
    framework_version: str
    index: float | None
    coverage: float
    dimensions: dict[str, float | None]
    cohort_size: int
    computed_at: datetime


class SubmitOut(BaseModel):
    response: ResponseOut
    score: ScoreOut | None


def language_label(code: str) -> str:
    return SURVEY_LANGUAGES.get(code, code)
