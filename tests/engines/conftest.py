"""Backends on the real PostgreSQL and MariaDB servers, shared by the engine tests."""

from __future__ import annotations

import pytest

from tests.conftest import RunningServer
from tests.engines.mariadb.backend import MariaDBBackend
from tests.engines.postgresql.backend import PostgreSQLBackend


@pytest.fixture(scope="session")
def pg(postgresql_server: RunningServer) -> PostgreSQLBackend:
    """Provide the PostgreSQL backend (application database, user helpers)."""
    return PostgreSQLBackend(postgresql_server)


@pytest.fixture(scope="session")
def maria(mariadb_server: RunningServer) -> MariaDBBackend:
    """Provide the MariaDB backend (application database, user helpers)."""
    return MariaDBBackend(mariadb_server)
