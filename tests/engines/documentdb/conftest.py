"""Test servers for the DocumentDB engine: TLS with a test CA, and plaintext SCRAM-SHA-1 only.

``tls_server`` and ``plain_server`` follow MongoDB's user model; ``documentdb_server`` is a
DocumentDB 4.0 (wire version 7, every user in ``admin``).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import trustme

from tests.engines.documentdb import scram
from tests.engines.documentdb.backend import prepare
from tests.engines.documentdb.server import DOCUMENTDB, Directory, MongoTestServer


@pytest.fixture(scope="session")
def certificate_authority() -> trustme.CA:
    """Provide a throwaway CA."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(certificate_authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Write the CA's certificate to a PEM file, as ROTATION_TLS_CA_FILE would name it."""
    path = Path(tmp_path_factory.mktemp("documentdb-ca")) / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def tls_server(certificate_authority: trustme.CA) -> Iterator[MongoTestServer]:
    """Serve TLS only (as DocumentDB does by default) for ``localhost``, both SCRAM mechanisms."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(context)
    directory = Directory()
    prepare(directory)
    server = MongoTestServer(directory, tls_context=context).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def documentdb_server(certificate_authority: trustme.CA) -> Iterator[MongoTestServer]:
    """Serve TLS as DocumentDB 4.0: wire version 7, users in admin whatever the database."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(context)
    flavor = DOCUMENTDB["4.0"]
    directory = Directory(mechanisms=flavor.mechanisms)
    prepare(directory)
    server = MongoTestServer(directory, tls_context=context, flavor=flavor).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def plain_server() -> Iterator[MongoTestServer]:
    """Serve plaintext with SCRAM-SHA-1 only, like DocumentDB clusters without SHA-256."""
    directory = Directory(mechanisms=(scram.SHA1,))
    prepare(directory)
    server = MongoTestServer(directory).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def offline_client() -> Any:
    """Provide a Secrets Manager client for handlers whose tests never call the service."""
    return boto3.client("secretsmanager", region_name="us-east-1")
