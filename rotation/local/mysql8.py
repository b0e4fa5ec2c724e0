"""A DB-API double of a MySQL 8 server's account management, for the MySQL engine's statements.

No MySQL 8 server can run here (Debian's MySQL is MariaDB; no package ships mysqld), so the
engine's flows (clone creation and refresh, own password change, dual passwords, ``rotation
check``) are tested against this model, and ``rotation demo --engine mysql --strategy retain``
runs on it (:class:`MySQL8DoubleStandIn`), saying so: it is not MySQL, there is no wire and no
server. It understands exactly the statements the engine renders (matched by their SQL text, with
the parameters PyMySQL would bind) and models only these documented behaviours:

* SHOW GRANTS prints the account's grant lines, GRANT lines before REVOKE lines, and never the
  default roles (mysql-test/r/roles.result, see ``transcripts.ROLES_JOE``).
* GRANT ... ON *.* by an unrestricted grantor removes the grantee's partial revokes of those
  privileges (mysql-test/suite/auth_sec/r/partial_revokes_add_remove.result, case 1).
* Granting a role needs ROLE_ADMIN (or WITH ADMIN OPTION / SUPER), error 1227 otherwise
  (roles.result, ``transcripts.ROLE_GRANT_DENIED``).
* A password in the account's last ``password_history`` passwords is refused with 3638
  (https://dev.mysql.com/doc/refman/8.0/en/password-management.html#password-reuse-policy).
* With ``password_require_current`` an unprivileged user's own change without REPLACE fails with
  3892, a wrong REPLACE with 3891 (password_require_current.result).
* ``CREATE USER ... IDENTIFIED BY`` without ``WITH`` gives the account the default plugin;
  ``ALTER USER ... IDENTIFIED BY`` without ``WITH`` keeps the account's plugin (the server's
  sql/auth/sql_user.cc, set_and_validate_user_attributes: "If no plugin is given, get existing
  plugin"; mysql-test/suite/auth_sec/r/multiple_passwords.result: a sha256_password account
  keeps it through ``ALTER USER ... IDENTIFIED BY ... RETAIN CURRENT PASSWORD``).
* One's own ``ALTER USER`` needs no privilege only as a plain ``IDENTIFIED BY``; with
  ``IDENTIFIED WITH`` it needs CREATE USER (1227), and RETAIN / DISCARD need CREATE USER or
  APPLICATION_PASSWORD_ADMIN (1227 "CREATE USER or APPLICATION_PASSWORD_ADMIN"): the server's
  sql/sql_parse.cc (SQLCOM_ALTER_USER) and "Statements that modify secondary passwords"
  (https://dev.mysql.com/doc/refman/8.0/en/alter-user.html).
* Dual passwords, MySQL 8.0.14+ ("Dual Password Support",
  https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords): an account
  has a primary and at most one secondary password, and either logs in. ``RETAIN CURRENT
  PASSWORD`` makes the old primary the secondary (replacing any secondary); a change without it
  leaves the secondary unchanged; changing the plugin discards it, and with RETAIN fails (3894);
  RETAIN with an empty primary fails (3878), with an empty new password 3895; ``DISCARD OLD
  PASSWORD`` removes the secondary. Before 8.0.14 the clauses are a syntax error (1064).
* ``REPLACE`` is compared with the primary password only (3891 otherwise; the secondary does not
  count: mysql-test/suite/auth_sec/r/multiple_passwords_ddl.result, "Test 12"), after the password
  history check (sql_user.cc checks the history, then validate_password_require_current), and is
  refused for another account (3893).
* ``PASSWORD()`` no longer exists in MySQL 8.0 (a syntax error, 1064).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import pymysql

from rotation.local.databases import APP_DATABASE, DatabaseStandIn
from rotation.local.servers import ServerInfo, ThrowawayServer

if TYPE_CHECKING:
    from types import TracebackType

COLUMNS = (
    "Host", "User", "plugin", "authentication_string", "ssl_type", "ssl_cipher", "x509_issuer",
    "x509_subject", "max_questions", "max_updates", "max_connections", "max_user_connections",
    "password_lifetime", "account_locked", "Password_reuse_history", "Password_reuse_time",
    "Password_require_current", "User_attributes",
)  # fmt: skip


# A new account's values (https://dev.mysql.com/doc/refman/8.0/en/grant-tables.html: limits are
# 0 = unlimited, NULL policies defer to the server's defaults).
DEFAULTS: dict[str, Any] = {
    "ssl_type": "", "ssl_cipher": b"", "x509_issuer": b"", "x509_subject": b"",
    "max_questions": 0, "max_updates": 0, "max_connections": 0, "max_user_connections": 0,
    "password_lifetime": None, "account_locked": "N", "Password_reuse_history": None,
    "Password_reuse_time": None, "Password_require_current": None,
}  # fmt: skip


@dataclass
class FakeAccount:
    """One mysql.user row and what hangs off it."""

    password: str
    plugin: str = "caching_sha2_password"
    grants: list[str] = field(default_factory=list)  # as SHOW GRANTS prints them, no grantee
    default_roles: list[tuple[str, str]] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # mysql.user option columns
    locking: str | None = None  # $.Password_locking as JSON text
    option_sql: list[str] = field(default_factory=list)  # option clauses received
    privileged: bool = False  # may change passwords without REPLACE (e.g. CREATE USER)
    secondary: str | None = None  # the retained password (8.0.14+)
    app_password_admin: bool = False  # may RETAIN / DISCARD its own secondary password


class FakeServer:
    """The accounts of one server and the statements it received."""

    def __init__(
        self,
        version: str = "8.0.36",
        default_plugin: str = "caching_sha2_password",
        *,
        quoted_grantee: bool = False,
    ) -> None:
        self.version = version
        # MySQL 5.7 writes the grantee as 'user'@'host' (transcripts.MANUAL_5_7_ADMIN).
        self.quoted_grantee = quoted_grantee
        self.default_plugin = default_plugin
        self.accounts: dict[tuple[str, str], FakeAccount] = {}
        self.password_history = 0
        self.require_current = False
        self.failed_logins = 0
        self.items = [1, 2, 3]  # the rows of the demo's table
        self.log: list[tuple[str, tuple[Any, ...] | None]] = []

    def add(self, user: str, host: str = "%", **kwargs: Any) -> FakeAccount:
        """Create the account ``user@host`` (keyword arguments: :class:`FakeAccount` fields)."""
        account = FakeAccount(**kwargs)
        account.history.append(account.password)
        self.accounts[(user, host)] = account
        return account

    def connect(self, user: str, host: str = "%") -> FakeConnection:
        """Return a session of ``user@host`` without checking a password."""
        return FakeConnection(self, (user, host))

    def login(self, user: str, password: str, host: str = "%") -> FakeConnection:
        """Log in with the primary or the secondary password, as MySQL 8.0.14+ accepts both."""
        account = self.accounts.get((user, host))
        if account is None or password not in (account.password, account.secondary):
            self.failed_logins += 1
            raise _error(1045, f"Access denied for user '{user}'@'{host}' (using password: YES)")
        return self.connect(user, host)

    def dual_passwords(self) -> bool:
        """Tell whether this version has RETAIN / DISCARD (MySQL 8.0.14+)."""
        number = tuple(int(part) for part in self.version.split("-")[0].split(".")[:3])
        return number >= (8, 0, 14)

    def grant_lines(self, user: str, host: str) -> list[str]:
        """Return what SHOW GRANTS prints for ``user@host``."""
        account = self.accounts[(user, host)]
        who = f"`{user.replace('`', '``')}`@`{host.replace('`', '``')}`"
        if self.quoted_grantee:
            who = f"'{user}'@'{host}'"
        ordered = sorted(account.grants, key=lambda g: g.startswith("REVOKE"))
        return [g.replace("<who>", who) for g in ordered]


def _error(code: int, message: str) -> pymysql.err.OperationalError:
    return pymysql.err.OperationalError(code, message)


class FakeCursor:
    """A DB-API cursor of a :class:`FakeConnection`."""

    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.rows: list[tuple[Any, ...]] = []
        self.description: tuple[Any, ...] | None = None

    def __enter__(self) -> FakeCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close nothing: the cursor holds no resource."""

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Return the rows of the last statement."""
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """Return the first row of the last statement, or None."""
        return self.rows[0] if self.rows else None

    def execute(self, sql: str, params: Any = None) -> None:
        """Answer one statement; MySQL errors are raised as PyMySQL's exceptions."""
        server = self.connection.server
        server.log.append((sql, tuple(params) if params is not None else None))
        rows = self.connection.answer(sql, tuple(params or ()))
        self.rows = rows if rows is not None else []
        self.description = (("column",),) if rows is not None else None


class FakeConnection:
    """A session of ``account`` on the fake server."""

    def __init__(self, server: FakeServer, account: tuple[str, str]) -> None:
        self.server = server
        self.account = account
        self.commits = 0

    def get_server_info(self) -> str:
        """Return the version string of the handshake."""
        return self.server.version

    def cursor(self) -> FakeCursor:
        """Return a cursor."""
        return FakeCursor(self)

    def commit(self) -> None:
        """Count the commit (account statements take effect at once, as MySQL's DDL does)."""
        self.commits += 1

    def close(self) -> None:
        """Close nothing: the session holds no resource."""

    # -- the statements the handler renders ----------------------------------------------------

    def answer(self, sql: str, p: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
        """Return the rows of ``sql`` (None for a statement without rows) or raise its error."""
        server = self.server
        me = self.account
        if sql.startswith("SET SESSION sql_mode"):
            return None
        if "PASSWORD(" in sql and server.version.startswith("8"):
            raise pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax")
        if sql == "SELECT 1":  # the check query of testSecret
            return [(1,)]
        if sql == MySQL8DoubleStandIn.table_query:  # the demo's proof that a login works
            return [(len(server.items),)]
        if sql == "SELECT CURRENT_USER()":
            return [(f"{me[0]}@{me[1]}",)]
        if sql.startswith("SELECT COLUMN_NAME FROM information_schema.COLUMNS"):
            return [(name,) for name in COLUMNS]
        if re.match(r"SELECT .* FROM mysql\.user WHERE `?User`? = %s", sql):
            return self._account_rows(sql, p[0])
        if sql.startswith("SELECT CURRENT_USER(), GRANTEE"):
            privileges = [g for g in server.accounts[me].grants if " ON *.* " in g]
            names = {n.strip() for g in privileges for n in g[6 : g.index(" ON ")].split(",")}
            grantable = "YES" if any(g.endswith("GRANT OPTION") for g in privileges) else "NO"
            who = f"'{me[0]}'@'{me[1]}'"
            return [(f"{me[0]}@{me[1]}", who, name, grantable) for name in sorted(names)]
        if sql.startswith("SELECT ROLE_NAME, ROLE_HOST FROM information_schema.ENABLED_ROLES"):
            return list(server.accounts[me].default_roles)
        if sql.startswith("SHOW GRANTS FOR CURRENT_USER()"):
            return [(line,) for line in server.grant_lines(*me)]
        if sql.startswith("SELECT @@GLOBAL.password_history"):
            return [(server.password_history, 0, "ON" if server.require_current else "OFF")]
        if sql.startswith("SHOW GRANTS FOR %s@%s"):
            return [(line,) for line in server.grant_lines(p[0], p[1])]
        if sql.startswith("SHOW CREATE USER"):
            account = server.accounts[(p[0], p[1])]
            return [(f"CREATE USER `{p[0]}`@`{p[1]}` IDENTIFIED WITH '{account.plugin}' "
                     "AS '$A$005$hash' REQUIRE NONE",)]  # fmt: skip
        if sql.startswith("SELECT DEFAULT_ROLE_USER"):
            return list(server.accounts[(p[0], p[1])].default_roles)
        if sql.startswith("CREATE USER"):
            self._create(sql, p)
            return None
        if ("RETAIN CURRENT PASSWORD" in sql or "DISCARD OLD PASSWORD" in sql) and (
            not server.dual_passwords()
        ):
            raise pymysql.err.ProgrammingError(1064, "You have an error in your SQL syntax")
        if sql == "ALTER USER CURRENT_USER() DISCARD OLD PASSWORD":
            self._require_secondary_privilege()
            server.accounts[me].secondary = None
            return None
        if sql.startswith("ALTER USER CURRENT_USER()"):
            self._own_password(sql, p)
            return None
        if sql == "ALTER USER %s@%s DISCARD OLD PASSWORD":
            self._require_create_user()
            server.accounts[(p[0], p[1])].secondary = None
            return None
        if sql.startswith("ALTER USER %s@%s DEFAULT ROLE"):
            roles = [] if sql.endswith("NONE") else list(zip(p[2::2], p[3::2], strict=True))
            server.accounts[(p[0], p[1])].default_roles = roles
            return None
        if sql.startswith("ALTER USER %s@%s IDENTIFIED"):
            account = server.accounts[(p[0], p[1])]
            retain = sql.endswith(" RETAIN CURRENT PASSWORD")
            if retain:
                self._require_create_user()
            plugin, password = (p[2], p[3]) if " WITH %s" in sql else (account.plugin, p[2])
            self._set_password(account, p[0], p[1], password, plugin, retain=retain)
            return None
        if sql.startswith("ALTER USER %s@%s "):
            server.accounts[(p[0], p[1])].option_sql.append(sql.removeprefix("ALTER USER %s@%s "))
            return None
        if sql.startswith(("GRANT ", "REVOKE ")):
            self._grant(sql)
            return None
        raise AssertionError(f"the fake does not know {sql!r}")

    def _account_rows(self, sql: str, user: str) -> list[tuple[Any, ...]]:
        assert "authentication_string" not in sql, "the password hash must never be read"
        selected = re.sub(r", JSON_EXTRACT\(.*?\)", "", sql.split(" FROM ")[0]).removeprefix(
            "SELECT "
        )
        names = [name.strip("`") for name in selected.split(", ")][1:]
        rows = []
        for (u, host), account in sorted(self.server.accounts.items()):
            if u != user:
                continue
            values = {"plugin": account.plugin, **DEFAULTS, **account.options}
            row = [host, *(values.get(name, values.get(name.lower())) for name in names)]
            if "JSON_EXTRACT" in sql:
                row.append(account.locking)
            rows.append(tuple(row))
        return rows

    def _set_password(
        self,
        account: FakeAccount,
        user: str,
        host: str,
        password: str,
        plugin: str,
        *,
        retain: bool = False,
        replace: str | None = None,
        missing_current: bool = False,
    ) -> None:
        depth = account.options.get("Password_reuse_history") or self.server.password_history
        if depth and password in account.history[-depth:]:
            raise _error(
                3638,
                f"Cannot use these credentials for '{user}@{host}' because they contradict the "
                "password history policy",
            )
        if missing_current:
            raise _error(3892, "Current password needs to be specified in the REPLACE clause.")
        if replace is not None and replace != account.password:
            raise _error(3891, "Incorrect current password. Specify the correct password which "
                         "has to be replaced.")  # fmt: skip
        if plugin != account.plugin:
            if retain:
                raise _error(3894, f"Current password can not be retained for user "
                             f"'{user}'@'{host}' because authentication plugin is being "
                             "changed.")  # fmt: skip
            account.secondary = None
        if retain:
            if not account.password:
                raise _error(3878, f"Empty password can not be retained as second password "
                             f"for user '{user}'@'{host}'.")  # fmt: skip
            if not password:
                raise _error(3895, f"Current password can not be retained for user '{user}'@"
                             f"'{host}' because new password is empty.")  # fmt: skip
            account.secondary = account.password
        account.password, account.plugin = password, plugin
        account.history.append(password)

    def _require_create_user(self) -> None:
        if not self.server.accounts[self.account].privileged:
            raise _error(1227, "Access denied; you need (at least one of) the CREATE USER "
                         "privilege(s) for this operation")  # fmt: skip

    def _require_secondary_privilege(self) -> None:
        account = self.server.accounts[self.account]
        if not (account.privileged or account.app_password_admin):
            raise _error(1227, "Access denied; you need (at least one of) the CREATE USER or "
                         "APPLICATION_PASSWORD_ADMIN privilege(s) for this operation")  # fmt: skip

    def _create(self, sql: str, p: tuple[Any, ...]) -> None:
        key = (p[0], p[1])
        if key in self.server.accounts and sql.startswith("CREATE USER IF NOT EXISTS"):
            return  # MySQL only notes (3163) that the account exists
        if key in self.server.accounts:
            raise _error(1396, f"Operation CREATE USER failed for '{p[0]}'@'{p[1]}'")
        with_plugin = " IDENTIFIED WITH %s BY %s" in sql
        plugin = p[2] if with_plugin else self.server.default_plugin
        password = p[3] if with_plugin else p[2]
        account = self.server.add(key[0], key[1], password=password, plugin=plugin)
        options = sql.split(" BY %s", 1)[1].strip()
        if options:
            account.option_sql.append(options)

    def _own_password(self, sql: str, p: tuple[Any, ...]) -> None:
        account = self.server.accounts[self.account]
        retain = sql.endswith(" RETAIN CURRENT PASSWORD")
        if " WITH %s" in sql:
            self._require_create_user()
        if retain:
            self._require_secondary_privilege()
        values = list(p)
        plugin = values.pop(0) if " WITH %s" in sql else account.plugin
        password = values.pop(0)
        replace = values.pop(0) if " REPLACE %s" in sql else None
        missing = replace is None and self.server.require_current and not account.privileged
        self._set_password(account, *self.account, password, plugin, retain=retain,
                           replace=replace, missing_current=missing)  # fmt: skip

    def _grant(self, sql: str) -> None:
        match = re.search(r" (?:TO|FROM) `((?:[^`]|``)*)`@`((?:[^`]|``)*)`", sql)
        assert match, sql
        user, host = (part.replace("``", "`") for part in match.groups())
        account = self.server.accounts[(user, host)]
        line = sql[: match.start()] + sql[match.start() : match.end()].split("`", 1)[0] + "<who>"
        line += sql[match.end() :]
        if sql.startswith("GRANT `"):
            admin = self.server.accounts[self.account]
            if not any("ROLE_ADMIN" in g or "SUPER" in g for g in admin.grants):
                raise _error(1227, "Access denied; you need (at least one of) the WITH ADMIN, "
                             "ROLE_ADMIN, SUPER privilege(s) for this operation")  # fmt: skip
        if sql.startswith("GRANT ") and " ON *.* " in sql:
            granted = {name.strip() for name in sql[6 : sql.index(" ON ")].split(",")}
            account.grants = [g for g in account.grants if not (
                g.startswith("REVOKE ") and {n.strip() for n in g[7:g.index(" ON ")].split(",")}
                <= granted)]  # fmt: skip
        if line not in account.grants:
            account.grants.append(line)


class MySQL8DoubleStandIn(DatabaseStandIn):
    """The demo's MySQL 8.0 with dual passwords: this module's double, in process, no server.

    It starts nothing and listens nowhere; a handler reaches it through :meth:`bind`, whose
    connections are logins to the double with the primary or the secondary password.
    """

    display_name = "MySQL 8.0 double (rotation.local.mysql8: a model of its account rules)"
    server_class: ClassVar[type[ThrowawayServer]] = ThrowawayServer
    table_query = f"SELECT COUNT(*) FROM {APP_DATABASE}.items"

    def __init__(self) -> None:
        self.double = FakeServer("8.0.36")
        self.info = ServerInfo("mysql8-double.invalid", 3306, "admin", "", None)

    def __enter__(self) -> MySQL8DoubleStandIn:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def prepare(self) -> None:
        """Nothing to prepare: the double's table has its rows from the start."""

    def create_user(self, username: str, password: str) -> list[str]:
        """Add ``user@'%'`` that may read appdb and keep a secondary password of its own."""
        self.double.add(username, password=password, app_password_admin=True,
                        grants=[f"GRANT SELECT ON `{APP_DATABASE}`.* TO <who>",
                                "GRANT APPLICATION_PASSWORD_ADMIN ON *.* TO <who>"])  # fmt: skip
        return [f"SELECT on {APP_DATABASE}.*", "APPLICATION_PASSWORD_ADMIN"]

    def bind(self, handler_class: type[Any]) -> type[Any]:
        """Return a subclass of the MySQL handler whose connections are logins to the double."""
        double = self.double

        class OnTheDouble(handler_class):  # type: ignore[misc]
            def open_connection(self, secret: Any, tls: Any) -> Any:
                try:
                    return double.login(secret.username, secret.password)
                except pymysql.Error as exc:
                    raise self.connect_error(secret, exc) from exc

        OnTheDouble.__name__ = OnTheDouble.__qualname__ = f"{handler_class.__name__}OnTheDouble"
        return OnTheDouble
