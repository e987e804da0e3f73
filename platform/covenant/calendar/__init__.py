"""Convention calendar (core domain; not yet built)."""
