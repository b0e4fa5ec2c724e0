"""A TDS test server with verified TLS (a trustme CA), shared by the SQL Server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from pysqlbridge.certificate import Certificate

from tests.engines.sqlserver.backend import SQLServerBackend
from tests.engines.sqlserver.model import SQLServerModel
from tests.engines.sqlserver.server import TDSServer

ADMIN_PASSWORD = "Admin'pass%word-1"
# The server permissions of the RDS for SQL Server master user; it is also a member of
# processadmin and setupadmin, not of sysadmin
# (docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html). Whether it
# holds them WITH GRANT OPTION is not documented: the tests give them without.
RDS_MASTER_PERMISSIONS = (
    "ADMINISTER BULK OPERATIONS", "ALTER ANY CONNECTION", "ALTER ANY CREDENTIAL",
    "ALTER ANY EVENT SESSION", "ALTER ANY LINKED SERVER", "ALTER ANY LOGIN",
    "ALTER ANY SERVER AUDIT", "ALTER ANY SERVER ROLE", "ALTER SERVER STATE", "ALTER TRACE",
    "CREATE ANY DATABASE", "VIEW ANY DATABASE", "VIEW ANY DEFINITION", "VIEW SERVER STATE",
)  # fmt: skip
RDS_MASTER_ROLES = ("processadmin", "setupadmin")


def certificate_for(ca: trustme.CA, *names: str) -> Certificate:
    """Issue a server certificate from ``ca`` in the form pysqlbridge serves."""
    leaf = ca.issue_cert(*names)
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    return Certificate(cert_pem=chain, key_pem=leaf.private_key_pem.bytes())


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, str]:
    """Provide a test CA and the path of its certificate."""
    ca = trustme.CA()
    path = Path(tmp_path_factory.mktemp("sqlserver-ca")) / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, str(path)


@pytest.fixture(scope="session")
def tds_server(tls_ca: tuple[trustme.CA, str]) -> Iterator[TDSServer]:
    """Provide a running TDS server whose certificate names 127.0.0.1 and localhost."""
    ca, _ = tls_ca
    server = TDSServer(
        SQLServerModel(ADMIN_PASSWORD), certificate_for(ca, "127.0.0.1", "localhost")
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def backend(tds_server: TDSServer, tls_ca: tuple[trustme.CA, str]) -> SQLServerBackend:
    """Provide a backend on the ordinary (login-based) database."""
    return SQLServerBackend(tds_server, tls_ca[1], ADMIN_PASSWORD, "appdb")
