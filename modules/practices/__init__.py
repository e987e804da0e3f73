"""Action 6 — Security-by-design good practices. Not yet built: this package only reserves the module's place."""
