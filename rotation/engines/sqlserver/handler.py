"""The SQL Server handler: connections over FreeTDS, error mapping and the primitives."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rotation.engines.dbapi import DBAPIHandler
from rotation.engines.sqlserver.clone import SQLServerClone
from rotation.engines.sqlserver.freetds import first_line, number_and_text, verifying_ca
from rotation.engines.sqlserver.preflight import SQLServerPreflight
from rotation.engines.sqlserver.statements import SYSNAME_LENGTH, SQLServerStatements

if TYPE_CHECKING:
    from pymssql import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

LOGIN_FAILED = 18456


class SQLServerHandler(
    SQLServerPreflight, SQLServerClone, SQLServerStatements, DBAPIHandler[Connection]
):
    """Rotate SQL Server logins and contained database users."""

    engine = "sqlserver"
    display_name = "SQL Server"
    engine_values = frozenset({"sqlserver"})
    # Admin secrets may carry the engine as RDS reports it (RDS's Engine values, RDS Custom
    # included), e.g. when RDS manages the master secret and DescribeDBInstances supplies it.
    admin_engine_values = frozenset(
        {"sqlserver", "sqlserver-ex", "sqlserver-web", "sqlserver-se", "sqlserver-ee",
         "sqlserver-dev-ee", "custom-sqlserver-ee", "custom-sqlserver-se",
         "custom-sqlserver-web", "custom-sqlserver-dev"}
    )  # fmt: skip
    default_port = 1433
    default_dbname = "master"
    max_username_length = SYSNAME_LENGTH
    driver_module = "pymssql"
    extra = "sqlserver"

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> Connection:
        """Connect with pymssql over TDS 7.4; TLS is required and verified, or off."""
        pymssql = self.driver()
        seconds = max(1, math.ceil(self.settings.connect_timeout))  # pymssql takes whole seconds
        options: dict[str, Any] = {
            "server": secret.host,
            "port": str(secret.port),
            "user": secret.username,
            "password": secret.password,
            "database": secret.dbname or self.default_dbname,
            "login_timeout": seconds,
            "timeout": seconds,
            "tds_version": "7.4",
            "appname": "rotation",
            # Every statement is idempotent and ordered for retries; DDL needs no transaction.
            "autocommit": True,
            "encryption": "require" if tls.enabled else "off",
        }
        try:
            if not tls.enabled:
                conn: Connection = pymssql.connect(**options)
                return conn
            with verifying_ca(tls.ca_file or "system"):
                verified: Connection = pymssql.connect(**options)
            return verified
        except pymssql.Error as exc:
            raise self.connect_error(secret, exc) from exc

    def is_login_rejection(self, exc: BaseException) -> bool:
        """Tell whether the server answered 18456 (login failed)."""
        return number_and_text(exc)[0] == LOGIN_FAILED

    def error_code(self, exc: BaseException) -> str | None:
        """Return the server's (or FreeTDS's) error number."""
        number = number_and_text(exc)[0]
        return None if number is None else str(number)

    def describe_error(self, exc: BaseException) -> str:
        """Describe a pymssql error by number and the server's first line, redacted."""
        number, text = number_and_text(exc)
        line = self.redactor.redact(first_line(text) or type(exc).__name__)
        return f"{number}: {line}" if number is not None else line

    # -- primitives ---------------------------------------------------------------------------

    def set_password(
        self, conn: Connection, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in user's password, proving the one it logged in with."""
        contained = self._is_contained(conn, username)
        self.run(conn, [self.own_password_statement(username, password, old_password,
                                                    contained=contained)])  # fmt: skip

    def set_user_password(self, conn: Connection, username: str, password: str) -> None:
        """As the admin, set the password of an existing login or contained user."""
        contained = self._is_contained(conn, username)
        self.run(conn, [self.set_password_statement(username, password, contained=contained)])

    def user_exists(self, conn: Connection, username: str) -> bool:
        """Tell whether a user exists in the connected database."""
        return bool(self.execute(conn, self.database_user_statement(username)))

    def _is_contained(self, conn: Connection, username: str) -> bool:
        return bool(self.execute(conn, self.contained_user_statement(username))[0][0])
