"""One schema per input, shared by the HTML forms and the JSON API, plus the API's answers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from covenant.accounts.passwords import MAX_LENGTH, MIN_LENGTH, policy_problem
from covenant.i18n import LANGUAGE_NAMES, N_, SUPPORTED_LOCALES
from covenant.plugins import CoreRole

# Deliberately loose: the only proof an address works is the mail reaching it. (email-validator refuses
# reserved domains such as the demo's covenant.localhost, so it does not fit here.)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+$")
LOCALES: dict[str, str] = {code: LANGUAGE_NAMES[code] for code in SUPPORTED_LOCALES}


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _check_email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL_PATTERN.match(value) or len(value) > 254:
        raise ValueError(N_("Enter an e-mail address like name@city.eu."))
    return value


Email = Annotated[str, Field(min_length=3, max_length=254)]
Optional = BeforeValidator(_blank_to_none)
NewPassword = Annotated[
    str, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, description=f"At least {MIN_LENGTH} characters.")
]


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=False, extra="ignore")


class SignInForm(Form):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]

    @field_validator("email")
    @classmethod
    def _normalize(cls, value: str) -> str:
        return value.strip().lower()


class ForgotPasswordForm(Form):
    email: Email

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return _check_email(value)


class ResetPasswordForm(Form):
    password: NewPassword
    password_confirm: Annotated[str, Field(max_length=MAX_LENGTH)]

    @field_validator("password")
    @classmethod
    def _strong_enough(cls, value: str) -> str:
        problem = policy_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("password_confirm")
    @classmethod
    def _same(cls, value: str, info: ValidationInfo) -> str:
        if "password" in info.data and value != info.data["password"]:
            raise ValueError(N_("The two passwords differ."))
        return value


class ChangePasswordForm(ResetPasswordForm):
    current_password: Annotated[str, Field(min_length=1, max_length=MAX_LENGTH)]


class ProfileForm(Form):
    display_name: Annotated[str, Field(min_length=1, max_length=120)]
    locale: Annotated[str | None, Optional] = None

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and value not in LOCALES:
            raise ValueError(N_("Choose one of the offered languages."))
        return value


class ApiTokenForm(Form):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    expires_in_days: Annotated[Annotated[int, Field(ge=1, le=3650)] | None, Optional] = None


class NewUser(Form):
    """An account created by an administrator; the person sets a password through the e-mailed link."""

    email: Email
    display_name: Annotated[str, Field(min_length=1, max_length=120)]

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return _check_email(value)


def _split_modules(value: Any) -> Any:
    if isinstance(value, str):
        return [slug.strip() for slug in value.split(",") if slug.strip()]
    return value


class GrantInput(Form):
    """A role to give: a city for a contributor or the mayor's office, a module for a reviewer."""

    role: CoreRole
    city_id: Annotated[UUID | None, Optional, Field(validate_default=True)] = None
    module: Annotated[Annotated[str, Field(max_length=40)] | None, Optional, Field(validate_default=True)] = None
    modules: Annotated[list[Annotated[str, Field(max_length=40)]], BeforeValidator(_split_modules)] = []

    @field_validator("city_id")
    @classmethod
    def _city_for_city_roles(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        role = info.data.get("role")
        if role in ("contributor", "mayors_office") and value is None:
            raise ValueError(N_("This role is given for one city: enter the city's id."))
        if role in ("admin", "reviewer") and value is not None:
            raise ValueError(N_("This role is not tied to a city: leave the city empty."))
        return value

    @field_validator("module")
    @classmethod
    def _module_for_reviewers(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if role == "reviewer" and value is None:
            raise ValueError(N_("A reviewer reviews one module: enter its slug."))
        if role != "reviewer" and value is not None:
            raise ValueError(N_("Only reviewers are given a module."))
        return value

    @field_validator("modules")
    @classmethod
    def _modules_for_contributors(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if value and info.data.get("role") != "contributor":
            raise ValueError(N_("Only contributors are limited to some modules."))
        return value


# -- answers ----------------------------------------------------------------------------------------


class GrantOut(BaseModel):
    id: UUID | None = None
    role: CoreRole
    city_id: UUID | None = None
    module: str | None = None
    modules: list[str] = []


class Me(BaseModel):
    user_id: UUID
    email: str
    display_name: str
    locale: str | None
    is_admin: bool
    grants: list[GrantOut]


class UserOut(BaseModel):
    id: UUID
    email: str
    display_name: str
    locale: str | None
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    grants: list[GrantOut]


class UserList(BaseModel):
    items: list[UserOut]
    total: int
    page: int
    size: int
