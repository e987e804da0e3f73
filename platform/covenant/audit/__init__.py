"""Audit log: who changed what, when. Call :func:`record` in the transaction of every state change."""

from covenant.audit.services import record

__all__ = ["record"]
