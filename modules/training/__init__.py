"""Action 4 — Competence-based training."""
