"""A conformance backend over the MongoDB wire-protocol test server."""

from __future__ import annotations

from typing import Any

import pymongo
from pymongo.errors import OperationFailure

from rotation.core.config import Settings
from rotation.engines.documentdb import DocumentDBHandler
from tests.engines.documentdb.server import Directory, MongoTestServer, RoleRef

AUTH_DB = "admin"
ADMIN_USER = "rotation-admin"
ADMIN_PASSWORD = "Admin-password-123"
# What an application user has: data roles plus the right to change its own password.
OWN_PASSWORD_ROLE = "changeOwnPasswordRole"
USER_ROLES: list[RoleRef] = [("readWrite", "appdb"), ("read", "reporting"),
                             (OWN_PASSWORD_ROLE, AUTH_DB)]  # fmt: skip


def prepare(directory: Directory) -> None:
    """Add the custom role users get and the least-privileged rotation admin."""
    directory.add_role(AUTH_DB, OWN_PASSWORD_ROLE, {"changeOwnPassword"})
    directory.add_user(AUTH_DB, ADMIN_USER, ADMIN_PASSWORD, [("userAdminAnyDatabase", AUTH_DB)])


class DocumentDBBackend:
    """Users live in ``admin`` (as on DocumentDB); parity is the set of roles."""

    handler_class: type[DocumentDBHandler] = DocumentDBHandler
    engine_value = "mongo"
    hostile_usernames = (
        "o'brien",
        'dq"uote',
        "back\\slash",
        "dollar$sign",
        "$leading",
        "dot.ted",
        "comma,equals=",  # SCRAM escapes both in the user name
        "with space",
        "ünïcødé",
        "semi;colon",
        "D" * (DocumentDBHandler.max_username_length - len(DocumentDBHandler.clone_suffix)),
    )

    def __init__(
        self, server: MongoTestServer, ca_file: str | None, host: str, dbname: str = AUTH_DB
    ) -> None:
        """Serve users of ``admin``; secrets name ``dbname`` (AWS's functions' authSource)."""
        self.server = server
        self.directory = server.directory
        self.ca_file = ca_file
        self.host = host
        self.dbname = dbname

    def settings(self) -> Settings:
        return Settings(tls_ca_file=self.ca_file)

    def connection_fields(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.server.port, "dbname": self.dbname,
                "ssl": self.ca_file is not None}  # fmt: skip

    def admin_login(self) -> tuple[str, str]:
        return ADMIN_USER, ADMIN_PASSWORD

    def create_user(self, username: str, password: str) -> None:
        self.directory.add_user(AUTH_DB, username, password, USER_ROLES)

    def drop_user(self, username: str) -> None:
        self.directory.drop_user(AUTH_DB, username)

    def can_login(self, username: str, password: str) -> bool:
        """Log in over the wire with PyMongo as an application would, with the secret's dbname."""
        tls: dict[str, Any] = {"tls": True, "tlsCAFile": self.ca_file} if self.ca_file else {}
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            self.host, self.server.port, username=username, password=password,
            authSource=self.dbname, directConnection=True, serverSelectionTimeoutMS=5000, **tls,
        )  # fmt: skip
        try:
            client.admin.command("ping")
        except OperationFailure as exc:
            if exc.code == 18:
                return False
            raise
        finally:
            client.close()
        return True

    def privileges(self, username: str) -> frozenset[str]:
        user = self.directory.users.get((AUTH_DB, username))
        return frozenset(f"{role}@{db}" for role, db in user.roles) if user else frozenset()

    def failed_logins(self) -> int | None:
        return self.directory.failed_authentications
