"""The shared conformance suite, run by the Oracle engine against the in-memory Oracle fake.

The engine's real code runs end to end, through python-oracledb's exception classes, with
``oracledb.connect`` patched to the fake server (TCPS with a test CA, as the default TLS policy
wants). No Oracle server is involved: see tests/oracle/fake.py for what is modelled.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rotation.testing.conformance import EngineConformance
from tests.engines.oracle.backend import OracleBackend, make_server, patched_driver


class TestOracle(EngineConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OracleBackend]:
        server, ca = make_server()
        ca_file = tmp_path_factory.mktemp("oracle-ca") / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        with patched_driver(server):
            yield OracleBackend(server, ca_file)
