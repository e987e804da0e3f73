"""Action 3 — AI and surveillance technology review."""
