"""A throwaway PostgreSQL with md5 authentication, standing in for Redshift.

Redshift stores passwords as ``'md5' + md5(password + user)``; a scram-sha-256 pg_hba cannot check
such a hash, PostgreSQL's ``md5`` method checks it (and SCRAM-stored passwords too). So these
tests start their own cluster with md5 host authentication instead of changing the shared one
(``ROTATION_TEST_REDSHIFT_URL`` names an existing one). Tests
that use it are integration tests; the rest are unit tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rotation.local.servers import PostgreSQLServer
from tests.conftest import RunningServer, start_server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Redshift tests that need the md5 PostgreSQL server as integration tests."""
    for item in items:
        in_here = "/redshift/" in str(item.fspath)
        if in_here and "redshift_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def redshift_server() -> Iterator[RunningServer]:
    """Provide a PostgreSQL cluster whose host logins use md5 authentication."""
    yield from start_server("ROTATION_TEST_REDSHIFT_URL", lambda: PostgreSQLServer(host_auth="md5"))
