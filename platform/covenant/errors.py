"""Errors the platform raises on purpose, each with a message meant for a person."""

from __future__ import annotations


class StartupError(RuntimeError):
    """Start-up cannot go on; the message is one line naming the cause."""
