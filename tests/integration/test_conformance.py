"""The conformance suite against real PostgreSQL and MariaDB servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.integration.backends import MariaDBBackend, PostgreSQLBackend


class TestPostgreSQL(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql_server: RunningServer) -> Iterator[PostgreSQLBackend]:
        yield PostgreSQLBackend(postgresql_server)


class TestMariaDB(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, mariadb_server: RunningServer) -> Iterator[MariaDBBackend]:
        yield MariaDBBackend(mariadb_server)
