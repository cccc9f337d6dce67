"""Fixtures of the cockpit tests: the demo pack and cast (the services tests' fixtures)."""

from __future__ import annotations

from tests.services.conftest import demo, login  # noqa: F401 - fixtures shared, not copied
