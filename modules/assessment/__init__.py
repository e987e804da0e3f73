"""Action 1 — Self-assessment and peer benchmarking. Not yet built: this package only reserves the module's place."""
