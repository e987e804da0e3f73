"""Action 3 — AI and surveillance technologies review. Not yet built: this package only reserves the module's place."""
