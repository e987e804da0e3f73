"""Action 5 — Social cohesion impact."""
