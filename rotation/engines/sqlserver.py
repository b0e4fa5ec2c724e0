"""Microsoft SQL Server and Amazon RDS for SQL Server.

:engine: ``sqlserver``
:driver: pymssql with its bundled FreeTDS (``pip install "rotation[sqlserver]"``)
:secret engine values: ``sqlserver``; admin secrets may also say ``sqlserver-ex``,
    ``sqlserver-web``, ``sqlserver-se``, ``sqlserver-ee`` (RDS edition names)
:strategies: single user, alternating users
:statements: single user: ``ALTER LOGIN <login> WITH PASSWORD = <new> OLD_PASSWORD = <old>``,
    where ``<old>`` is the password that logged in; in a contained database ``ALTER USER``
    instead. Alternating users, as the admin: ``CREATE LOGIN`` if missing, ``ALTER LOGIN ...
    WITH PASSWORD``, ``CREATE USER ... FOR LOGIN`` if missing (contained: ``CREATE USER ... WITH
    PASSWORD`` / ``ALTER USER``), then each database role membership (``ALTER ROLE ... ADD
    MEMBER``) and each ``GRANT``/``DENY`` of the original that the clone lacks, read from
    ``sys.database_role_members`` and ``sys.database_permissions``; ``SELECT 1``.

DDL takes no variables, so names and passwords reach the statement through the server: each
change is a batch ``DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(%s) + ...; EXEC
sys.sp_executesql @sql;`` in which pymssql binds every value as an escaped ``N'...'`` literal
and ``QUOTENAME`` quotes names (``[...]``) and passwords (``'...'``) on the server. Python never
formats a name or a password into SQL text. The statements are rendered in
:mod:`rotation.engines._sqlserver_statements`; the read-only hooks of ``rotation check`` live in
:mod:`rotation.engines._sqlserver_preflight`.

TLS: FreeTDS encrypts when pymssql asks for ``encryption="require"``, but verifies the server's
certificate only when its configuration names a ``ca file``; pymssql has no argument for one.
For each TLS connection we therefore point ``FREETDSCONF`` at a generated file whose
``[global]`` section sets ``ca file`` (the configured CA file, or ``system``) and ``check
certificate hostname = yes``, so the chain and the host name are both checked.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
from typing import TYPE_CHECKING, Any

from rotation.core.errors import UserManagementError
from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines._dbapi import DBAPIHandler
from rotation.engines._sqlserver_preflight import SQLServerPreflight
from rotation.engines._sqlserver_statements import (
    SYSNAME_LENGTH,
    SQLServerStatements,
    permission_statement,
)

if TYPE_CHECKING:
    from pymssql import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

LOGIN_FAILED = 18456
SERVER_MESSAGE = "20018"  # FreeTDS: the server sent an error message
_DBLIB_NOISE = "DB-Lib error message"
_FREETDS_FIRST = re.compile(r"DB-Lib error message (\d+)")
_freetds_lock = threading.Lock()  # FREETDSCONF is process-wide; connects that set it take turns


class SQLServerHandler(SQLServerPreflight, SQLServerStatements, DBAPIHandler[Connection]):
    """Rotate SQL Server logins and contained database users."""

    engine = "sqlserver"
    display_name = "SQL Server"
    engine_values = frozenset({"sqlserver"})
    admin_engine_values = frozenset(
        {"sqlserver", "sqlserver-ex", "sqlserver-web", "sqlserver-se", "sqlserver-ee"}
    )
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
            with _freetds_lock:
                previous = os.environ.get("FREETDSCONF")
                os.environ["FREETDSCONF"] = _freetds_conf(tls.ca_file or "system")
                try:
                    conn = pymssql.connect(**options)
                finally:
                    if previous is None:
                        os.environ.pop("FREETDSCONF", None)
                    else:
                        os.environ["FREETDSCONF"] = previous
            return conn
        except pymssql.Error as exc:
            raise self.connect_error(secret, exc) from exc

    def is_login_rejection(self, exc: BaseException) -> bool:
        """Tell whether the server answered 18456 (login failed)."""
        return _number_and_text(exc)[0] == LOGIN_FAILED

    def error_code(self, exc: BaseException) -> str | None:
        """Return the server's (or FreeTDS's) error number."""
        number = _number_and_text(exc)[0]
        return None if number is None else str(number)

    def describe_error(self, exc: BaseException) -> str:
        """Describe a pymssql error by number and the server's first line, redacted."""
        number, text = _number_and_text(exc)
        line = text.split(_DBLIB_NOISE)[0].strip() or text.strip()
        line = self.redactor.redact(line.splitlines()[0] if line else type(exc).__name__)
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

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone, then add the roles and permissions it lacks.

        Order: login, password, database user, roles, permissions. Each step is skipped when
        already done and nothing is revoked, so a re-run after a crash completes the clone.
        """
        template_user = self.execute(conn, self.database_user_statement(template))
        if not template_user:
            raise UserManagementError(f"user {template!r} does not exist in the database")
        schema = template_user[0][0]
        if self._is_contained(conn, template):
            if self.user_exists(conn, username):
                self.execute(conn, self.set_password_statement(username, password, contained=True))
            else:
                self.execute(conn, self.create_user_statement(username, schema, password))
        else:
            if not self.execute(conn, self.login_exists_statement(username))[0][0]:
                self.execute(conn, self.create_login_statement(username, password))
            self.execute(conn, self.set_password_statement(username, password, contained=False))
            if not self.user_exists(conn, username):
                self.execute(conn, self.create_user_statement(username, schema))
        have = {row[0] for row in self.execute(conn, self.roles_statement(username))}
        for (role,) in self.execute(conn, self.roles_statement(template)):
            if role not in have:
                self.execute(conn, self.add_role_member_statement(role, username))
        granted = set(self.execute(conn, self.permissions_statement(username)))
        for row in self.execute(conn, self.permissions_statement(template)):
            if tuple(row) not in granted:
                self.execute(conn, permission_statement(tuple(row), username))

    def _is_contained(self, conn: Connection, username: str) -> bool:
        return bool(self.execute(conn, self.contained_user_statement(username))[0][0])


def _number_and_text(exc: BaseException) -> tuple[int | None, str]:
    """Return the error number and message of a pymssql error.

    Query errors carry ``(number, message)``; connect errors wrap that pair in one more tuple.
    """
    args: tuple[Any, ...] = exc.args
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    if len(args) >= 2 and isinstance(args[0], int):
        raw = args[1]
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        # pymssql reports the number of the last server message the process saw, even one from
        # an earlier connection. Unless FreeTDS's first word is 20018 ("check messages from the
        # server") or a server message leads the text, FreeTDS's own number (20009 unreachable,
        # 20002 TLS or protocol failure) is the cause, not a stale 18456.
        freetds = _FREETDS_FIRST.match(text)
        if freetds and freetds.group(1) != SERVER_MESSAGE:
            return int(freetds.group(1)), text
        return args[0], text
    return None, str(exc)


_conf_files: dict[str, str] = {}


def _freetds_conf(ca_file: str) -> str:
    """Return the path of a FreeTDS configuration that verifies certificates with ``ca_file``."""
    path = _conf_files.get(ca_file)
    if path is None:
        handle, path = tempfile.mkstemp(prefix="rotation-freetds-", suffix=".conf")
        with os.fdopen(handle, "w") as conf:
            conf.write(f"[global]\n\tca file = {ca_file}\n\tcheck certificate hostname = yes\n")
        _conf_files[ca_file] = path
    return path


single_user_handler = SQLServerHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = SQLServerHandler.lambda_handler(strategy=AlternatingUsers())
