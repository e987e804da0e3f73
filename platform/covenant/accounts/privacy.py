"""Personal data (GDPR): what the platform holds about a person, its export (art. 15 and 20), its erasure
(art. 17), and the records of processing (art. 30).

The core cannot know every module's tables, so the search is driven by the schema itself: every column that
references an account, and every column holding an e-mail address. A module adding a table with personal
data is therefore exported and erased without code here; it only has to be documented in
:data:`PURPOSES` (a test fails until it is).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Column, String, Table, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts import services
from covenant.accounts.identity import Identity
from covenant.accounts.models import ApiToken, LoginAttempt, PasswordReset, RoleGrant, SignInSession, User
from covenant.audit import record
from covenant.audit.models import AuditEntry
from covenant.db import metadata
from covenant.i18n import N_

ERASED_NAME = N_("Erased user")
ERASED = "erased"
"""What replaces a personal value inside the audit trail's before/after records."""
USER_TABLE = "account_user"
EMAIL_COLUMNS = ("email", "contact_email", "to_address", "actor_email")
PERSONAL_KEYS = frozenset({"email", "display_name", "contact_email", "contact_name", "to", "to_address"})
"""Keys of the audit trail's before/after records that hold a person's details."""
ACCOUNT_TABLES = frozenset(
    {"account_user", "account_grant", "account_session", "account_api_token", "account_password_reset"}
)


class ErasureRefused(ValueError):
    pass


def erased_email(user_id: UUID) -> str:
    return f"erased-{user_id.hex}@erased.invalid"


# -- where personal data lives ----------------------------------------------------------------------


def user_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` that reference an account."""
    return [
        column
        for column in table.columns
        if any(fk.target_fullname == f"{USER_TABLE}.id" for fk in column.foreign_keys)
    ]


def email_columns(table: Table) -> list[Column[Any]]:
    return [column for column in table.columns if column.name in EMAIL_COLUMNS]


def personal_tables() -> dict[str, list[str]]:
    """Every table holding personal data, with the columns that make it so (found in the schema)."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        columns = [c.name for c in user_columns(table) + email_columns(table)]
        columns += [c.name for c in table.columns if c.name in ("ip", "user_agent", "display_name")]
        if table.name == USER_TABLE or columns:
            found[table.name] = sorted(set(columns))
    return found


@dataclass(frozen=True)
class Purpose:
    what: str
    why: str
    basis: str
    kept: str


_CONTRACT = N_("Running the service the person's city joined (GDPR art. 6(1)(b) and (e))")
_SECURITY = N_("Security of the service (GDPR art. 6(1)(f) and art. 32)")
_TASK = N_("The Covenant's task in the public interest (GDPR art. 6(1)(e))")

PURPOSES: Mapping[str, Purpose] = {
    "account_user": Purpose(
        N_("E-mail address, name, language, last sign-in"),
        N_("The person's account"),
        _CONTRACT,
        N_("Until the account is erased"),
    ),
    "account_grant": Purpose(N_("Roles held"), N_("Authorisation"), _CONTRACT, N_("Until revoked or erased")),
    "account_session": Purpose(
        N_("Session, IP address, browser"),
        N_("Keeping the person signed in; showing them their devices"),
        _SECURITY,
        N_("8 hours idle, 7 days at most; purged daily"),
    ),
    "account_api_token": Purpose(N_("Token names and use"), N_("API access"), _CONTRACT, N_("Until revoked or erased")),
    "account_password_reset": Purpose(
        N_("Reset links sent"), N_("Password reset"), _SECURITY, N_("1 hour; purged daily")
    ),
    "account_login_attempt": Purpose(
        N_("Failed sign-ins: e-mail address and IP address"),
        N_("Slowing down password guessing"),
        _SECURITY,
        N_("1 day"),
    ),
    "audit_entry": Purpose(
        N_("Who changed what, when, from which IP address"),
        N_("Accountability of changes to cities' records"),
        _TASK,
        N_("As long as the records; an erased person appears as an erased user"),
    ),
    "mail_message": Purpose(
        N_("E-mails sent: address and content"), N_("Notifications"), _CONTRACT, N_("Until the person is erased")
    ),
    "calendar_feed_token": Purpose(
        N_("Secret calendar address"), N_("Personal calendar feed"), _CONTRACT, N_("Until regenerated or erased")
    ),
    "city": Purpose(
        N_("Name and e-mail address of the city's contact person"),
        N_("Contacting the city"),
        _TASK,
        N_("While the city is in the registry"),
    ),
    "city_membership": Purpose(
        N_("Applicant, mayor, contact person"),
        N_("Membership of the Covenant"),
        _TASK,
        N_("While the city is a member, then archived"),
    ),
    "convention_registration": Purpose(
        N_("Delegates' names, e-mail addresses and roles"),
        N_("Organising the convention"),
        _CONTRACT,
        N_("Until the person is erased"),
    ),
    "commitment_progress_update": Purpose(
        N_("Author of a progress report"), N_("Accountability of reports"), _TASK, N_("As long as the report")
    ),
    "funding_cosignature": Purpose(
        N_("Who co-signed an advocacy document"), N_("Advocacy"), _TASK, N_("As long as the document")
    ),
    "ai_review_technology": Purpose(
        N_("Reviewer of a technology"), N_("Accountability of reviews"), _TASK, N_("As long as the entry")
    ),
    "training_participant": Purpose(
        N_("Trainees' names and e-mail addresses, personal questionnaire links"),
        N_("Running pilot trainings and their evaluation"),
        _TASK,
        N_("Links expire 60 days after the session; names until the person is erased"),
    ),
    "training_self_assessment": Purpose(
        N_("A person's self-assessment of their competences"),
        N_("Learning plans"),
        _CONTRACT,
        N_("Until the person is erased; only aggregates leave it"),
    ),
    "cohesion_swot_vote": Purpose(
        N_("Who voted for an entry"), N_("One vote per person"), _TASK, N_("As long as the board")
    ),
    "practices_fiche": Purpose(
        N_("Reviewer of a fiche"), N_("Accountability of reviews"), _TASK, N_("As long as the fiche")
    ),
    "practices_review_comment": Purpose(
        N_("Author of a review comment"), N_("Review of fiches"), _TASK, N_("As long as the fiche")
    ),
    "assessment_response": Purpose(
        N_("Who submitted a self-assessment"), N_("The yearly self-assessment"), _TASK, N_("As long as the year")
    ),
    "assessment_feedback": Purpose(
        N_("Author of feedback on an assessment"), N_("The yearly self-assessment"), _TASK, N_("As long as the year")
    ),
    "assessment_framework_version": Purpose(
        N_("Who published a framework version"), N_("Accountability of changes"), _TASK, N_("As long as the version")
    ),
    "assessment_sharing": Purpose(
        N_("Who decided to share an assessment"), N_("Accountability of decisions"), _TASK, N_("As long as the year")
    ),
    "monitoring_delay_request": Purpose(
        N_("Who asked for a delay and who decided"),
        N_("The yearly monitoring cycle"),
        _TASK,
        N_("As long as the cycle"),
    ),
    "monitoring_notice": Purpose(
        N_("Who confirmed a notice"), N_("The yearly monitoring cycle"), _TASK, N_("As long as the cycle")
    ),
    "monitoring_report": Purpose(
        N_("Who published the report"), N_("The yearly monitoring report"), _TASK, N_("As long as the report")
    ),
    "monitoring_section": Purpose(
        N_("Who validated a city's section"), N_("The yearly monitoring cycle"), _TASK, N_("As long as the cycle")
    ),
}


# -- export -----------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "token", "nonce"})
"""Never exported: knowing them would let the file's reader act as the person."""


def _row(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(name): _plain(value) for name, value in mapping.items() if name not in SECRET_COLUMNS}


async def export(session: AsyncSession, user: User) -> dict[str, Any]:
    """Everything held about ``user``, as JSON-ready data: the account and, table by table, every row that
    references them or holds their e-mail address (secrets such as password hashes left out)."""
    data: dict[str, Any] = {
        "format": "covenant-personal-data/1",
        "exported_at": services.now().isoformat(),
        "account": _row({c.key: getattr(user, c.key) for c in User.__mapper__.column_attrs}),
        "records": {},
    }
    records: dict[str, list[dict[str, Any]]] = data["records"]
    for table in metadata.sorted_tables:
        if table.name == USER_TABLE:
            continue
        conditions = [column == user.id for column in user_columns(table)]
        conditions += [column == user.email for column in email_columns(table)]
        if table.name == "audit_entry":
            conditions.append(table.c.actor_id == user.id)
            conditions.append((table.c.entity_type == "user") & (table.c.entity_id == str(user.id)))
        if not conditions:
            continue
        rows = (await session.execute(select(table).where(or_(*conditions)))).mappings().all()
        if rows:
            records[table.name] = [_row(dict(row)) for row in rows]
    return data


def export_json(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True).encode()


# -- erasure ----------------------------------------------------------------------------------------


def _scrub(value: Any, secrets: Iterable[str]) -> Any:
    """The audit record with the person's details replaced (by key, and wherever their address appears)."""
    if isinstance(value, dict):
        return {
            k: ERASED if k in PERSONAL_KEYS and v not in (None, "") else _scrub(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret and secret in value:
                value = value.replace(secret, ERASED)
        return value
    return value


async def erase(session: AsyncSession, user: User, *, actor: Identity | UUID | None) -> None:
    """Remove or pseudonymise everything personal about ``user``; keep what the cities' records and the
    audit trail need, pointing at an account that now reads "Erased user".

    - the account: e-mail address and name replaced, password, language and last sign-in removed, disabled;
    - sessions, API tokens, reset links, roles and failed sign-ins: deleted (the person is signed out);
    - e-mails sent to them: deleted;
    - rows of any table holding their e-mail address: the address replaced (and a name beside it);
    - rows referencing the account (authors, reviewers, voters): kept, so the cities' records stay whole,
      with a copied author name replaced;
    - the audit trail: kept; their address and IP address removed from the entries they made, their details
      replaced inside the records of changes.
    """
    if user.erased_at is not None:
        return
    if any(g.role == "admin" for g in user.grants):
        others = await session.scalar(
            select(RoleGrant.id).where(RoleGrant.role == "admin", RoleGrant.user_id != user.id).limit(1)
        )
        if others is None:
            raise ErasureRefused(N_("The last administrator cannot be erased: make someone else one first."))
    email, name, user_id = user.email, user.display_name, user.id
    pseudonym = erased_email(user_id)
    for model in (SignInSession, ApiToken, PasswordReset):
        await session.execute(delete(model).where(model.user_id == user_id))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    for table in metadata.sorted_tables:
        if table.name in ACCOUNT_TABLES:
            continue
        if table.name == "mail_message":
            await session.execute(delete(table).where(table.c.to_address == email))
            continue
        if table.name == "audit_entry":
            continue
        for column in email_columns(table):
            values: dict[str, Any] = {column.name: pseudonym}
            prefix = column.name.removesuffix("email")
            for other in (f"{prefix}name", "name", "display_name"):
                if other in table.c and isinstance(table.c[other].type, String) and other != column.name:
                    values[other] = ERASED_NAME
                    break
            await session.execute(update(table).where(column == email).values(values))
        for column in user_columns(table):
            name_column = column.name.removesuffix("_id") + "_name"
            if name_column in table.c:
                await session.execute(update(table).where(column == user_id).values({name_column: ERASED_NAME}))
    record(session, actor=actor, action="user.erased", entity_type="user", entity_id=user_id)
    await session.flush()
    await _scrub_audit(session, user_id, (email, name))
    user.email, user.display_name = pseudonym, ERASED_NAME
    user.password_hash = user.locale = user.last_login_at = None
    user.is_active = False
    user.erased_at = services.now()
    user.grants.clear()  # the roles go with the account's use (delete-orphan)
    await session.flush()


async def _scrub_audit(session: AsyncSession, user_id: UUID, secrets: tuple[str, str]) -> None:
    email = secrets[0]
    # The log names who acted by address: an erased person's entries name them "Erased user" instead.
    await session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user_id).values(actor_email=ERASED_NAME, ip=None)
    )
    about = or_(
        (AuditEntry.entity_type == "user") & (AuditEntry.entity_id == str(user_id)),
        cast(AuditEntry.before, String).contains(email),
        cast(AuditEntry.after, String).contains(email),
    )
    for entry in await session.scalars(select(AuditEntry).where(about)):
        # An entry naming their address names them: their name goes too, wherever it appears in it.
        entry.before = _scrub(entry.before, secrets) if entry.before else entry.before
        entry.after = _scrub(entry.after, secrets) if entry.after else entry.after
