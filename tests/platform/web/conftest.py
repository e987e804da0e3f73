"""The web shell's tests use the city registry's fixtures (the core plus the test module, two cities)."""

from tests.platform.cities.conftest import app, cities

__all__ = ["app", "cities"]
