"""The web shell: layout, shared components, error pages, health and metrics."""
