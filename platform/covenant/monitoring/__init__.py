"""The yearly monitoring cycle (not yet built)."""
