"""The conformance suite against the wire-protocol test server, as MongoDB and as DocumentDB."""

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


class TestDocumentDB40(EngineConformance):
    """DocumentDB 4.0 (wire version 7) with secrets whose ``dbname`` is not ``admin``.

    The login authenticates against ``appdb`` as AWS's functions do; DocumentDB keeps the users
    in ``admin`` and the engine sends its user commands there.
    """

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, documentdb_server: MongoTestServer, ca_file: str) -> DocumentDBBackend:
        return DocumentDBBackend(documentdb_server, ca_file, "localhost", dbname="appdb")
