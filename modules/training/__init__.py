"""Action 4 — Competence-based training. Not yet built: this package only reserves the module's place."""
