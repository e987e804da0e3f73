"""Commitments and their progress updates (core domain; not yet built)."""
