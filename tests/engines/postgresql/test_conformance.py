"""The conformance suite against the real PostgreSQL server the suite starts."""

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
