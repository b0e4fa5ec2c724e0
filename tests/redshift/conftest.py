"""Tests that use the throwaway PostgreSQL server are integration tests; the rest are unit tests."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Redshift tests that need the PostgreSQL server as integration tests."""
    for item in items:
        in_here = "/redshift/" in str(item.fspath)
        if in_here and "postgresql_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
