"""The conformance suite for Redshift's statements on the real throwaway PostgreSQL server."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.redshift.backend import RedshiftBackend


class TestRedshift(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, postgresql_server: RunningServer) -> RedshiftBackend:
        return RedshiftBackend(postgresql_server)
