"""HTML forms validated by the same Pydantic schema as the JSON API, re-rendered with field messages."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from litestar import Request
from litestar.enums import MediaType, RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from covenant.config import Settings
from covenant.web.validation import message_for

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A url-encoded form body; validate it with :func:`validate_form`."""
MultipartData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
"""A multipart form body (file uploads)."""
AnyRequest = Request[Any, Any, Any]

FormSchema = TypeVar("FormSchema", bound=BaseModel)


def validate_form(schema: type[FormSchema], data: dict[str, Any]) -> tuple[FormSchema | None, dict[str, str]]:
    """The form's values checked by the same schema the API uses; field → message on failure."""
    try:
        return schema.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            field = ".".join(str(part) for part in error["loc"][:1]) or "form"
            errors.setdefault(field, message_for(error))
        return None, errors


def page(template: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> Template:
    """A full page (or, for an invalid form, the same page with status 422 and its field messages).

    The media type is explicit: Litestar otherwise takes the handler's, JSON for a handler returning ``Any``."""
    return Template(template, context=context, status_code=status_code, headers=headers, media_type=MediaType.HTML)


async def see_other(db_session: AsyncSession, path: str) -> Redirect:
    """Commit, then redirect (post/redirect/get), so the change is durable before the browser moves on."""
    await db_session.commit()
    return Redirect(path, status_code=303)


def settings_of(request: AnyRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
