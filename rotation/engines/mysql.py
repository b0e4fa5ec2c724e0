"""MySQL and Aurora MySQL.

:engine: ``mysql``
:driver: PyMySQL (``pip install "rotation[mysql]"``)
:secret engine values: ``mysql``, ``aurora-mysql``
:strategies: single user, alternating users
:statements: single user: ``ALTER USER CURRENT_USER() IDENTIFIED BY %s`` (5.7.6 and later) or
    ``SET PASSWORD = PASSWORD(%s)`` (older servers), chosen by the server's version. Alternating
    users, for every host of the original: ``CREATE USER IF NOT EXISTS``, ``ALTER USER ...
    IDENTIFIED BY %s REQUIRE ...`` (copying the original's TLS requirements), then each line of
    ``SHOW GRANTS`` for the original that the clone lacks, re-addressed to the clone.

Names and passwords are bound by PyMySQL, never formatted into SQL. Replayed grant lines come
from the server itself; only their grantee is rewritten, quoted as the server quotes names.
"""

from __future__ import annotations

import re
import ssl as ssl_module
from typing import TYPE_CHECKING, Any

from rotation.core.errors import UserManagementError
from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines._dbapi import Statement, text_value
from rotation.engines._mysql_preflight import MySQLPreflight

if TYPE_CHECKING:
    from pymysql.connections import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

# ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR (database refused for this user) and
# ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
LOGIN_REJECTED = frozenset({1045, 1044, 1698})
# MariaDB shows the password hash in SHOW GRANTS; it must not be replayed (nor logged).
_IDENTIFIED_CLAUSE = re.compile(
    r" IDENTIFIED (?:BY PASSWORD '[^']*'|(?:VIA|WITH) .*?(?= WITH (?:GRANT|MAX_)|$))"
)


def quote_name(name: str) -> str:
    """Quote a user or host name the way SHOW GRANTS does: backticks, inner ones doubled."""
    return "`" + name.replace("`", "``") + "`"


def grantee(username: str, host: str) -> str:
    """Return ``user@host`` as SHOW GRANTS writes it."""
    return f"{quote_name(username)}@{quote_name(host)}"


def readdress_grant(line: str, template: str, clone: str) -> str | None:
    """Rewrite one SHOW GRANTS line of ``template`` so that it grants to ``clone``.

    Returns None for lines that must not be replayed. ``template`` and ``clone`` are full
    grantees as :func:`grantee` renders them.
    """
    line = _IDENTIFIED_CLAUSE.sub("", line)
    for keyword in (" TO ", " FOR "):
        marker = keyword + template
        position = line.rfind(marker)
        if position >= 0:
            end = position + len(marker)
            return line[:position] + keyword + clone + line[end:]
    return None


class MySQLHandler(MySQLPreflight):
    """Rotate MySQL users."""

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

    def own_password_statement(self, version: tuple[int, ...], password: str) -> Statement:
        """Render the statement with which the logged-in user sets its own password."""
        if version >= (5, 7, 6):
            return Statement(
                "ALTER USER CURRENT_USER() IDENTIFIED BY %s",
                (password,),
                "ALTER USER CURRENT_USER()",
            )
        return Statement("SET PASSWORD = PASSWORD(%s)", (password,), "SET PASSWORD")

    def user_hosts_statement(self, username: str) -> Statement:
        """Render the query for a user's host parts and TLS requirements."""
        return Statement(
            "SELECT Host, ssl_type, ssl_cipher, x509_issuer, x509_subject "
            "FROM mysql.user WHERE User = %s ORDER BY Host",
            (username,),
            "look up user hosts",
        )

    def create_user_statement(self, username: str, host: str, password: str) -> Statement:
        """Render ``CREATE USER IF NOT EXISTS``."""
        return Statement(
            "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s",
            (username, host, password),
            "CREATE USER",
        )

    def alter_user_statement(
        self, username: str, host: str, password: str, require: tuple[Any, ...] | None = None
    ) -> Statement:
        """Render ``ALTER USER ... IDENTIFIED BY %s``, with the TLS requirements when given."""
        sql = "ALTER USER %s@%s IDENTIFIED BY %s"
        params: list[Any] = [username, host, password]
        if require is not None:
            clause, require_params = self.require_clause(*require)
            sql += " " + clause
            params += require_params
        return Statement(sql, tuple(params), "ALTER USER")

    @staticmethod
    def require_clause(
        ssl_type: Any, cipher: Any, issuer: Any, subject: Any
    ) -> tuple[str, list[Any]]:
        """Render the REQUIRE clause matching mysql.user's TLS columns."""
        kind = text_value(ssl_type).upper()
        if kind == "ANY":
            return "REQUIRE SSL", []
        if kind == "X509":
            return "REQUIRE X509", []
        if kind == "SPECIFIED":
            parts, params = [], []
            for keyword, value in (("CIPHER", cipher), ("ISSUER", issuer), ("SUBJECT", subject)):
                if text_value(value):
                    parts.append(f"{keyword} %s")
                    params.append(text_value(value))
            return "REQUIRE " + " AND ".join(parts), params
        return "REQUIRE NONE", []

    def show_grants_statement(self, username: str, host: str) -> Statement:
        """Render ``SHOW GRANTS FOR %s@%s``."""
        return Statement("SHOW GRANTS FOR %s@%s", (username, host), "SHOW GRANTS")

    def username_limit_statement(self) -> Statement:
        """Render the query for the width of mysql.user's User column."""
        return Statement(
            "SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user' AND COLUMN_NAME = 'User'",
            None,
            "look up user name limit",
        )

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
                _IDENTIFIED_CLAUSE.sub("", row[0])
                for row in self.execute(conn, self.show_grants_statement(username, host))
            }
            for row in self.execute(conn, self.show_grants_statement(template, host)):
                line = readdress_grant(row[0], source, target)
                if line is not None and line not in have:
                    # The line comes from the server and is executed without parameters,
                    # so '%' in it needs no escaping.
                    self.execute(conn, Statement(line, None, "replay grant"))
        self.commit(conn)

    # -- read-only preflight (rotation check) ---------------------------------------------------

    def _hosts(self, conn: Connection, username: str) -> list[tuple[Any, ...]]:
        rows = self.execute(conn, self.user_hosts_statement(username))
        if not rows:
            raise UserManagementError(f"user {username!r} does not exist on the server")
        return [(text_value(row[0]), *row[1:]) for row in rows]


single_user_handler = MySQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = MySQLHandler.lambda_handler(strategy=AlternatingUsers())
