"""Pagination shared by every list page and JSON list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 200
MAX_PAGE_NUMBER = 1_000_000
"""Far beyond any list's end, and small enough for every database's OFFSET."""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @staticmethod
    def url(base_url: str, number: int) -> str:
        """``base_url`` with its ``page`` query parameter set to ``number``; other filters kept."""
        parts = urlsplit(base_url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page"] + [("page", str(number))]
        return urlunsplit(parts._replace(query=urlencode(query)))


def clamp(page: int | None, size: int | None) -> tuple[int, int]:
    """Page number and size from user input, kept within sane bounds."""
    number = min(MAX_PAGE_NUMBER, max(1, page or 1))
    per_page = min(MAX_PAGE_SIZE, max(1, size or DEFAULT_PAGE_SIZE))
    return number, per_page
