"""The conformance suite against the in-memory engine: proves the suite and the core."""

from __future__ import annotations

from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.database import DatabaseHandler
from rotation.testing.conformance import EngineConformance
from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler


class FakeBackend:
    engine_value = "fake"
    hostile_usernames = (
        "o'brien",
        'dq"uote',
        "back\\slash",
        "per%cent",
        "semi;colon",
        "with space",
        "ünïcødé",
        "z" * (32 - len("_clone")),
    )

    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.db.add_user("admin", "Admin-password-1", admin=True)
        self.handler_class: type[DatabaseHandler[Any]] = FakeDatabaseHandler.bound_to(self.db)

    def settings(self) -> Settings:
        return Settings()

    def connection_fields(self) -> dict[str, Any]:
        return {"host": self.db.host, "port": self.db.port}

    def admin_login(self) -> tuple[str, str]:
        return "admin", "Admin-password-1"

    def create_user(self, username: str, password: str) -> None:
        self.db.add_user(username, password, "read", "write")

    def drop_user(self, username: str) -> None:
        self.db.passwords.pop(username, None)
        self.db.privileges.pop(username, None)

    def can_login(self, username: str, password: str) -> bool:
        ok = self.db.passwords.get(username) == password
        if not ok:
            self.db.failed_logins += 1
        return ok

    def privileges(self, username: str) -> frozenset[str]:
        return frozenset(self.db.privileges.get(username, ()))

    def failed_logins(self) -> int | None:
        return self.db.failed_logins


class TestFakeEngine(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> FakeBackend:
        return FakeBackend()
