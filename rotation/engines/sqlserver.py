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
formats a name or a password into SQL text.

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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines._dbapi import DBAPIHandler, Statement

if TYPE_CHECKING:
    from pymssql import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

LOGIN_FAILED = 18456
SERVER_MESSAGE = "20018"  # FreeTDS: the server sent an error message
SYSNAME_LENGTH = 128  # QUOTENAME returns NULL beyond this, so longer values are refused first
_PERMISSION = re.compile(r"[A-Z]+(?: [A-Z]+)*")  # permission_name is a keyword list
_DBLIB_NOISE = "DB-Lib error message"
_FREETDS_FIRST = re.compile(r"DB-Lib error message (\d+)")
_freetds_lock = threading.Lock()  # FREETDSCONF is process-wide; connects that set it take turns


@dataclass(frozen=True)
class Name:
    """A principal, schema, object or column name: the server quotes it with QUOTENAME."""

    value: str


@dataclass(frozen=True)
class Password:
    """A password: the server makes it an N'...' literal with QUOTENAME(..., '''')."""

    value: str


def dynamic(action: str, *parts: str | Name | Password) -> Statement:
    """Render a batch that assembles one DDL statement on the server and executes it.

    Plain strings are fixed SQL text; names and passwords are bound by pymssql and quoted by
    the server.

    Raises:
        UserManagementError: A name or password exceeds 128 characters, SQL Server's limit.
    """
    pieces: list[str] = []
    params: list[str] = []
    for part in parts:
        if isinstance(part, str):
            # pymssql interpolates %s, so fixed text must hold no '%'.
            assert "%" not in part
            pieces.append("N'" + part.replace("'", "''") + "'")
            continue
        if len(part.value) > SYSNAME_LENGTH:
            what = "name" if isinstance(part, Name) else "password"
            raise UserManagementError(f"{action}: a {what} is longer than {SYSNAME_LENGTH}")
        if isinstance(part, Name):
            pieces.append("QUOTENAME(%s)")
        elif pieces and pieces[-1].startswith("N'"):
            # End the preceding text with N so that the password is a Unicode literal.
            pieces[-1] = pieces[-1][:-1] + "N'"
            pieces.append("QUOTENAME(%s, '''')")
        else:
            pieces.append("N'N' + QUOTENAME(%s, '''')")
        params.append(part.value)
    sql = f"DECLARE @sql nvarchar(max) = {' + '.join(pieces)}; EXEC sys.sp_executesql @sql;"
    return Statement(sql, tuple(params), action)


_PERMISSIONS_SQL = (
    "SELECT p.class, p.permission_name, p.state, COALESCE(os.name, s.name, ts.name), "
    "COALESCE(o.name, dp.name, t.name), c.name, dp.type "
    "FROM sys.database_permissions p "
    "JOIN sys.database_principals g ON g.principal_id = p.grantee_principal_id "
    "LEFT JOIN sys.all_objects o ON p.class = 1 AND o.object_id = p.major_id "
    "LEFT JOIN sys.schemas os ON os.schema_id = o.schema_id "
    "LEFT JOIN sys.all_columns c ON p.class = 1 AND c.object_id = p.major_id "
    "AND c.column_id = p.minor_id "
    "LEFT JOIN sys.schemas s ON p.class = 3 AND s.schema_id = p.major_id "
    "LEFT JOIN sys.database_principals dp ON p.class = 4 AND dp.principal_id = p.major_id "
    "LEFT JOIN sys.types t ON p.class = 6 AND t.user_type_id = p.major_id "
    "LEFT JOIN sys.schemas ts ON ts.schema_id = t.schema_id "
    "WHERE g.name = %s"
)
# sys.database_principals.type of a class 4 securable -> its securable keyword.
_PRINCIPAL_CLASS = {"S": "USER", "U": "USER", "G": "USER", "E": "USER", "X": "USER",
                    "C": "USER", "K": "USER", "R": "ROLE", "A": "APPLICATION ROLE"}  # fmt: skip


def permission_statement(row: tuple[Any, ...], grantee: str) -> Statement:
    """Render the GRANT/DENY that gives ``grantee`` one row of the permissions query.

    Raises:
        UserManagementError: The row is of a securable class this engine does not replay.
    """
    klass, permission, state, schema, name, column, principal_type = row
    permission = str(permission).strip()
    if not _PERMISSION.fullmatch(permission):
        raise UserManagementError("replay permission: unexpected permission name")
    verb = "DENY " if state == "D" else "GRANT "
    parts: list[str | Name | Password] = [verb + permission]
    if klass == 1:
        parts += [" ON OBJECT::", Name(schema), ".", Name(name)]
        if column is not None:
            parts += [" (", Name(column), ")"]
    elif klass == 3:
        parts += [" ON SCHEMA::", Name(schema)]
    elif klass == 4:
        parts += [f" ON {_PRINCIPAL_CLASS.get(str(principal_type).strip(), 'USER')}::", Name(name)]
    elif klass == 6:
        parts += [" ON TYPE::", Name(schema), ".", Name(name)]
    elif klass != 0:
        raise UserManagementError(
            f"replay permission: securable class {klass} is not supported; grant it by hand"
        )
    parts += [" TO ", Name(grantee)]
    if state == "W":
        parts.append(" WITH GRANT OPTION")
    return dynamic("replay permission", *parts)


class SQLServerHandler(DBAPIHandler[Connection]):
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

    # -- statements ---------------------------------------------------------------------------

    def contained_user_statement(self, username: str) -> Statement:
        """Render the query telling whether a user authenticates in this (contained) database."""
        return Statement(
            "SELECT COUNT(*) FROM sys.database_principals "
            "WHERE name = %s AND authentication_type = 2",
            (username,),
            "look up contained user",
        )

    def login_exists_statement(self, username: str) -> Statement:
        """Render the query for a server login."""
        return Statement(
            "SELECT COUNT(*) FROM sys.server_principals WHERE name = %s",
            (username,),
            "look up login",
        )

    def database_user_statement(self, username: str) -> Statement:
        """Render the query for a database user and its default schema."""
        return Statement(
            "SELECT default_schema_name FROM sys.database_principals WHERE name = %s",
            (username,),
            "look up database user",
        )

    def roles_statement(self, username: str) -> Statement:
        """Render the query for a user's database role memberships."""
        return Statement(
            "SELECT r.name FROM sys.database_role_members m "
            "JOIN sys.database_principals r ON r.principal_id = m.role_principal_id "
            "JOIN sys.database_principals u ON u.principal_id = m.member_principal_id "
            "WHERE u.name = %s",
            (username,),
            "look up role memberships",
        )

    def permissions_statement(self, username: str) -> Statement:
        """Render the query for a user's database permissions, with every securable's names."""
        return Statement(_PERMISSIONS_SQL, (username,), "look up permissions")

    def own_password_statement(
        self, username: str, password: str, old_password: str, *, contained: bool
    ) -> Statement:
        """Render ``ALTER LOGIN|USER <me> WITH PASSWORD = <new> OLD_PASSWORD = <old>``."""
        kind = "USER" if contained else "LOGIN"
        return dynamic(f"ALTER {kind} (own password)", f"ALTER {kind} ", Name(username),
                       " WITH PASSWORD = ", Password(password),
                       " OLD_PASSWORD = ", Password(old_password))  # fmt: skip

    def set_password_statement(self, username: str, password: str, *, contained: bool) -> Statement:
        """Render the admin's ``ALTER LOGIN|USER <user> WITH PASSWORD = <new>``."""
        kind = "USER" if contained else "LOGIN"
        return dynamic(f"ALTER {kind}", f"ALTER {kind} ", Name(username),
                       " WITH PASSWORD = ", Password(password))  # fmt: skip

    def create_login_statement(self, username: str, password: str) -> Statement:
        """Render ``CREATE LOGIN <user> WITH PASSWORD = <password>``."""
        return dynamic("CREATE LOGIN", "CREATE LOGIN ", Name(username),
                       " WITH PASSWORD = ", Password(password))  # fmt: skip

    def create_user_statement(
        self, username: str, schema: str | None, password: str | None = None
    ) -> Statement:
        """Render ``CREATE USER`` for a login, or with a password (contained database)."""
        parts: list[str | Name | Password] = ["CREATE USER ", Name(username)]
        if password is None:
            parts += [" FOR LOGIN ", Name(username)]
            if schema is not None:
                parts += [" WITH DEFAULT_SCHEMA = ", Name(schema)]
        else:
            parts += [" WITH PASSWORD = ", Password(password)]
            if schema is not None:
                parts += [", DEFAULT_SCHEMA = ", Name(schema)]
        return dynamic("CREATE USER", *parts)

    def add_role_member_statement(self, role: str, username: str) -> Statement:
        """Render ``ALTER ROLE <role> ADD MEMBER <user>``."""
        return dynamic("ALTER ROLE", "ALTER ROLE ", Name(role), " ADD MEMBER ", Name(username))

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

    # -- read-only preflight (rotation check) ---------------------------------------------------

    def server_version_statement(self) -> Statement:
        """Render the query for the product version and the ``@@VERSION`` banner."""
        return Statement(
            "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), @@VERSION",
            None,
            "look up server version",
        )

    def encryption_statement(self) -> Statement:
        """Render the query telling whether this session's connection is encrypted."""
        return Statement(
            "SELECT encrypt_option FROM sys.dm_exec_connections WHERE session_id = @@SPID",
            None,
            "look up connection encryption",
        )

    def admin_permissions_statement(self) -> Statement:
        """Render the query for the admin's login, user and role-management permissions."""
        return Statement(
            "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY LOGIN'), "
            "HAS_PERMS_BY_NAME(db_name(), 'DATABASE', 'ALTER ANY USER'), "
            "IS_ROLEMEMBER('db_owner'), "
            "HAS_PERMS_BY_NAME(db_name(), 'DATABASE', 'ALTER ANY ROLE')",
            None,
            "look up admin permissions",
        )

    def session_facts(self, conn: Connection) -> dict[str, str]:
        """Report the product version, the banner's first line and the connection's encryption.

        FreeTDS reports no TLS version. Reading ``sys.dm_exec_connections`` needs VIEW SERVER
        STATE; without it the encryption is left unreported.
        """
        version, banner = self.execute(conn, self.server_version_statement())[0]
        facts = {
            "server_version": str(version),
            "server": str(banner).strip().splitlines()[0].rstrip(),
        }
        try:
            rows = self.execute(conn, self.encryption_statement())
        except UserManagementError:
            return facts
        if rows:
            facts["encrypt_option"] = str(rows[0][0]).upper()
            if facts["encrypt_option"] == "TRUE":
                facts["tls_version"] = "TLS (encrypt_option TRUE; FreeTDS reports no version)"
        return facts

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Check ALTER ANY LOGIN/USER, role management and the original for the admin; read-only.

        A login or contained user changes its own password with OLD_PASSWORD and needs no
        permission for it.
        """
        contained = self._is_contained(conn, username)
        if not admin:
            kind = "contained database user" if contained else "login"
            detail = f"a {kind} may change its own password with OLD_PASSWORD; nothing else needed"
            return [Finding("privileges: own password", True, detail)]
        login, user, owner, roles = self.execute(conn, self.admin_permissions_statement())[0]
        if contained:
            login_detail = "not needed: the original is a contained database user"
        else:
            login_detail = "held" if login else "missing: the admin cannot create the clone's login"
        findings = [
            Finding("privileges: ALTER ANY LOGIN", contained or bool(login), login_detail),
            Finding(
                "privileges: ALTER ANY USER",
                bool(user),
                "held" if user else "missing: the admin cannot create the clone's database user",
            ),
        ]
        if owner:
            detail = "the admin is db_owner: it can add role members and grant permissions"
        elif roles:
            detail = "ALTER ANY ROLE held; permissions are copied only where the admin may grant"
        else:
            detail = "missing: db_owner or ALTER ANY ROLE is needed to add the clone to roles"
        findings.append(Finding("privileges: role membership", bool(owner or roles), detail))
        exists = bool(self.execute(conn, self.database_user_statement(username)))
        where = "a database user"
        if exists and not contained:
            exists = bool(self.execute(conn, self.login_exists_statement(username))[0][0])
            where = "a login and a database user"
        state = f"has {where}" if exists else f"lacks {where} (or the admin cannot see it)"
        findings.append(Finding("user exists", exists, f"{username!r} {state}"))
        return findings

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
