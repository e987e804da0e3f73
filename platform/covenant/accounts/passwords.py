"""Password hashing (argon2id). Hashing is slow by design, so it runs in a thread, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024
"""Bounded so nobody can make the server hash a megabyte."""

hasher = PasswordHasher()
"""argon2-cffi's defaults (RFC 9106 low-memory profile). Tests swap in a cheaper one."""


def use_hasher(new: PasswordHasher) -> PasswordHasher:
    """Swap the hasher (tests use a cheap one); returns the previous one."""
    global hasher, _DUMMY
    previous, hasher, _DUMMY = hasher, new, None
    return previous


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    if password_hash is None:
        # Spend the same time as a real check, so a missing account cannot be told apart by timing.
        await asyncio.to_thread(_burn, password)
        return False
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


_DUMMY: str | None = None


def _burn(password: str) -> None:
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = hasher.hash("not a real password")
    with contextlib.suppress(VerificationError):
        hasher.verify(_DUMMY, password)
