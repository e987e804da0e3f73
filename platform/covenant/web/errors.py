"""One place that turns every error into a problem document (API) or an error page (HTML).

Bad input is a 4xx with field messages, never a 500; an unreachable database is a 503 with a retry hint.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.response import Template
from pydantic import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from covenant.db import database_unavailable
from covenant.i18n import N_
from covenant.i18n import gettext as _
from covenant.web.validation import message_for

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

# The titles of the statuses we answer with, for the extraction of the catalogues (translated at render time).
STATUS_TITLES = (
    N_("Bad Request"),
    N_("Unauthorized"),
    N_("Forbidden"),
    N_("Not Found"),
    N_("Method Not Allowed"),
    N_("Conflict"),
    N_("Gone"),
    N_("Request Entity Too Large"),
    N_("Unsupported Media Type"),
    N_("Unprocessable Entity"),
    N_("Too Many Requests"),
    N_("Internal Server Error"),
    N_("Service Unavailable"),
)


def wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/health", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def field_errors_from_pydantic(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": message_for(err)}
        for err in exc.errors(include_url=False)
    ]


def _field_errors_from_litestar(exc: ValidationException) -> list[dict[str, str]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    out = []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            out.append({"field": key, "message": str(item.get("message", ""))})
    return out


def problem(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    title = _(HTTPStatus(status).phrase)
    request_id = request.scope.get("request_id", "")
    if wants_json(request):
        body: dict[str, Any] = {
            "type": f"about:blank#{status}" if status != 422 else "https://covenant.eu/problems/validation",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": request.url.path,
        }
        if errors:
            body["errors"] = errors
        if request_id:
            body["request_id"] = request_id
        return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
    return Template(
        "errors/error.html",
        context={
            "status_code": status,
            "title": title,
            "detail": detail,
            "errors": errors or [],
            "request_id": request_id,
        },
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def _value_out_of_range(exc: BaseException) -> bool:
    """A value the database cannot hold (a year of 30 digits, a NUL byte in a text): the input's fault, so a
    422, never a 500. Seen through the driver's error: SQLSTATE class 22 (data exception), asyncpg's own
    check of an argument (a ``DataError`` that is a ``ValueError``), SQLite's "datatype mismatch"."""
    if not isinstance(exc, OverflowError | DBAPIError):
        return False
    seen: BaseException | None = exc
    for _step in range(6):
        if seen is None:
            return False
        if isinstance(seen, OverflowError | DataError):
            return True
        sqlstate = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return True
        if type(seen).__name__ == "DataError" or "datatype mismatch" in str(seen):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, ValidationError):
        return problem(request, 422, _("The input is not valid."), errors=field_errors_from_pydantic(exc))
    if isinstance(exc, ValidationException):
        errors = _field_errors_from_litestar(exc)
        # Litestar raises ValidationException both for unparsable bodies (400) and for wrong types (422).
        status = 422 if errors else 400
        detail = _("The input is not valid.") if errors else _(exc.detail or N_("The request body could not be read."))
        return problem(request, status, detail, errors=errors)
    if isinstance(exc, NotAuthorizedException):
        if not wants_json(request) and request.method == "GET":
            return Response(content=None, status_code=303, headers={"Location": f"/login?next={request.url.path}"})
        return problem(request, 401, _(exc.detail or N_("Sign in to continue.")))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        return problem(request, exc.status_code, _(exc.detail) if exc.detail else "", headers=headers or None)
    if _value_out_of_range(exc):
        return problem(request, 422, _("A value in the request is out of range."))
    if (
        isinstance(exc, OperationalError | PoolTimeoutError | ConnectionError | OSError)
        or (isinstance(exc, DBAPIError) and exc.connection_invalidated)
        or database_unavailable(exc)
    ):
        log.warning("database unavailable", error=str(exc))
        return problem(
            request, 503, _("The service is briefly unavailable; please retry."), headers={"Retry-After": "5"}
        )
    log.exception("unhandled error", path=request.url.path)
    return problem(request, 500, _("Something went wrong on our side. The error has been logged."))


exception_handlers: dict[type[Exception] | int, Any] = {Exception: handle_exception}


# -- what the API documents ---------------------------------------------------------------------------

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": ["string", "null"]},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
PROBLEM_STATUSES: dict[str, str] = {
    "400": "The request could not be read.",
    "401": "Sign in (an Authorization: Bearer token) to continue.",
    "403": "The caller may not do this.",
    "404": "No such resource, or not visible to the caller.",
    "409": "The resource's state does not allow this now.",
    "413": "The request body is too large.",
    "422": "The input is not valid; errors names the fields.",
    "429": "Too many requests; see Retry-After.",
}


def document_problems(schema: dict[str, Any]) -> None:
    """Every operation may answer with a problem document (:func:`handle_exception`): say so in the OpenAPI
    schema, in place of Litestar's default 400 body, so clients and schema-driven tests see the truth."""
    _loosen_number_unions(schema)
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"} or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in PROBLEM_STATUSES.items():
                responses[status] = {"description": description, "content": problem_content}


def _loosen_number_unions(node: Any) -> None:
    """Litestar writes ``int | float`` as ``oneOf: [integer, number]``, which no integer satisfies (it matches
    both): ``anyOf`` says what the API means."""
    if isinstance(node, dict):
        variants = node.get("oneOf")
        if isinstance(variants, list) and {"integer", "number"} <= {
            v.get("type") for v in variants if isinstance(v, dict)
        }:
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _loosen_number_unions(value)
    elif isinstance(node, list):
        for value in node:
            _loosen_number_unions(value)
