"""The conformance suite for the Redshift engine on PostgreSQL with md5 authentication."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.conftest import RunningServer
from tests.engines.redshift.backend import RedshiftBackend


class TestRedshift(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, redshift_server: RunningServer) -> RedshiftBackend:
        return RedshiftBackend(redshift_server)
