"""A throwaway PostgreSQL with md5 authentication, standing in for Redshift.

Redshift stores passwords as ``'md5' + md5(password + user)``; a scram-sha-256 pg_hba cannot check
such a hash, PostgreSQL's ``md5`` method checks it (and SCRAM-stored passwords too). So these
tests use the shared md5 cluster (``postgresql_md5_server``: md5 host authentication and
``password_encryption = md5``, as on Redshift) instead of changing the scram one
(``ROTATION_TEST_REDSHIFT_URL`` names an existing one). Tests that use it are integration tests;
the rest are unit tests.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import RunningServer, _from_url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the Redshift tests that need the md5 PostgreSQL server as integration tests."""
    for item in items:
        in_here = "/redshift/" in str(item.fspath)
        if in_here and "redshift_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def redshift_server(request: pytest.FixtureRequest) -> RunningServer:
    """Provide a PostgreSQL cluster whose host logins use md5 authentication."""
    url = os.environ.get("ROTATION_TEST_REDSHIFT_URL")
    if url:
        return RunningServer(_from_url(url), None)
    server: RunningServer = request.getfixturevalue("postgresql_md5_server")
    return server
