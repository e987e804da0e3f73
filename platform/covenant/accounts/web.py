"""Sign-in, sign-out, password reset, the account page with API tokens, user administration, and the
JSON API for the current identity and the users. Also the security plumbing the app factory mounts:
middleware, CSRF configuration and flash messages."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Litestar, Request, Response, get, post
from litestar.config.app import AppConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.params import Parameter
from litestar.plugins import InitPluginProtocol
from litestar.plugins.flash import FlashConfig, FlashPlugin, flash
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.accounts import passwords, privacy, services
from covenant.accounts.guards import admin_only, identity_of, signed_in
from covenant.accounts.identity import Identity
from covenant.accounts.middleware import SESSION_HASH_KEY, DocsPolicyMiddleware, IdentityMiddleware, SecurityHeaders
from covenant.accounts.models import RoleGrant, User
from covenant.accounts.permissions import ROLE_LABELS, ROLES
from covenant.accounts.schemas import (
    LOCALES,
    ApiTokenForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    GrantInput,
    GrantOut,
    Me,
    NewUser,
    ProfileForm,
    ResetPasswordForm,
    SignInForm,
    UserList,
    UserOut,
)
from covenant.audit import record
from covenant.audit import web as audit_web
from covenant.config import Settings
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.notifications import web as mailbox_web
from covenant.web.errors import document_problems
from covenant.web.forms import FormData, page, see_other, settings_of, validate_form
from covenant.web.pagination import Page, clamp

AnyRequest = Request[Any, Any, Any]


# -- helpers ----------------------------------------------------------------------------------------


def client_address(request: AnyRequest) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Only paths on this site, so the sign-in form cannot be used to bounce people elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def with_session_cookie(response: Response[Any], settings: Settings, token: str) -> Response[Any]:
    response.set_cookie(
        services.SESSION_COOKIE,
        services.sign(token, settings.resolved_secret_key()),
        max_age=int(services.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=settings.https,
        samesite="lax",
    )
    return response


def without_session_cookie(response: Response[Any]) -> Response[Any]:
    response.delete_cookie(services.SESSION_COOKIE)
    return response


async def current_user(db_session: AsyncSession, identity: Identity) -> User:
    user = await db_session.get(User, identity.user_id) if identity.user_id else None
    if user is None:
        raise NotFoundException(_("This account no longer exists."))
    return user


# -- signing in and out -----------------------------------------------------------------------------

SIGN_IN_FAILED = N_("The e-mail address or the password is not right.")
TOO_MANY_ATTEMPTS = N_("Too many sign-in attempts. Wait a few minutes, then try again.")


@get("/login", name="accounts:login", include_in_schema=False)
async def login_form(request: AnyRequest, next_: Annotated[str | None, Parameter(query="next")] = None) -> Any:
    if identity_of(request).is_authenticated:
        return Redirect(safe_next(next_), status_code=303)
    return page("accounts/login.html", values={"next": safe_next(next_)}, errors={})


@post("/login", name="accounts:login_submit", include_in_schema=False)
async def login(request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
    values = {"email": data.get("email", ""), "next": safe_next(data.get("next"))}
    form, errors = validate_form(SignInForm, data)
    if form is None:
        return page("accounts/login.html", 422, values=values, errors=errors)
    settings = settings_of(request)
    ip = client_address(request)
    wait = await services.sign_in_wait(
        db_session, email=form.email, ip=ip, per_minute=settings.login_attempts_per_minute
    )
    if wait:
        return page(
            "accounts/login.html",
            429,
            headers={"Retry-After": str(wait)},
            values=values,
            errors={},
            problem=_(TOO_MANY_ATTEMPTS),
        )
    user = await services.authenticate(db_session, email=form.email, password=form.password)
    if user is None:
        await services.record_failed_attempt(request.app.state.sessions, email=form.email, ip=ip)
        return page("accounts/login.html", 400, values=values, errors={}, problem=_(SIGN_IN_FAILED))
    token = await services.start_session(
        db_session,
        user,
        ip=ip,
        user_agent=request.headers.get("user-agent"),
        replacing=request.scope.get(SESSION_HASH_KEY),  # type: ignore[arg-type]
    )
    flash(request, _("You are signed in."), "success")
    return with_session_cookie(await see_other(db_session, values["next"]), settings, token)


@post("/logout", name="accounts:logout", include_in_schema=False)
async def logout(request: AnyRequest, db_session: AsyncSession) -> Any:
    token_hash = request.scope.get(SESSION_HASH_KEY)
    if isinstance(token_hash, str):
        await services.end_session(db_session, token_hash)
    flash(request, _("You are signed out."), "success")
    return without_session_cookie(await see_other(db_session, "/"))


@post("/logout/everywhere", name="accounts:logout_everywhere", guards=[signed_in], include_in_schema=False)
async def logout_everywhere(request: AnyRequest, db_session: AsyncSession) -> Any:
    user_id = identity_of(request).user_id
    assert user_id is not None  # the guard let only signed-in users through
    await services.end_all_sessions(db_session, user_id)
    flash(request, _("You are signed out on every device."), "success")
    return without_session_cookie(await see_other(db_session, "/login"))


# -- password reset ---------------------------------------------------------------------------------

RESET_SENT = N_(
    "If an account uses this address, we have sent it a link to choose a new password. The link works for one hour."
)


@get("/password/forgot", name="accounts:forgot", include_in_schema=False)
async def forgot_form() -> Template:
    return page("accounts/forgot.html", values={}, errors={})


@post("/password/forgot", name="accounts:forgot_submit", include_in_schema=False)
async def forgot(request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
    form, errors = validate_form(ForgotPasswordForm, data)
    if form is None:
        return page("accounts/forgot.html", 422, values=data, errors=errors)
    await services.request_password_reset(db_session, email=form.email, base_url=settings_of(request).base_url)
    flash(request, _(RESET_SENT), "success")
    return await see_other(db_session, "/login")


@get("/password/reset/{token:str}", name="accounts:reset", include_in_schema=False)
async def reset_form(db_session: AsyncSession, token: str) -> Template:
    if await services.valid_reset(db_session, token) is None:
        return page("accounts/reset_invalid.html", 400)
    return page("accounts/reset.html", token=token, errors={})


@post("/password/reset/{token:str}", name="accounts:reset_submit", include_in_schema=False)
async def reset(request: AnyRequest, db_session: AsyncSession, token: str, data: FormData) -> Any:
    reset_row = await services.valid_reset(db_session, token)
    if reset_row is None:
        return page("accounts/reset_invalid.html", 400)
    form, errors = validate_form(ResetPasswordForm, data)
    if form is None:
        return page("accounts/reset.html", 422, token=token, errors=errors)
    owner = await db_session.get(User, reset_row.user_id)
    problem = passwords.policy_problem(form.password, personal=(owner.email, owner.display_name) if owner else ())
    if problem is not None:
        return page("accounts/reset.html", 422, token=token, errors={"password": _(problem)})
    await services.complete_password_reset(db_session, reset_row, form.password)
    flash(request, _("Your password is changed. Sign in with it."), "success")
    return without_session_cookie(await see_other(db_session, "/login"))


# -- the account page -------------------------------------------------------------------------------


async def account_page(
    request: AnyRequest, db_session: AsyncSession, user: User, status_code: int = 200, **context: Any
) -> Template:
    context.setdefault("errors", {})
    return page(
        "accounts/account.html",
        status_code,
        user=user,
        tokens=await services.api_tokens_of(db_session, user.id),
        sessions=await services.sessions_of(db_session, user.id),
        current_session=request.scope.get(SESSION_HASH_KEY),
        locales=LOCALES,
        role_labels=ROLE_LABELS,
        now=services.now(),
        **context,
    )


class AccountController(Controller):
    path = "/account"
    guards = [signed_in]
    include_in_schema = False

    @get("/", name="accounts:account")
    async def show(self, request: AnyRequest, db_session: AsyncSession) -> Template:
        user = await current_user(db_session, identity_of(request))
        return await account_page(request, db_session, user)

    @post("/profile", name="accounts:profile")
    async def profile(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        identity = identity_of(request)
        user = await current_user(db_session, identity)
        form, errors = validate_form(ProfileForm, data)
        if form is None:
            return await account_page(request, db_session, user, 422, errors=errors, profile_values=data)
        await services.update_profile(
            db_session, user, display_name=form.display_name, locale=form.locale, actor=identity
        )
        flash(request, _("Your profile is saved."), "success")
        return await see_other(db_session, "/account")

    @post("/password", name="accounts:password")
    async def password(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        identity = identity_of(request)
        user = await current_user(db_session, identity)
        form, errors = validate_form(ChangePasswordForm, data)
        if form is None:
            return await account_page(request, db_session, user, 422, errors=errors)
        checked = await services.authenticate(db_session, email=user.email, password=form.current_password)
        if checked is None:
            return await account_page(
                request, db_session, user, 422, errors={"current_password": _("This is not your current password.")}
            )
        problem = passwords.policy_problem(form.password, personal=(user.email, user.display_name))
        if problem is not None:
            return await account_page(request, db_session, user, 422, errors={"password": _(problem)})
        # Every session of the account ends, this one included; this browser gets a fresh one, so a session
        # id captured before the change is worthless after it.
        await services.set_password(db_session, user, form.password, actor=identity)
        token = await services.start_session(
            db_session, user, ip=client_address(request), user_agent=request.headers.get("user-agent")
        )
        flash(request, _("Your password is changed. You stay signed in here; other devices are signed out."), "success")
        return with_session_cookie(await see_other(db_session, "/account"), settings_of(request), token)

    @post("/tokens", name="accounts:token_create")
    async def create_token(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Template:
        identity = identity_of(request)
        user = await current_user(db_session, identity)
        form, errors = validate_form(ApiTokenForm, data)
        if form is None:
            return await account_page(request, db_session, user, 422, errors=errors, token_values=data)
        expires_at = services.now() + timedelta(days=form.expires_in_days) if form.expires_in_days else None
        created = await services.create_api_token(
            db_session, user, name=form.name, expires_at=expires_at, actor=identity
        )
        # Rendered rather than redirected: the secret exists only in this response.
        return await account_page(request, db_session, user, 201, new_token=created)

    @get("/data.json", name="accounts:data")
    async def personal_data(self, request: AnyRequest, db_session: AsyncSession) -> Response[bytes]:
        """Everything the platform holds about the signed-in person (GDPR art. 15 and 20)."""
        identity = identity_of(request)
        user = await current_user(db_session, identity)
        data = await privacy.export(db_session, user)
        record(db_session, actor=identity, action="user.data_exported", entity_type="user", entity_id=user.id)
        await db_session.commit()
        return Response(
            privacy.export_json(data),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="covenant-personal-data.json"'},
        )

    @post("/erase", name="accounts:erase")
    async def erase(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        """The person erases their own account (GDPR art. 17), confirming with their password."""
        identity = identity_of(request)
        user = await current_user(db_session, identity)
        errors: dict[str, str] = {}
        if str(data.get("confirm", "")).strip().upper() not in {"ERASE", _("ERASE").upper()}:
            errors["confirm"] = _("Type ERASE to confirm.")
        if await services.authenticate(db_session, email=user.email, password=str(data.get("password", ""))) is None:
            errors["password"] = _("This is not your current password.")
        if not errors:
            try:
                await privacy.erase(db_session, user, actor=identity)
            except privacy.ErasureRefused as exc:
                errors["confirm"] = _(str(exc))
        if errors:
            return await account_page(request, db_session, user, 422, erase_errors=errors)
        flash(request, _("Your account is erased. Goodbye."), "success")
        return without_session_cookie(await see_other(db_session, "/"))

    @post("/tokens/{token_id:uuid}/revoke", name="accounts:token_revoke")
    async def revoke_token(self, request: AnyRequest, db_session: AsyncSession, token_id: UUID) -> Redirect:
        identity = identity_of(request)
        assert identity.user_id is not None
        if await services.revoke_api_token(db_session, identity.user_id, token_id, actor=identity):
            flash(request, _("The token is revoked; it no longer opens the API."), "success")
        return await see_other(db_session, "/account")


# -- user administration ----------------------------------------------------------------------------


async def load_user(db_session: AsyncSession, user_id: UUID) -> User:
    user = await db_session.get(User, user_id)
    if user is None:
        raise NotFoundException(_("No such user."))
    return user


class UserAdministration(Controller):
    path = "/admin/users"
    guards = [admin_only]
    include_in_schema = False

    async def _list(
        self, db_session: AsyncSession, q: str, number: int, status_code: int = 200, **context: Any
    ) -> Template:
        number, size = clamp(number, None)
        users, total = await services.search_users(db_session, query=q, offset=(number - 1) * size, limit=size)
        context.setdefault("errors", {})
        context.setdefault("values", {})
        return page(
            "accounts/admin_users.html",
            status_code,
            users=Page(users, total, number, size),
            q=q,
            role_labels=ROLE_LABELS,
            **context,
        )

    @get("/", name="accounts:admin_users")
    async def index(
        self, db_session: AsyncSession, q: str = "", number: Annotated[int, Parameter(query="page", ge=1)] = 1
    ) -> Template:
        return await self._list(db_session, q, number)

    @post("/", name="accounts:admin_user_create")
    async def create(self, request: AnyRequest, db_session: AsyncSession, data: FormData) -> Any:
        form, errors = validate_form(NewUser, data)
        if form is None:
            return await self._list(db_session, "", 1, 422, errors=errors, values=data)
        try:
            user = await invite(request, db_session, form)
        except services.EmailTaken as exc:
            return await self._list(db_session, "", 1, 422, errors={"email": str(exc)}, values=data)
        flash(request, _("The account is created and an e-mail invites its owner to choose a password."), "success")
        return await see_other(db_session, f"/admin/users/{user.id}")

    async def _detail(self, db_session: AsyncSession, user: User, status_code: int = 200, **context: Any) -> Template:
        context.setdefault("errors", {})
        context.setdefault("values", {})
        return page("accounts/admin_user.html", status_code, user=user, roles=ROLES, role_labels=ROLE_LABELS, **context)

    @get("/{user_id:uuid}", name="accounts:admin_user")
    async def detail(self, db_session: AsyncSession, user_id: UUID) -> Template:
        return await self._detail(db_session, await load_user(db_session, user_id))

    @post("/{user_id:uuid}/grants", name="accounts:admin_grant")
    async def grant(self, request: AnyRequest, db_session: AsyncSession, user_id: UUID, data: FormData) -> Any:
        user = await load_user(db_session, user_id)
        form, errors = validate_form(GrantInput, data)
        if form is None:
            return await self._detail(db_session, user, 422, errors=errors, values=data)
        await services.grant_role(
            db_session,
            user,
            role=form.role,
            city_id=form.city_id,
            module=form.module,
            modules=form.modules,
            actor=identity_of(request),
        )
        flash(request, _("The role is granted."), "success")
        return await see_other(db_session, f"/admin/users/{user.id}")

    @post("/{user_id:uuid}/grants/{grant_id:uuid}/revoke", name="accounts:admin_revoke")
    async def revoke(self, request: AnyRequest, db_session: AsyncSession, user_id: UUID, grant_id: UUID) -> Any:
        user = await load_user(db_session, user_id)
        if await services.revoke_grant(db_session, user, grant_id, actor=identity_of(request)):
            flash(request, _("The role is revoked."), "success")
        return await see_other(db_session, f"/admin/users/{user.id}")

    @post("/{user_id:uuid}/erase", name="accounts:admin_erase")
    async def erase(self, request: AnyRequest, db_session: AsyncSession, user_id: UUID) -> Any:
        """Erase a person's data on their request (GDPR art. 17)."""
        user = await load_user(db_session, user_id)
        try:
            await privacy.erase(db_session, user, actor=identity_of(request))
        except privacy.ErasureRefused as exc:
            return await self._detail(db_session, user, 409, errors={"erase": _(str(exc))})
        flash(request, _("The person's data is erased."), "success")
        return await see_other(db_session, f"/admin/users/{user.id}")


@get("/admin/privacy", name="accounts:privacy_records", guards=[admin_only], include_in_schema=False)
async def privacy_records() -> Template:
    """The records of processing (GDPR art. 30), drawn from the schema and documented in ``privacy.PURPOSES``."""
    records = [
        {"table": table, "columns": columns, "purpose": privacy.PURPOSES.get(table)}
        for table, columns in privacy.personal_tables().items()
    ]
    return page("accounts/privacy_records.html", records=records)


async def invite(request: AnyRequest, db_session: AsyncSession, form: NewUser) -> User:
    """Create the account and mail its owner a link to choose a password (the reset flow)."""
    user = await services.create_user(
        db_session, email=form.email, display_name=form.display_name, actor=identity_of(request)
    )
    await services.request_password_reset(db_session, email=user.email, base_url=settings_of(request).base_url)
    return user


# -- JSON API ---------------------------------------------------------------------------------------


def grant_out(grant: RoleGrant) -> GrantOut:
    return GrantOut(
        id=grant.id,
        role=grant.as_grant().role,
        city_id=grant.city_id,
        module=grant.module,
        modules=list(grant.modules or []),
    )


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        locale=user.locale,
        is_active=user.is_active,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        grants=[grant_out(g) for g in user.grants],
    )


@get("/api/v1/me", name="api:me", guards=[signed_in], tags=["Accounts"], cache=False)
async def api_me(request: AnyRequest) -> Me:
    """The identity of the caller (session cookie or ``Authorization: Bearer`` token)."""
    identity = identity_of(request)
    assert identity.user_id is not None
    return Me(
        user_id=identity.user_id,
        email=identity.email,
        display_name=identity.display_name,
        locale=identity.locale,
        is_admin=identity.is_admin,
        grants=[
            GrantOut(role=g.role, city_id=g.city_id, module=g.module, modules=list(g.modules)) for g in identity.grants
        ],
    )


class UsersApi(Controller):
    path = "/api/v1/admin/users"
    guards = [admin_only]
    tags = ["Accounts"]

    @get("/", name="api:users", cache=False)
    async def list_users(
        self,
        db_session: AsyncSession,
        q: str = "",
        number: Annotated[int, Parameter(query="page", ge=1)] = 1,
        size: Annotated[int, Parameter(query="size", ge=1, le=200)] = 25,
    ) -> UserList:
        """Users, searched by e-mail or name, one page at a time."""
        number, size = clamp(number, size)
        users, total = await services.search_users(db_session, query=q, offset=(number - 1) * size, limit=size)
        return UserList(items=[user_out(u) for u in users], total=total, page=number, size=size)

    @post("/", name="api:user_create")
    async def create_user(self, request: AnyRequest, db_session: AsyncSession, data: NewUser) -> UserOut:
        """Create an account; its owner receives a link to choose a password."""
        try:
            user = await invite(request, db_session, data)
        except services.EmailTaken as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        return user_out(user)

    @post("/{user_id:uuid}/grants", name="api:user_grant")
    async def grant(self, request: AnyRequest, db_session: AsyncSession, user_id: UUID, data: GrantInput) -> GrantOut:
        """Give the user a role (same rules as the administration page)."""
        user = await load_user(db_session, user_id)
        grant = await services.grant_role(
            db_session,
            user,
            role=data.role,
            city_id=data.city_id,
            module=data.module,
            modules=data.modules,
            actor=identity_of(request),
        )
        return grant_out(grant)


route_handlers: list[ControllerRouterHandler] = [
    login_form,
    login,
    logout,
    logout_everywhere,
    forgot_form,
    forgot,
    reset_form,
    reset,
    AccountController,
    UserAdministration,
    privacy_records,
    api_me,
    UsersApi,
    *audit_web.route_handlers,
    *mailbox_web.route_handlers,
]


# -- what the app factory mounts --------------------------------------------------------------------


def _derived_key(settings: Settings, purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{settings.resolved_secret_key()}".encode()).digest()


def middleware(settings: Settings) -> list[Any]:
    """Security headers, the flash-message cookie, then the identity — outermost first.

    Flash messages ride in Litestar's encrypted cookie session (they are only ever shown to the browser
    that carries them); who is signed in never does: that is the server-side session of
    :class:`IdentityMiddleware`.
    """
    flashes = CookieBackendConfig(
        secret=_derived_key(settings, "flash"),
        key="covenant_flash",
        httponly=True,
        secure=settings.https,
        samesite="lax",
        max_age=600,
        exclude=["^/static/", "^/health/", "^/metrics"],
    )
    return [
        DocsPolicyMiddleware,
        flashes.middleware,
        DefineMiddleware(IdentityMiddleware, settings=settings),
    ]


def csrf_config(settings: Settings) -> CSRFConfig:
    """Every form carries the token. The JSON API is exempt: there only a Bearer token authorises a
    change (:class:`IdentityMiddleware` ignores the session cookie on unsafe API calls)."""
    return CSRFConfig(
        secret=_derived_key(settings, "csrf").hex(),
        cookie_name="covenant_csrf",
        cookie_secure=settings.https,
        cookie_httponly=False,
        cookie_samesite="lax",
        exclude=["^/api/"],
    )


class AccountsPlugin(InitPluginProtocol):
    """What the accounts add to the app once it is configured: the security headers of every answer (a
    ``before_send`` hook, which also sees the answers no middleware does) and Litestar's flash messages
    (``flash()`` in handlers, ``get_flashes()`` in templates), registered once the template engine exists."""

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = app_config.state.get("settings") if app_config.state else None
        app_config.before_send.append(SecurityHeaders(settings if isinstance(settings, Settings) else Settings()))
        app_config.on_startup.append(_document_problems)
        if app_config.template_config is None:
            return app_config
        return FlashPlugin(FlashConfig(template_config=app_config.template_config)).on_app_init(app_config)


FlashMessages = AccountsPlugin
"""The name the app factory knows it by."""


def _document_problems(app: Litestar) -> None:
    # The served schema is the plugin's cached dict: amended once, at start-up, before anyone reads it.
    from litestar._openapi.plugin import OpenAPIPlugin

    if app.openapi_config is not None:
        document_problems(app.plugins.get(OpenAPIPlugin).provide_openapi_schema())
