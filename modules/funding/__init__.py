"""Action 2 — EU funding and advocacy."""
