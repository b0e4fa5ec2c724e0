"""The MySQL handler: connections, error mapping and the primitives of both strategies."""

from __future__ import annotations

import ssl as ssl_module
from typing import TYPE_CHECKING, Any

from rotation.core.errors import CredentialNotRetainedError, UserManagementError
from rotation.engines.dbapi import Statement, text_value
from rotation.engines.mysql.account import Account
from rotation.engines.mysql.grants import grantee, grantee_spellings, readdress, replay_plan
from rotation.engines.mysql.preflight import MySQLPreflight
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
# ER_SPECIFIC_ACCESS_DENIED_ERROR: RETAIN / DISCARD on one's own account without
# APPLICATION_PASSWORD_ADMIN or CREATE USER ("CREATE USER or APPLICATION_PASSWORD_ADMIN").
ACCESS_DENIED = 1227
# ER_INCORRECT_CURRENT_PASSWORD: REPLACE names a password that is not the account's primary one;
# the secondary does not count (mysql-test/suite/auth_sec/r/multiple_passwords_ddl.result,
# "Test 12: With REPLACE clause").
NOT_THE_PRIMARY = 3891


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
        """Change the logged-in user's own password (its plugin and secondary password stay)."""
        server = self.server_version(conn)
        self.run(conn, [self.own_password_statement(server, password, old_password)])

    def retain_credential(
        self, conn: Connection, username: str, password: str, current_password: str
    ) -> None:
        """Make ``password`` the primary password and ``current_password`` the secondary one.

        As the user itself (``conn`` is its session): ``ALTER USER CURRENT_USER() IDENTIFIED BY
        <new> REPLACE <current> RETAIN CURRENT PASSWORD``. As the admin: for every host of the
        user, the current password as primary, then the new one with RETAIN. Safe to re-run after
        a crash at any statement without a failed login (see :meth:`_retain_own`,
        :meth:`_retain_at`). The rules are MySQL's "Dual Password Support"
        (https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords).

        Raises:
            CredentialNotRetainedError: The server has no dual passwords (MySQL before 8.0.14,
                MariaDB) or refused RETAIN for lack of APPLICATION_PASSWORD_ADMIN; nothing changed.
        """
        server = self.server_version(conn)
        if not server.dual_passwords:
            raise CredentialNotRetainedError(
                f"{server.describe()} has no dual passwords (RETAIN CURRENT PASSWORD needs "
                "MySQL 8.0.14 or later)"
            )
        if self._session_user(conn) == username:
            self._retain_own(conn, server, password, current_password)
        else:
            for account in self._existing_accounts(conn, username):
                self._retain_at(conn, username, account.host, password, current_password)
        self.commit(conn)

    def revoke_credential(self, conn: Connection, username: str, password: str) -> None:
        """Discard the secondary password (``DISCARD OLD PASSWORD``) of every host entry.

        MySQL keeps one secondary password, which after the switch is the previous one;
        discarding an absent one changes nothing.

        Raises:
            CredentialNotRetainedError: The user lacks APPLICATION_PASSWORD_ADMIN for its own.
        """
        server = self.server_version(conn)
        if not server.dual_passwords:
            return  # no secondary password can exist
        if self._session_user(conn) == username:
            try:
                self.execute(conn, self.discard_old_password_statement(None))
            except UserManagementError as exc:
                self._raise_if_refused(exc)
                raise
        else:
            for account in self._existing_accounts(conn, username):
                self.execute(conn, self.discard_old_password_statement((username, account.host)))
        self.commit(conn)

    def _retain_own(
        self, conn: Connection, server: ServerVersion, password: str, current: str
    ) -> None:
        """Set the own primary password with RETAIN; recognise an earlier attempt's work.

        The session logged in with ``current``. REPLACE is checked against the primary password
        only, after the password history: so 3638 means the new password was set before (only
        this rotation knows it) and 3891 means ``current`` is no longer the primary and, since
        it logs in, is the secondary. Then ``IDENTIFIED BY <new> REPLACE <new>`` (no RETAIN)
        proves the new password is the primary and leaves the secondary alone; if it is not,
        something outside this rotation changed the password, and guessing would cut clients off.
        """
        try:
            self.execute(conn, self.own_password_statement(server, password, current, retain=True))
            return
        except UserManagementError as exc:
            self._raise_if_refused(exc)
            code = self.error_code(exc.__cause__ or exc)
            if code == str(PASSWORD_IN_HISTORY):
                self.logger.info("the pending password is already set (the history refused it)")
                return
            if code != str(NOT_THE_PRIMARY):
                raise
        if not self._unless(conn, self.own_password_statement(server, password, password),
                            NOT_THE_PRIMARY):  # fmt: skip
            raise UserManagementError(
                "the account's primary password is neither AWSCURRENT nor AWSPENDING, and "
                "AWSCURRENT only logs in as its secondary password: it was changed outside this "
                "rotation (or by an abandoned one); set it to AWSCURRENT, then rotate again"
            ) from None
        self.logger.info("an earlier attempt already set the pending password; current retained")

    def _retain_at(
        self, conn: Connection, username: str, host: str, password: str, current: str
    ) -> None:
        """As the admin, make ``password`` the primary and ``current`` the secondary at ``host``.

        The admin cannot use REPLACE for another account (3893), so it makes the state known:
        first ``current`` as primary (the secondary is unchanged), then ``password`` with
        RETAIN. From any state a crash can leave (nothing done; done; ``current`` twice) this
        ends with the new primary and ``current`` secondary. Under a password history the
        server refuses a repeat with 3638, which for the first statement means ``current`` was
        recently set and for the second that this rotation already set ``password`` here.
        """
        self._unless(conn, self.primary_password_statement(username, host, current),
                     PASSWORD_IN_HISTORY)  # fmt: skip
        if not self._unless(conn, self.retain_password_statement(username, host, password),
                            PASSWORD_IN_HISTORY):  # fmt: skip
            self.logger.info(
                "the pending password is already set (the history refused it)",
                extra={"username": username, "host": host},
            )

    def _unless(self, conn: Connection, statement: Statement, code: int) -> bool:
        """Execute ``statement``; return False when the server refused it with error ``code``."""
        try:
            self.execute(conn, statement)
        except UserManagementError as exc:
            if self.error_code(exc.__cause__ or exc) != str(code):
                raise
            return False
        return True

    def _raise_if_refused(self, exc: UserManagementError) -> None:
        """Turn MySQL's refusal of RETAIN / DISCARD for lack of a privilege into its own error."""
        if self.error_code(exc.__cause__ or exc) == str(ACCESS_DENIED):
            raise CredentialNotRetainedError(
                "MySQL refused a secondary-password change (error 1227): RETAIN CURRENT PASSWORD "
                "and DISCARD OLD PASSWORD on one's own account need APPLICATION_PASSWORD_ADMIN "
                "(or CREATE USER); grant it, or name an admin in 'masterarn'"
            ) from exc

    def _session_user(self, conn: Connection) -> str:
        """Return the user part of the session's account (``CURRENT_USER()``)."""
        rows = self.execute(conn, self.current_account_statement())
        return text_value(rows[0][0]).rpartition("@")[0]

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
        if not self._unless(conn, statement, PASSWORD_IN_HISTORY):
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
