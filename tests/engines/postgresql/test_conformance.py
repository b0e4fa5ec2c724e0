"""The conformance suite against real PostgreSQL servers the suite starts.

* Debian's PostgreSQL (15 here) with a superuser admin and scram-sha-256;
* the same with ``password_encryption = md5`` and md5 host authentication, so every rotation
  sends md5 verifiers;
* PostgreSQL 16 and 18 (from the dev dependencies) with the admin RDS gives: ``NOSUPERUSER
  CREATEROLE``, a member of ``rds_superuser``, holding ADMIN OPTION on the users it created.
"""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.engines.postgresql.backend import PostgreSQLBackend


class TestPostgreSQL(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql_server: RunningServer) -> PostgreSQLBackend:
        return PostgreSQLBackend(postgresql_server)


class TestPostgreSQLWithMd5Passwords(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql_md5_server: RunningServer) -> PostgreSQLBackend:
        return PostgreSQLBackend(postgresql_md5_server)


class TestPostgreSQL16WithCreateRoleAdmin(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql16_server: RunningServer) -> PostgreSQLBackend:
        return PostgreSQLBackend(postgresql16_server, rds_admin=True)


class TestPostgreSQL18WithCreateRoleAdmin(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql18_server: RunningServer) -> PostgreSQLBackend:
        return PostgreSQLBackend(postgresql18_server, rds_admin=True)
