"""City registry and membership lifecycle (core domain; not yet built)."""
