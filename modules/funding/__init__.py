"""Action 2 — EU funding and advocacy. Not yet built: this package only reserves the module's place."""
