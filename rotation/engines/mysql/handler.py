"""The MySQL handler: connections, error mapping and the primitives of both strategies."""

from __future__ import annotations

import ssl as ssl_module
from typing import TYPE_CHECKING, Any

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement, text_value
from rotation.engines.mysql.account import (
    Account,
)
from rotation.engines.mysql.grants import grantee, grantee_spellings, readdress, replay_plan
from rotation.engines.mysql.preflight import MySQLPreflight
from rotation.engines.mysql.statements import plugin_from_create_user
from rotation.engines.mysql.version import ServerVersion

if TYPE_CHECKING:
    from pymysql.connections import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

# ER_ACCESS_DENIED_ERROR, ER_DBACCESS_DENIED_ERROR (database refused for this user) and
# ER_ACCESS_DENIED_NO_PASSWORD_ERROR.
LOGIN_REJECTED = frozenset({1045, 1044, 1698})
# ER_CREDENTIALS_CONTRADICT_TO_HISTORY: password_history / password_reuse_interval refuse a
# password the account already had (https://dev.mysql.com/doc/refman/8.0/en/password-management.html).
PASSWORD_IN_HISTORY = 3638


class MySQLHandler(MySQLPreflight):
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
        """Connect with PyMySQL (TLS requires a verified chain and host name), then set sql_mode."""
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
        try:
            self._configure_session(conn)
        except BaseException:
            self.close_connection(conn)
            raise
        return conn

    def _configure_session(self, conn: Connection) -> None:
        """Fix the session's sql_mode, so SHOW GRANTS quotes names as the grant parser reads them.

        A session setting changes nothing on the server, so it is not reported to the
        statement listener.
        """
        statement = self.session_mode_statement(self.server_version(conn))
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement.sql, statement.params)
        except self.driver().Error as exc:
            raise UserManagementError(
                f"{statement.action} failed: {self.describe_error(exc)}"
            ) from exc

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

    # -- primitives ---------------------------------------------------------------------------

    def set_password(
        self, conn: Connection, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in user's own password, keeping its authentication plugin."""
        server = self.server_version(conn)
        plugin = self._own_plugin(conn) if server.alter_user_password else ""
        self.run(conn, [self.own_password_statement(server, password, old_password, plugin)])

    def _own_plugin(self, conn: Connection) -> str:
        """Return the session account's plugin from SHOW CREATE USER (no privilege needed)."""
        rows = self.execute(conn, self.current_account_statement())
        user, _, host = text_value(rows[0][0]).rpartition("@")
        create = self.execute(conn, self.show_create_user_statement(user, host))
        return plugin_from_create_user(text_value(create[0][0]), grantee_spellings(user, host))

    def set_user_password(self, conn: Connection, username: str, password: str) -> None:
        """As the admin, set the password of every host entry of a user, keeping its plugin."""
        server = self.server_version(conn)
        accounts = self._existing_accounts(conn, username)
        for account in accounts:
            self._set_account_password(conn, username, account, password, server)
        self.commit(conn)

    def user_exists(self, conn: Connection, username: str) -> bool:
        """Tell whether any host entry of a user exists."""
        return bool(self.execute(conn, self.user_hosts_statement(username)))

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone at each of the original's hosts, then copy privileges.

        A missing clone is created with the original's plugin and options in one statement; an
        existing one gets the password, then the options. The grant lines follow (privileges,
        then partial revokes), then MySQL 8's default roles. Every step is idempotent and the
        password is never sent twice to a server that keeps a password history, so a re-run
        after a crash anywhere completes the clone; grants are only added, never revoked first.
        """
        server = self.server_version(conn)
        originals = self._existing_accounts(conn, template)
        existing = {account.host for account in self.accounts(conn, username)}
        for account in originals:
            host = account.host
            if host in existing:
                self._set_account_password(conn, username, account, password, server)
                options = self.account_options_statement(username, host, account, server)
                if options is not None:
                    self.execute(conn, options)
            else:
                self.execute(
                    conn, self.create_user_statement(username, host, password, account, server)
                )
            self._copy_grants(conn, template, username, host)
            if server.roles:
                self._copy_default_roles(conn, template, username, host)
        self.commit(conn)

    # -- helpers ------------------------------------------------------------------------------

    def _existing_accounts(self, conn: Connection, username: str) -> list[Account]:
        accounts = self.accounts(conn, username)
        if not accounts:
            raise UserManagementError(f"user {username!r} does not exist on the server")
        return accounts

    def _set_account_password(
        self,
        conn: Connection,
        username: str,
        account: Account,
        password: str,
        server: ServerVersion,
    ) -> None:
        """Set one account's password; a history refusal means an earlier attempt set it."""
        statement = self.set_password_statement(username, account.host, password, account, server)
        try:
            self.execute(conn, statement)
        except UserManagementError as exc:
            if self.error_code(exc.__cause__ or exc) != str(PASSWORD_IN_HISTORY):
                raise
            # The pending password is new in this rotation, so only an earlier attempt of the
            # same rotation can have put it in the account's history.
            self.logger.info(
                "the pending password is already set (the password history refused it again)",
                extra={"username": username, "host": account.host},
            )

    def _copy_grants(self, conn: Connection, template: str, username: str, host: str) -> None:
        """Replay the original's grant lines that the clone lacks, phase by phase."""
        target = grantee(username, host)
        plan = replay_plan(
            self.grant_lines(conn, template, host), grantee_spellings(template, host), target
        )
        mine = grantee_spellings(username, host)
        changed = True
        for phase in plan.phases:
            if not phase:
                continue
            if changed:
                # A GRANT ... ON *.* clears matching partial revokes, so what the clone has is
                # read again after each phase that changed something.
                have = {
                    readdress(line, mine, target) for line in self.grant_lines(conn, username, host)
                }
            changed = False
            for line in phase:
                if line not in have:
                    # The line comes from the server and is executed without parameters,
                    # so '%' in it needs no escaping.
                    self.execute(conn, Statement(line, None, "replay grant"))
                    changed = True

    def _copy_default_roles(
        self, conn: Connection, template: str, username: str, host: str
    ) -> None:
        """Give the clone the original's default roles, which SHOW GRANTS does not show."""
        wanted = self.default_roles(conn, template, host)
        if self.default_roles(conn, username, host) != wanted:
            self.execute(conn, self.set_default_roles_statement(username, host, wanted))
