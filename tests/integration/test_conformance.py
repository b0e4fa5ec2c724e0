"""The conformance suite against real PostgreSQL and MariaDB servers."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.integration.backends import MariaDBBackend, MySQLOnMariaDBBackend, PostgreSQLBackend


class TestPostgreSQL(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql_server: RunningServer) -> PostgreSQLBackend:
        return PostgreSQLBackend(postgresql_server)


class TestMariaDB(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, mariadb_server: RunningServer) -> MariaDBBackend:
        return MariaDBBackend(mariadb_server)


class TestMySQLEngineOnMariaDB(EngineConformance):
    """MySQL 8 cannot be installed here; MariaDB accepts every statement the MySQL engine sends."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, mariadb_server: RunningServer) -> MySQLOnMariaDBBackend:
        return MySQLOnMariaDBBackend(mariadb_server)
