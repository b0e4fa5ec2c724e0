"""The conformance suite against the MongoDB wire-protocol test server."""

from __future__ import annotations

import pytest

from rotation.testing.conformance import EngineConformance
from tests.documentdb.backend import DocumentDBBackend
from tests.documentdb.server import MongoTestServer


class TestDocumentDB(EngineConformance):
    """Verified TLS with a CA file; PyMongo negotiates SCRAM-SHA-256."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, tls_server: MongoTestServer, ca_file: str) -> DocumentDBBackend:
        return DocumentDBBackend(tls_server, ca_file, "localhost")


class TestDocumentDBPlaintextScramSha1(EngineConformance):
    """``ssl: false`` against a server that offers only SCRAM-SHA-1."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, plain_server: MongoTestServer) -> DocumentDBBackend:
        return DocumentDBBackend(plain_server, None, "127.0.0.1")
