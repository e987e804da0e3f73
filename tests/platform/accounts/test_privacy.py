"""GDPR: a person downloads everything held about them and erases it; the cities' records and the audit
trail stay whole (showing "Erased user"); what expires is purged; the records of processing list every
table holding personal data."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import JSON, String, Text, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from covenant.accounts import privacy, retention, services
from covenant.accounts.identity import Identity
from covenant.accounts.models import ApiToken, LoginAttempt, PasswordReset, SignInSession, User
from covenant.app import create_app
from covenant.audit.models import AuditEntry
from covenant.calendar import services as calendar
from covenant.calendar.schemas import EditionForm, RegistrationForm
from covenant.config import Settings
from covenant.db import metadata, transaction
from covenant.plugins import ModuleRegistry
from covenant.scheduler import Scheduler
from modules.practices import services as practices
from modules.practices.plugin import module as practices_module
from modules.practices.schemas import ReviewInput
from modules.training import services as training
from modules.training.models import Participant
from modules.training.plugin import module as training_module
from modules.training.schemas import CurriculumInput, SessionInput
from tests.fixtures.web import DEFAULT_PASSWORD, csrf_headers, sign_in
from tests.modules.practices.conftest import add_city, fiche_fields
from tests.platform.security.crawl import all_modules

Client = AsyncTestClient[Litestar]
MakeUser = Callable[..., Awaitable[Any]]
NAME = "Zanzibar Quokka"
EMAIL = "zanzibar.quokka@nice.example"


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, ModuleRegistry([practices_module, training_module]), embedded_worker=False)


async def a_life_on_the_platform(sessions: async_sessionmaker[AsyncSession], make_user: MakeUser) -> dict[str, Any]:
    """The person reviews fiches, registers as a delegate, gets mail, signs in: traces in many tables."""
    city = await add_city(sessions, "Nice", "FR", 342_000)
    user = await make_user(EMAIL, display_name=NAME, roles=[("reviewer", {"module": "practices"})])
    await make_user("admin@city.eu", roles=[("admin", {})])
    me = Identity(user_id=user.id, email=EMAIL, display_name=NAME)
    async with transaction(sessions) as session:
        fiche = await practices.create_fiche(
            session, city, practices.FicheInput.model_validate(fiche_fields()), actor=None
        )
        await practices.submit_fiche(session, fiche, actor=None)
        await practices.review_fiche(session, fiche, ReviewInput(decision="comment", body="Add a photo."), actor=me)
        edition = await calendar.create_edition(
            session,
            EditionForm(
                year=2030,
                title="Convention 2030",
                starts_on=date(2030, 6, 1),
                ends_on=date(2030, 6, 2),
                status="registration_open",
                capacity=10,
            ),
            actor=None,
        )
        await calendar.register_delegate(
            session, edition, city, RegistrationForm(name=NAME, email=EMAIL, role="Deputy mayor"), actor=me
        )
        await services.request_password_reset(session, email=EMAIL, base_url="http://x")
    return {"user": user, "city": city, "fiche": fiche.id}


async def test_a_person_downloads_everything_held_about_them(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    life = await a_life_on_the_platform(sessions, make_user)
    await sign_in(client, EMAIL)
    await client.post("/account/tokens", data={"name": "my script"}, headers=csrf_headers(client))
    async with transaction(sessions) as session:
        session.add(LoginAttempt(email=EMAIL, ip="203.0.113.9", at=services.now()))
    response = await client.get("/account/data.json")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["account"]["email"] == EMAIL
    assert data["account"]["display_name"] == NAME
    assert "password_hash" not in data["account"]
    records = data["records"]
    assert records["account_grant"][0]["module"] == "practices"
    assert records["account_session"][0]["user_agent"]
    assert records["account_api_token"][0]["name"] == "my script"
    assert all("token_hash" not in row for row in records["account_api_token"])
    assert records["account_password_reset"]
    assert records["account_login_attempt"][0]["ip"] == "203.0.113.9"
    assert records["convention_registration"][0]["name"] == NAME
    assert records["practices_review_comment"][0]["body"] == "Add a photo."
    assert records["practices_fiche"][0]["id"] == str(life["fiche"])  # they reviewed it
    assert records["mail_message"]  # the reset link
    assert any(row["action"] == "api_token.created" for row in records["audit_entry"])
    # Only their own: another person's download holds none of this.
    client.cookies.clear()
    await sign_in(client, "admin@city.eu")
    other = (await client.get("/account/data.json")).json()
    assert EMAIL not in json.dumps(other)


async def personal_traces(sessions: async_sessionmaker[AsyncSession], *needles: str) -> list[str]:
    """Every (table.column) where one of ``needles`` still appears, in any text or JSON column."""
    found = []
    async with sessions() as session:
        for table in metadata.sorted_tables:
            exists = await session.scalar(
                text("SELECT 1 FROM information_schema.tables WHERE table_name = :t")
                if session.bind.dialect.name == "postgresql"  # type: ignore[union-attr]
                else text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :t"),
                {"t": table.name},
            )
            if not exists:
                continue
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON) and "JSON" not in type(column.type).__name__:
                    continue
                for needle in needles:
                    hit = await session.scalar(
                        select(func.count()).select_from(table).where(column.cast(String).contains(needle))
                    )
                    if hit:
                        found.append(f"{table.name}.{column.name}")
    return found


async def test_erasure_removes_the_person_and_keeps_the_records(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    life = await a_life_on_the_platform(sessions, make_user)
    cookie = (await sign_in(client, EMAIL)).cookies[services.SESSION_COOKIE]
    async with transaction(sessions) as session:
        session.add(LoginAttempt(email=EMAIL, ip="203.0.113.9", at=services.now()))
    assert await personal_traces(sessions, EMAIL, NAME)
    refused = await client.post(
        "/account/erase", data={"password": "wrong one", "confirm": "ERASE"}, headers=csrf_headers(client)
    )
    assert refused.status_code == 422
    assert "This is not your current password." in refused.text
    erased = await client.post(
        "/account/erase",
        data={"password": DEFAULT_PASSWORD, "confirm": "erase"},
        headers=csrf_headers(client),
        follow_redirects=False,
    )
    assert erased.status_code == 303
    # Gone everywhere: no table holds their address or their name any more.
    assert await personal_traces(sessions, EMAIL, NAME) == []
    # Signed out for good.
    client.cookies.set(services.SESSION_COOKIE, cookie)
    assert (await client.get("/api/v1/me")).status_code == 401
    client.cookies.clear()
    assert (await sign_in(client, EMAIL)).status_code == 400
    async with sessions() as session:
        user = await session.get(User, life["user"].id)
        assert user is not None
        assert user.erased_at is not None
        assert (user.email, user.display_name, user.password_hash, user.is_active) == (
            privacy.erased_email(user.id),
            privacy.ERASED_NAME,
            None,
            False,
        )
        for model in (SignInSession, ApiToken, PasswordReset):
            assert await session.scalar(select(func.count()).select_from(model).where(model.user_id == user.id)) == 0
        # The city's records stay whole and point at the erased account.
        comment = (await practices.comments_of(session, life["fiche"]))[0]
        assert (comment.author_id, comment.author_name, comment.body) == (user.id, privacy.ERASED_NAME, "Add a photo.")
        fiche = await practices.get_fiche(session, life["fiche"])
        assert fiche is not None
        assert fiche.reviewer_id == user.id
        # The audit trail keeps every entry they made, now naming an erased user.
        theirs = list(await session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id)))
        assert {e.action for e in theirs} >= {"practices.fiche_in_review", "user.erased"}
        assert {e.actor_email for e in theirs} == {privacy.ERASED_NAME}
    await sign_in(client, "admin@city.eu")
    log = await client.get(f"/admin/audit?actor={user.id}")
    assert privacy.ERASED_NAME in log.text
    assert EMAIL not in log.text


async def test_an_admin_erases_on_request_but_never_the_last_admin(
    client: Client, make_user: MakeUser, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person = await make_user(EMAIL, display_name=NAME)
    admin = await make_user("admin@city.eu", roles=[("admin", {})])
    await sign_in(client, "admin@city.eu")
    response = await client.post(
        f"/admin/users/{person.id}/erase", headers=csrf_headers(client), follow_redirects=False
    )
    assert response.status_code == 303
    assert "erased on" in (await client.get(f"/admin/users/{person.id}")).text
    last = await client.post(f"/admin/users/{admin.id}/erase", headers=csrf_headers(client))
    assert last.status_code == 409
    assert "last administrator" in last.text
    async with sessions() as session:
        assert (await session.get(User, admin.id)).erased_at is None  # type: ignore[union-attr]


async def test_expired_secrets_are_purged_by_the_scheduled_job(
    sessions: async_sessionmaker[AsyncSession], make_user: MakeUser
) -> None:
    user = await make_user("a@city.eu")
    long_ago = services.now() - timedelta(days=200)
    async with transaction(sessions) as session:
        fresh = await services.start_session(session, await session.get(User, user.id), ip=None, user_agent=None)  # type: ignore[arg-type]
        for token_hash, seen in (("idle", services.now() - timedelta(hours=9)), ("old", long_ago)):
            session.add(
                SignInSession(
                    token_hash=token_hash,
                    user_id=user.id,
                    created_at=long_ago,
                    last_seen_at=seen,
                    expires_at=services.now() + timedelta(days=1),
                )
            )
        session.add(
            PasswordReset(
                user_id=user.id, token_hash="expired", created_at=long_ago, expires_at=long_ago + timedelta(hours=1)
            )
        )
        session.add(LoginAttempt(email="a@city.eu", ip="x", at=long_ago))
        session.add(ApiToken(user_id=user.id, name="old", token_hash="t", prefix="cov_", revoked_at=long_ago))
    ran = await Scheduler(sessions, [retention.RETENTION_JOB]).run_due()
    assert ran == ["accounts.purge_expired"]
    async with sessions() as session:
        remaining = list(await session.scalars(select(SignInSession.token_hash)))
        assert remaining == [services.digest(fresh)]
        for model in (PasswordReset, LoginAttempt, ApiToken):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
    async with transaction(sessions) as session:
        assert await retention.purge_expired(session) == dict.fromkeys(
            ("sessions", "password_resets", "login_attempts", "api_tokens"), 0
        )


async def test_questionnaire_links_expire(sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
    city = await add_city(sessions, "Nice", "FR", 342_000)
    async with transaction(sessions) as session:
        await training.ensure_matrix(session)
        curriculum = await training.create_curriculum(
            session, city, CurriculumInput(title="Prevention", target_groups=["local_police"]), actor=None
        )
        ts = await training.create_session(
            session,
            city,
            SessionInput(
                curriculum_id=curriculum.id,
                title="Pilot",
                starts_on=date(2026, 1, 5),
                ends_on=date(2026, 1, 6),
                place="Hall",
            ),
            actor=None,
        )
        fresh = await training.register_participant(session, ts, name="Fresh", actor=None)
        stale = await training.register_participant(session, ts, name="Stale", actor=None)
        stale_token = stale.token
    async with transaction(sessions) as session:
        await session.execute(
            update(Participant)
            .where(Participant.id == stale.id)
            .values(created_at=datetime.now(UTC) - training.LINK_LIFETIME - timedelta(days=1))
        )
    assert (await client.get(f"/m/training/q/{fresh.token}")).status_code == 200
    assert (await client.get(f"/m/training/q/{stale_token}")).status_code == 404
    job = next(job for job in training_module.scheduled_jobs if job.name == "training.expire_links")
    assert await Scheduler(sessions, [job]).run_due() == ["training.expire_links"]
    async with sessions() as session:
        tokens = dict((await session.execute(select(Participant.name, Participant.token))).all())
    assert tokens["Fresh"] == fresh.token
    assert tokens["Stale"] != stale_token
    assert tokens["Stale"].startswith(training.EXPIRED_PREFIX)


def test_the_records_of_processing_document_every_table_with_personal_data() -> None:
    for module in all_modules():
        module.import_models()
    undocumented = sorted(set(privacy.personal_tables()) - set(privacy.PURPOSES))
    assert not undocumented, f"tables holding personal data with no purpose in privacy.PURPOSES: {undocumented}"


async def test_the_records_of_processing_page(client: Client, make_user: MakeUser) -> None:
    await make_user("admin@city.eu", roles=[("admin", {})])
    assert (await client.get("/admin/privacy", follow_redirects=False)).status_code == 303
    await sign_in(client, "admin@city.eu")
    page = await client.get("/admin/privacy")
    assert page.status_code == 200
    for table in (
        "account_user",
        "account_session",
        "audit_entry",
        "convention_registration",
        "practices_review_comment",
    ):
        assert f"<code>{table}</code>" in page.text
    assert "Not documented yet" not in page.text
