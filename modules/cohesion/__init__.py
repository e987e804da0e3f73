"""Action 5 — Social-cohesion impact measurement. Not yet built: this package only reserves the module's place."""
