"""The conformance backend for Oracle: the in-memory server of :mod:`tests.oracle.fake`."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import oracledb
import pytest
import trustme

from rotation.core.config import Settings
from rotation.engines.oracle import OracleHandler
from tests.engines.oracle.fake import FakeOracle, OracleRole, OracleUser, login_name

ADMIN = ("admin", "Admin-password-1")  # RDS's master user: ADMIN


#: The RDS DBA role's system privileges that these tests use, WITH ADMIN OPTION as in Oracle's
#: DBA role; RDS leaves out GRANT ANY ROLE, GRANT ANY PRIVILEGE, ALTER SYSTEM and others
#: (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Oracle.Concepts.limitations.html).
RDS_DBA = ("CREATE SESSION", "CREATE TABLE", "CREATE VIEW", "UNLIMITED TABLESPACE",
           "CREATE USER", "ALTER USER")  # fmt: skip


def make_server() -> tuple[FakeOracle, trustme.CA]:
    """Return a fake RDS for Oracle whose TCPS listener presents a certificate of a test CA.

    The admin is an RDS master user (UsingWithRDS.MasterAccounts.html): GRANT ANY OBJECT
    PRIVILEGE, the roles CONNECT, SELECT_CATALOG_ROLE and DBA, no GRANT ANY ROLE or GRANT ANY
    PRIVILEGE. It holds CONNECT and SELECT_CATALOG_ROLE WITH ADMIN OPTION (AWS's own examples
    have the master grant them without GRANT ANY ROLE), and the application roles it created
    WITH ADMIN OPTION, as Oracle gives a role's creator.
    """
    ca = trustme.CA()
    server = FakeOracle(ca_der=ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode()))
    server.rdsadmin = True
    server.roles["DBA"] = OracleRole(system=dict.fromkeys(RDS_DBA, True))
    server.users[login_name(ADMIN[0])] = OracleUser(
        ADMIN[1],
        roles={"CONNECT": True, "SELECT_CATALOG_ROLE": True, "DBA": False,
               "APP_READER": True, "APP WRITER; X": True},
        system={"GRANT ANY OBJECT PRIVILEGE": True},
    )  # fmt: skip
    return server, ca


@contextmanager
def patched_driver(server: FakeOracle) -> Iterator[FakeOracle]:
    """Route ``oracledb.connect`` to the fake server for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(oracledb, "connect", server.connect)
        yield server


class OracleBackend:
    """Users with roles, system and object privileges (one on a SYS object), a verify function
    and no password reuse, cloned by an RDS master user."""

    handler_class: type[OracleHandler] = OracleHandler
    engine_value = "oracle"
    hostile_usernames = (
        "o'brien",
        "back\\slash",
        "per%cent",
        "semi;colon; DROP USER x",
        "with space",
        "ünïcødé",
        "MixedCase",
        "L" * (128 - len("_CLONE")),
    )

    def __init__(self, server: FakeOracle, ca_file: Path) -> None:
        self.server = server
        self.ca_file = ca_file

    def settings(self) -> Settings:
        return Settings(tls_ca_file=str(self.ca_file))

    def connection_fields(self) -> dict[str, Any]:
        return {"host": self.server.host, "port": self.server.port,
                "dbname": self.server.service_name, "ssl": True,
                "ssl_port": self.server.tcps_port}  # fmt: skip

    def admin_login(self) -> tuple[str, str]:
        return ADMIN

    def create_user(self, username: str, password: str) -> None:
        self.server.users[login_name(username)] = OracleUser(
            password,
            verify_function=True,
            reuse_forbidden=True,
            history=[password],
            roles={"CONNECT": False, "APP_READER": False, "APP WRITER; X": True},
            system={"CREATE TABLE": False, "CREATE VIEW": True},
            objects={
                ("SELECT", "APP", "ITEMS"): False,
                ("INSERT", "APP", "odd name; \n x"): True,
                ("SELECT", "SYS", "V_$SESSION"): False,
            },
        )

    def drop_user(self, username: str) -> None:
        self.server.users.pop(login_name(username), None)

    def can_login(self, username: str, password: str) -> bool:
        return self.server.can_login(username, password)

    def privileges(self, username: str) -> frozenset[str]:
        return self.server.privileges(login_name(username))

    def failed_logins(self) -> int | None:
        return self.server.failed_logins
