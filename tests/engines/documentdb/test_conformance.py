"""The conformance suite against the MongoDB wire-protocol test server."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.engines.documentdb.backend import DocumentDBBackend
from tests.engines.documentdb.server import MongoTestServer


class TestDocumentDB(EngineConformance):
    """Verified TLS with a CA file; PyMongo negotiates SCRAM-SHA-256.

    ``ssl: false`` with SCRAM-SHA-1 only is covered by full rotations in test_engine.py.
    """

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, tls_server: MongoTestServer, ca_file: str) -> DocumentDBBackend:
        return DocumentDBBackend(tls_server, ca_file, "localhost")
