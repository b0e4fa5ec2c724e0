"""Fixtures for unit tests: moto's Secrets Manager and the in-memory database."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler

REGION = "us-east-1"


@pytest.fixture
def db() -> FakeDatabase:
    """Provide an in-memory database with an app user and an admin."""
    database = FakeDatabase()
    database.add_user("app", "Initial-password-1", "read", "write")
    database.add_user("admin", "Admin-password-1", admin=True)
    return database


def fake_secret(
    db: FakeDatabase, username: str = "app", password: str = "Initial-password-1", **extra: Any
) -> dict[str, Any]:
    """Return a secret value for the fake database."""
    return {
        "engine": "fake",
        "host": db.host,
        "port": db.port,
        "username": username,
        "password": password,
        **extra,
    }


@pytest.fixture
def secret_arn(client: Any, db: FakeDatabase) -> str:
    """Create the app user's secret and return its ARN."""
    value = fake_secret(db, note="kept")
    return str(client.create_secret(Name="app", SecretString=json.dumps(value))["ARN"])


@pytest.fixture
def handler(client: Any, db: FakeDatabase) -> FakeDatabaseHandler:
    """Provide a single-user handler on the fake database."""
    return FakeDatabaseHandler(strategy="single", settings=Settings(), client=client, database=db)
