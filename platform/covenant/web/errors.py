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
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


def wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/health", "/schema")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def field_errors_from_pydantic(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
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
    title = HTTPStatus(status).phrase
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


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, ValidationError):
        return problem(request, 422, "The input is not valid.", errors=field_errors_from_pydantic(exc))
    if isinstance(exc, ValidationException):
        errors = _field_errors_from_litestar(exc)
        # Litestar raises ValidationException both for unparsable bodies (400) and for wrong types (422).
        status = 422 if errors else 400
        detail = "The input is not valid." if errors else (exc.detail or "The request body could not be read.")
        return problem(request, status, detail, errors=errors)
    if isinstance(exc, NotAuthorizedException):
        if not wants_json(request) and request.method == "GET":
            return Response(content=None, status_code=303, headers={"Location": f"/login?next={request.url.path}"})
        return problem(request, 401, exc.detail or "Sign in to continue.")
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
        return problem(request, exc.status_code, exc.detail, headers=headers or None)
    if isinstance(exc, OperationalError | PoolTimeoutError | ConnectionError | OSError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        log.warning("database unavailable", error=str(exc))
        return problem(request, 503, "The service is briefly unavailable; please retry.", headers={"Retry-After": "5"})
    log.exception("unhandled error", path=request.url.path)
    return problem(request, 500, "Something went wrong on our side. The error has been logged.")


exception_handlers: dict[type[Exception] | int, Any] = {Exception: handle_exception}
