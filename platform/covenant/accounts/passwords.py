"""Password hashing (argon2id). Hashing is slow by design, so it runs in a thread, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from covenant.i18n import N_

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


# -- the password policy ----------------------------------------------------------------------------
# NIST SP 800-63B / OWASP ASVS 2.1: a length floor, no composition rules, refusal of known-breached and
# guessable passwords. zxcvbn would estimate strength more finely; it is one more dependency with 800 KB of
# word lists, and this rule plus the shipped list covers what ASVS asks (2.1.7).

COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"
MIN_ENTROPY_BITS = 40
TOO_COMMON = N_("This password is one of the most common ones, which attackers try first. Choose another.")
TOO_PREDICTABLE = N_(
    "This password is too easy to guess (repeated or consecutive characters, or too few kinds of them). "
    "A few unrelated words make a strong password."
)
TOO_PERSONAL = N_("Your password must not contain your e-mail address or your name.")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of breached, most-used passwords (lower case)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def entropy_bits(password: str) -> float:
    """A deliberately simple estimate: the size of the alphabet the password draws from, to the power of its
    length, where a character repeating or continuing (±1) the previous one counts only a quarter."""
    pool = 0
    if any(c.islower() for c in password):
        pool += 26
    if any(c.isupper() for c in password):
        pool += 26
    if any(c.isdigit() for c in password):
        pool += 10
    if any(not c.isalnum() and c.isascii() for c in password):
        pool += 33
    if any(not c.isascii() for c in password):
        pool += 100
    length = 0.0
    previous: str | None = None
    for char in password:
        predictable = previous is not None and abs(ord(char) - ord(previous)) <= 1
        length += 0.25 if predictable else 1.0
        previous = char
    return length * math.log2(pool) if pool else 0.0


def policy_problem(password: str, *, personal: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused (an untranslated msgid), or None when it may be used. ``personal``: the
    account's e-mail address and name, which must not appear in it."""
    folded = password.casefold()
    stripped = folded.strip()
    if stripped in common_passwords() or stripped.rstrip("0123456789!?.*#") in common_passwords():
        return TOO_COMMON
    for value in personal:
        for part in {value.casefold(), value.casefold().split("@")[0]}:
            if len(part) >= 4 and part in folded:
                return TOO_PERSONAL
    if entropy_bits(password) < MIN_ENTROPY_BITS:
        return TOO_PREDICTABLE
    return None
