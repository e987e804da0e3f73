"""Validation messages in the reader's language.

Pydantic writes its messages in English ("String should have at least 1 character"); a form shows the
reader a sentence of ours, translated, chosen by the error's type and filled with its limits. Messages our
own validators raise (``ValueError("…")``) are msgids too, translated when a catalogue has them.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import ErrorDetails

from covenant.i18n import N_
from covenant.i18n import gettext as _

REQUIRED = N_("This field is required.")
MESSAGES: dict[str, str] = {
    "missing": REQUIRED,
    "string_too_short": N_("Enter at least %(min_length)s characters."),
    "string_too_long": N_("Enter at most %(max_length)s characters."),
    "too_long": N_("Choose at most %(max_length)s."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "decimal_parsing": N_("Enter a number."),
    "greater_than": N_("Enter a number greater than %(gt)s."),
    "greater_than_equal": N_("Enter a number of at least %(ge)s."),
    "less_than": N_("Enter a number less than %(lt)s."),
    "less_than_equal": N_("Enter a number of at most %(le)s."),
    "date_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD."),
    "date_type": N_("Enter a date as YYYY-MM-DD."),
    "datetime_parsing": N_("Enter a date and a time."),
    "datetime_from_date_parsing": N_("Enter a date and a time."),
    "time_parsing": N_("Enter a time as HH:MM."),
    "literal_error": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "bool_parsing": N_("Choose yes or no."),
    "uuid_parsing": N_("This is not a valid identifier."),
    "url_parsing": N_("Enter a full web address, starting with https://."),
    "url_scheme": N_("Enter a full web address, starting with https://."),
}


def message_for(error: ErrorDetails | dict[str, Any]) -> str:
    """The reader's sentence for one Pydantic error."""
    kind = str(error.get("type", ""))
    context: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "string_too_short" and context.get("min_length") == 1:
        return _(REQUIRED)
    if kind in MESSAGES:
        values = {k: v for k, v in context.items() if isinstance(v, int | float | str)}
        try:
            return _(MESSAGES[kind]) % values
        except (KeyError, ValueError):  # a limit Pydantic did not report: the sentence without it
            return str(error.get("msg", ""))
    message = str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return _(message)
