"""The MySQL handler: connections, error mapping and the primitives of both strategies."""

from __future__ import annotations

import re
import ssl as ssl_module
from typing import TYPE_CHECKING, Any

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement, text_value
from rotation.engines.mysql.preflight import MySQLPreflight
from rotation.engines.mysql.statements import (
    MySQLStatements,
    grantee,
    readdress_grant,
    strip_identified,
)

if TYPE_CHECKING:
    from pymysql.connections import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

# ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR (database refused for this user) and
# ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
LOGIN_REJECTED = frozenset({1045, 1044, 1698})


class MySQLHandler(MySQLStatements, MySQLPreflight):
    """Rotate MySQL users (statements and preflight hooks come from the mixins)."""

    engine = "mysql"
    display_name = "MySQL"
    engine_values = frozenset({"mysql", "aurora-mysql"})
    admin_engine_values = engine_values
    default_port = 3306
    default_dbname = None
    # MySQL 5.7.8 and 8.x allow 32 characters; the server's own limit is checked before any
    # change (see username_limit), so older servers are refused cleanly.
    max_username_length = 32
    driver_module = "pymysql"
    extra = "mysql"

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> Connection:
        """Connect with PyMySQL; TLS requires a verified chain and host name."""
        pymysql = self.driver()
        options: dict[str, Any] = {
            "host": secret.host,
            "port": secret.port,
            "user": secret.username,
            "password": secret.password,
            "database": secret.dbname,
            "connect_timeout": self.settings.connect_timeout,
            # PyMySQL waits for the handshake and every reply without limit by default, so a
            # server that accepts but never answers would hold the function until Lambda
            # kills it. The statements we send are short; the same bound applies.
            "read_timeout": self.settings.connect_timeout,
            "write_timeout": self.settings.connect_timeout,
            "charset": "utf8mb4",
            "autocommit": False,
        }
        if tls.enabled:
            # An SSLContext makes PyMySQL require TLS; its own defaults skip the host name check
            # when no CA file is given and fall back to plaintext when the server has no TLS.
            context = ssl_module.create_default_context(cafile=tls.ca_file)
            context.check_hostname = True
            context.verify_mode = ssl_module.CERT_REQUIRED
            options["ssl"] = context
        else:
            options["ssl_disabled"] = True
        try:
            conn: Connection = pymysql.connect(**options)
        except pymysql.Error as exc:
            raise self.connect_error(secret, exc) from exc
        return conn

    def is_login_rejection(self, exc: BaseException) -> bool:
        """Tell whether the server answered with an access-denied error."""
        return bool(exc.args) and exc.args[0] in LOGIN_REJECTED

    def error_code(self, exc: BaseException) -> str | None:
        """Return the server's error number."""
        return str(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else None

    def describe_error(self, exc: BaseException) -> str:
        """Describe PyMySQL errors, whose str() is a tuple repr, by code and message."""
        if len(exc.args) >= 2:
            return f"{exc.args[0]}: {self.redactor.redact(str(exc.args[1]).splitlines()[0])}"
        return super().describe_error(exc)

    # -- statements ---------------------------------------------------------------------------

    def server_version(self, conn: Connection) -> tuple[int, ...]:
        """Return the server's version as numbers, e.g. (8, 0, 36)."""
        match = re.match(r"(\d+)\.(\d+)\.(\d+)", str(conn.get_server_info()))  # type: ignore[no-untyped-call]
        return tuple(int(part) for part in match.groups()) if match else (0,)

    # -- primitives ---------------------------------------------------------------------------

    def set_password(
        self, conn: Connection, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in user's own password."""
        version = self.server_version(conn)
        self.run(conn, [self.own_password_statement(version, password)])

    def set_user_password(self, conn: Connection, username: str, password: str) -> None:
        """As the admin, set the password of every host entry of a user."""
        hosts = self._hosts(conn, username)
        self.run(conn, [self.alter_user_statement(username, row[0], password) for row in hosts])

    def user_exists(self, conn: Connection, username: str) -> bool:
        """Tell whether any host entry of a user exists."""
        return bool(self.execute(conn, self.user_hosts_statement(username)))

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone at each of the original's hosts, then copy grants.

        Every statement is idempotent and grants are added, never first revoked, so a re-run
        after a crash anywhere completes the clone without a window of missing privileges.
        """
        for host, *require in self._hosts(conn, template):
            self.execute(conn, self.create_user_statement(username, host, password))
            self.execute(conn, self.alter_user_statement(username, host, password, tuple(require)))
            source, target = grantee(template, host), grantee(username, host)
            have = {
                strip_identified(row[0])
                for row in self.execute(conn, self.show_grants_statement(username, host))
            }
            for row in self.execute(conn, self.show_grants_statement(template, host)):
                line = readdress_grant(row[0], source, target)
                if line is not None and line not in have:
                    # The line comes from the server and is executed without parameters,
                    # so '%' in it needs no escaping.
                    self.execute(conn, Statement(line, None, "replay grant"))
        self.commit(conn)

    def _hosts(self, conn: Connection, username: str) -> list[tuple[Any, ...]]:
        rows = self.execute(conn, self.user_hosts_statement(username))
        if not rows:
            raise UserManagementError(f"user {username!r} does not exist on the server")
        return [(text_value(row[0]), *row[1:]) for row in rows]
