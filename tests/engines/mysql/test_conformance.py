"""The conformance suite for the MySQL engine, on the real MariaDB server the suite starts."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.engines.mysql.backend import MySQLOnMariaDBBackend


class TestMySQLEngineOnMariaDB(EngineConformance):
    """MySQL 8 cannot be installed here; MariaDB accepts every statement the MySQL engine sends."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, mariadb_server: RunningServer) -> MySQLOnMariaDBBackend:
        return MySQLOnMariaDBBackend(mariadb_server)
