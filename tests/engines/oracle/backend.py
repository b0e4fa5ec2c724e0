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
from tests.engines.oracle.fake import FakeOracle, OracleUser, login_name

ADMIN = ("admin", "Admin-password-1")  # RDS's master user: ADMIN


def make_server() -> tuple[FakeOracle, trustme.CA]:
    """Return a fake server whose TCPS listener presents a certificate of a fresh test CA."""
    ca = trustme.CA()
    server = FakeOracle(ca_der=ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode()))
    server.users[login_name(ADMIN[0])] = OracleUser(
        ADMIN[1],
        roles={"CONNECT": True, "SELECT_CATALOG_ROLE": True},
        system={priv: True for priv in ("CREATE USER", "ALTER USER", "GRANT ANY ROLE",
                                        "GRANT ANY PRIVILEGE", "GRANT ANY OBJECT PRIVILEGE")},
    )  # fmt: skip
    return server, ca


@contextmanager
def patched_driver(server: FakeOracle) -> Iterator[FakeOracle]:
    """Route ``oracledb.connect`` to the fake server for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(oracledb, "connect", server.connect)
        yield server


class OracleBackend:
    """Users with a role, system and object privileges, a verify function and no reuse."""

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
            objects={("SELECT", "APP", "ITEMS"): False, ("INSERT", "APP", "odd name; \n x"): True},
        )

    def drop_user(self, username: str) -> None:
        self.server.users.pop(login_name(username), None)

    def can_login(self, username: str, password: str) -> bool:
        return self.server.can_login(username, password)

    def privileges(self, username: str) -> frozenset[str]:
        return self.server.privileges(login_name(username))

    def failed_logins(self) -> int | None:
        return self.server.failed_logins
