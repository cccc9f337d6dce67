"""Fixtures of the ratings tests: the demo pack and cast (the services tests' fixtures), and a
factory of finished things to rate."""

from __future__ import annotations

from tests.services.conftest import demo, login  # noqa: F401 - fixtures shared, not copied
