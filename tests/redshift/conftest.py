"""Tests that use the throwaway PostgreSQL server are integration tests; the rest are unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Redshift tests that need the PostgreSQL server as integration tests."""
    for item in items:
        in_here = "/redshift/" in str(item.fspath)
        if in_here and "postgresql_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def client() -> Iterator[Any]:
    """Provide a moto Secrets Manager client (handlers need one; most tests never call it)."""
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")
