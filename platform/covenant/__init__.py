"""Covenant — the platform of the Covenant of Mayors for safer public spaces."""

__version__ = "0.1.0"
