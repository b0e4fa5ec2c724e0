"""Mark the CLI tests that need real database servers as integration tests."""

from __future__ import annotations

import pytest

# Modules whose tests start or use real PostgreSQL / MariaDB servers.
SERVER_MODULES = {"test_demo.py", "test_check.py", "test_local.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Add the integration marker to this folder's server tests only."""
    for item in items:
        path = item.path
        if path.parent.name == "cli" and path.name in SERVER_MODULES:
            item.add_marker(pytest.mark.integration)
