"""A throwaway PostgreSQL with md5 authentication, standing in for Redshift.

Redshift stores passwords as ``'md5' + md5(password + user)``; a scram-sha-256 pg_hba cannot check
such a hash, PostgreSQL's ``md5`` method checks it (and SCRAM-stored passwords too). So these
tests start their own cluster and switch it to md5, instead of changing the shared one. Tests
that use it are integration tests; the rest are unit tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from rotation.testing.servers import PostgreSQLServer, ServerUnavailableError
from tests.conftest import RunningServer


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Redshift tests that need the md5 PostgreSQL server as integration tests."""
    for item in items:
        in_here = "/redshift/" in str(item.fspath)
        if in_here and "redshift_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def client() -> Iterator[Any]:
    """Provide a moto Secrets Manager client (handlers need one; most tests never call it)."""
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture(scope="session")
def redshift_server() -> Iterator[RunningServer]:
    """Provide a PostgreSQL cluster whose host logins use md5 authentication."""
    server = PostgreSQLServer()
    try:
        info = server.start()
    except ServerUnavailableError as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        hba = server.root / "data" / "pg_hba.conf"
        hba.write_text(hba.read_text().replace("scram-sha-256", "md5"))
        running = RunningServer(info, server)
        with psycopg2_admin(info) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_catalog.pg_reload_conf()")
        yield running
    finally:
        server.stop()


@contextmanager
def psycopg2_admin(info: Any) -> Iterator[Any]:
    """Open an autocommit admin connection to database postgres."""
    import psycopg2

    tls = {"sslmode": "verify-full", "sslrootcert": info.ca_file} if info.tls else {}
    conn = psycopg2.connect(host=info.host, port=info.port, user=info.admin_user,
                            password=info.admin_password, dbname="postgres", **tls)  # fmt: skip
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()
