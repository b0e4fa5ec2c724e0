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
def pg16(postgresql16_server: RunningServer) -> PostgreSQLBackend:
    """Provide a PostgreSQL 16 backend whose admin is CREATEROLE, not superuser, as on RDS."""
    return PostgreSQLBackend(postgresql16_server, rds_admin=True)


@pytest.fixture(scope="session")
def pg18(postgresql18_server: RunningServer) -> PostgreSQLBackend:
    """Provide a PostgreSQL 18 backend whose admin is CREATEROLE, not superuser, as on RDS."""
    return PostgreSQLBackend(postgresql18_server, rds_admin=True)


@pytest.fixture(scope="session")
def pg_md5(postgresql_md5_server: RunningServer) -> PostgreSQLBackend:
    """Provide the PostgreSQL backend on the server set to ``password_encryption = md5``."""
    return PostgreSQLBackend(postgresql_md5_server)


@pytest.fixture(scope="session")
def maria(mariadb_server: RunningServer) -> MariaDBBackend:
    """Provide the MariaDB backend (application database, user helpers)."""
    return MariaDBBackend(mariadb_server)
