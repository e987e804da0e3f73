"""Action 6 — Security by design good practices."""
