"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Literal
from uuid import UUID

import pycountry
from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from covenant.accounts.schemas import Optional, _check_email
from covenant.i18n import N_, current_locale

MAX_LETTER_BYTES = 10 * 1024 * 1024
Text160 = Annotated[str, Field(min_length=1, max_length=160)]


def check_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code known to pycountry, upper-cased."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(N_("Enter a two-letter ISO 3166 country code, such as FR or IT."))
    return code


def country_name(code: str) -> str:
    """The country's name in the reader's language (Babel's CLDR data), pycountry's English otherwise."""
    return _country_name(current_locale(), code)


@lru_cache(maxsize=4096)
def _country_name(locale: str, code: str) -> str:
    # Every row of a signatory list asks: parsing the locale and looking pycountry up each time cost a
    # fifth of the page's rendering.
    localized = Locale.parse(locale).territories.get(code.upper())
    if localized:
        return str(localized)
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ApplicationForm(Form):
    """A mayor's office applies for its city; the commitment letter comes separately (a file)."""

    adhesion_date: date = Field(description="The date of the council's decision to join.")
    mayor: Text160
    mandate_end: Annotated[date | None, Optional] = None
    contact_name: Text160
    contact_email: Annotated[str, Field(min_length=3, max_length=254)]

    @field_validator("adhesion_date")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(N_("The council's decision cannot be in the future."))
        return value

    @field_validator("mandate_end")
    @classmethod
    def _after_adhesion(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("adhesion_date")
        if value is not None and start is not None and value <= start:
            raise ValueError(N_("The mandate must end after the council's decision."))
        return value

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)


MembershipAction = Literal["accept", "reject", "suspend", "reinstate", "withdraw"]


class DecisionForm(Form):
    """A decision on a membership: the reason (needed to reject, suspend, withdraw) and the notice date."""

    reason: Annotated[str, Field(max_length=2000)] = ""
    notice_date: Annotated[date | None, Optional] = None

    @field_validator("notice_date")
    @classmethod
    def _not_in_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today():
            raise ValueError(N_("The notice cannot be dated in the future."))
        return value


class CityProfileForm(Form):
    """What a mayor's office may change in its city's profile."""

    name: Text160
    country_code: Annotated[str, Field(min_length=2, max_length=2)]
    region: Annotated[str, Field(max_length=160)] = ""
    population: int = Field(gt=0, le=100_000_000)
    area_km2: Annotated[float | None, Optional, Field(gt=0, le=1_000_000)] = None
    website: Annotated[str, Field(max_length=300)] = ""
    mayor: Annotated[str, Field(max_length=160)] = ""
    contact_name: Annotated[str, Field(max_length=160)] = ""
    contact_email: Annotated[str, Field(max_length=254)] = ""

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: str) -> str:
        return check_country(value)

    @field_validator("website")
    @classmethod
    def _website(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(N_("Enter the full address, starting with https://."))
        return value

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value) if value else value


TeamRole = Literal["mayors_office", "contributor"]


class InvitationForm(Form):
    """Invite someone to a city's team."""

    email: Annotated[str, Field(min_length=3, max_length=254)]
    display_name: Annotated[str, Field(max_length=120)] = ""
    role: TeamRole = "contributor"
    modules: list[str] = Field(default_factory=list, description="For a contributor: module slugs (empty: all).")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return _check_email(value)

    @field_validator("modules", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value


# -- answers ----------------------------------------------------------------------------------------


class CityOut(BaseModel):
    id: UUID
    name: str
    country_code: str
    country: str
    region: str
    population: int
    area_km2: float | None
    density: float | None
    size_class: str
    latitude: float | None
    longitude: float | None
    authority_type: str
    website: str
    status: str | None
    adhesion_date: date | None
    commitments: int


class CityList(BaseModel):
    items: list[CityOut]
    total: int
    page: int
    size: int


class MembershipOut(BaseModel):
    id: UUID
    city_id: UUID
    city_name: str
    status: str
    adhesion_date: date
    mayor: str
    mandate_end: date | None
    contact_name: str
    contact_email: str
    has_letter: bool
    reason: str
    notice_date: date | None


class MembershipList(BaseModel):
    items: list[MembershipOut]
    total: int
    page: int
    size: int


class TeamMemberOut(BaseModel):
    grant_id: UUID
    user_id: UUID
    email: str
    display_name: str
    role: str
    modules: list[str]


AuthorityType = Literal["municipality", "metropolitan", "region", "group"]


class NewAuthorityForm(CityProfileForm):
    """An authority the registry does not know yet (the secretariat adds it): a municipality outside the
    shipped registry, a metropolitan or regional authority, or a group of neighbouring municipalities."""

    authority_type: AuthorityType = "municipality"
    latitude: Annotated[float | None, Optional, Field(ge=-90, le=90)] = None
    longitude: Annotated[float | None, Optional, Field(ge=-180, le=180)] = None


class MunicipalityForm(Form):
    """A municipality of a group signatory."""

    name: Text160
    population: Annotated[int | None, Optional, Field(gt=0, le=100_000_000)] = None
