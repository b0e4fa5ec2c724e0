"""The conformance backend for the TDS test server."""

from __future__ import annotations

from typing import Any

import pymssql

from rotation.core.config import Settings
from rotation.engines.sqlserver import SQLServerHandler
from tests.engines.sqlserver.model import ADMIN
from tests.engines.sqlserver.server import TDSServer


class SQLServerBackend:
    """Users are logins with a database user (or contained users) holding roles and grants."""

    handler_class: type[SQLServerHandler] = SQLServerHandler
    engine_value = "sqlserver"
    # No backslash: SQL Server refuses it in SQL login names (DOMAIN\\user means Windows
    # authentication), and FreeTDS would try NTLM for such a name.
    hostile_usernames = (
        "o'brien",
        "br]acket",
        "[bracketed]",
        "per%cent",
        "semi;colon; DROP LOGIN x",
        "with space",
        "ünïcødé",
        "S" * (128 - len("_clone")),
    )

    def __init__(self, server: TDSServer, ca_file: str, admin_password: str, database: str) -> None:
        self.server = server
        self.model = server.model
        self.ca_file = ca_file
        self.admin_password = admin_password
        self.database = database

    def settings(self) -> Settings:
        return Settings(tls_ca_file=self.ca_file, connect_timeout=5)

    def connection_fields(self) -> dict[str, Any]:
        fields = {"host": "127.0.0.1", "port": self.server.port, "ssl": True}
        # Secrets that RDS creates name no database: the engine's default, master, applies.
        return fields if self.database == "master" else {**fields, "dbname": self.database}

    def admin_login(self) -> tuple[str, str]:
        return ADMIN, self.admin_password

    def create_user(self, username: str, password: str) -> None:
        self.model.create_user(self.database, username, password)

    def drop_user(self, username: str) -> None:
        self.model.drop_user(username)

    def can_login(self, username: str, password: str) -> bool:
        try:
            conn = pymssql.connect(server="127.0.0.1", port=str(self.server.port), user=username,
                                   password=password, database=self.database, login_timeout=5,
                                   tds_version="7.4", autocommit=True)  # fmt: skip
        except pymssql.OperationalError as exc:
            if "18456" in str(exc.args):
                return False
            raise
        conn.close()
        return True

    def privileges(self, username: str) -> frozenset[str]:
        return self.model.privileges(self.database, username)

    def failed_logins(self) -> int | None:
        return self.model.failed_logins
