"""The conformance suite against the TDS test server: a user database, master (secrets without
``dbname``, as RDS writes them) and a contained database."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.engines.sqlserver.backend import SQLServerBackend


class TestSQLServer(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, backend: SQLServerBackend) -> SQLServerBackend:
        return backend


class TestSQLServerContained(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, backend: SQLServerBackend) -> SQLServerBackend:
        return SQLServerBackend(backend.server, backend.ca_file, backend.admin_password,
                                "containeddb")  # fmt: skip


class TestSQLServerMaster(EngineConformance):
    """Logins without a database user: alternating users clones the login and its server rights."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, backend: SQLServerBackend) -> SQLServerBackend:
        return SQLServerBackend(backend.server, backend.ca_file, backend.admin_password, "master")
