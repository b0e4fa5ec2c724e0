"""The conformance suite against the real MariaDB server the suite starts."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.engines.mariadb.backend import MariaDBBackend


class TestMariaDB(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, mariadb_server: RunningServer) -> MariaDBBackend:
        return MariaDBBackend(mariadb_server)
