"""Pure rendering of the MySQL and MariaDB engines' statements, without a server.

:class:`MySQLStatements` is a mixin of :class:`~rotation.engines.mysql.handler.MySQLHandler`.
Every statement is chosen by the server's :class:`~rotation.engines.mysql.version.ServerVersion`
and the account's attributes (:mod:`.account`); grant lines are read by :mod:`.grants`. Names,
passwords and numbers are parameters bound by PyMySQL, never formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement
from rotation.engines.mysql.account import Account, auth_clause, auth_params, option_clauses
from rotation.engines.mysql.version import ServerVersion

# MySQL's server source, sql/sql_parse.cc (mysql_execute_command, SQLCOM_ALTER_USER): one's own
# ALTER USER counts as the unprivileged "password change" only with IDENTIFIED BY and no other
# clause, IDENTIFIED WITH included; otherwise it needs CREATE USER or UPDATE on mysql.* (error
# 1227). RETAIN CURRENT PASSWORD / DISCARD OLD PASSWORD on one's own account need CREATE USER
# or APPLICATION_PASSWORD_ADMIN besides ("Statements that modify secondary passwords",
# https://dev.mysql.com/doc/refman/8.0/en/alter-user.html). And sql/auth/sql_user.cc
# (set_and_validate_user_attributes) keeps the account's plugin when ALTER USER names none
# ("If no plugin is given, get existing plugin"), so the own statements carry no WITH clause.


class MySQLStatements:
    """Render the statements the MySQL handler executes (a mixin; pure, no connection)."""

    def session_mode_statement(self, server: ServerVersion) -> Statement:
        """Render ``SET SESSION sql_mode`` for the rotation's own sessions."""
        return Statement("SET SESSION sql_mode = %s", (server.session_sql_mode,), "set sql_mode")

    def own_password_statement(
        self, server: ServerVersion, password: str, current: str, *, retain: bool = False
    ) -> Statement:
        """Render the statement with which the logged-in user sets its own password.

        MySQL 5.7.6+: ``ALTER USER CURRENT_USER() IDENTIFIED BY <new>``, which keeps the
        account's plugin and needs no privilege (see the module comment; ``IDENTIFIED WITH``
        would need CREATE USER). From 8.0.13 ``REPLACE <current>`` follows: required under
        ``password_require_current`` (error 3892 without it), checked against the primary
        password otherwise (3891 when it differs,
        https://dev.mysql.com/doc/refman/8.0/en/password-management.html). ``retain`` adds
        ``RETAIN CURRENT PASSWORD`` (8.0.14+), keeping the old password as the secondary; it
        needs APPLICATION_PASSWORD_ADMIN or CREATE USER. MariaDB and MySQL before 5.7.6:
        ``SET PASSWORD = PASSWORD(<new>)``.

        Raises:
            UserManagementError: ``retain`` was asked of a server without dual passwords.
        """
        if retain and not server.dual_passwords:
            raise UserManagementError(
                f"{server.describe()} has no dual passwords (RETAIN CURRENT PASSWORD needs "
                "MySQL 8.0.14 or later)"
            )
        if not server.alter_user_password:
            return Statement("SET PASSWORD = PASSWORD(%s)", (password,), "SET PASSWORD")
        sql = "ALTER USER CURRENT_USER() IDENTIFIED BY %s"
        params: tuple[str, ...] = (password,)
        if server.replace_current:
            sql += " REPLACE %s"
            params += (current,)
        if retain:
            sql += " RETAIN CURRENT PASSWORD"
        return Statement(sql, params, "ALTER USER CURRENT_USER()")

    def retain_password_statement(self, username: str, host: str, password: str) -> Statement:
        """Render ``ALTER USER %s@%s IDENTIFIED BY %s RETAIN CURRENT PASSWORD`` (the admin's).

        The primary password becomes the secondary one, replacing any secondary; the account
        keeps its plugin (changing it with RETAIN fails with 3894,
        https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords).
        """
        return Statement(
            "ALTER USER %s@%s IDENTIFIED BY %s RETAIN CURRENT PASSWORD",
            (username, host, password),
            "ALTER USER RETAIN CURRENT PASSWORD",
        )

    def primary_password_statement(self, username: str, host: str, password: str) -> Statement:
        """Render ``ALTER USER %s@%s IDENTIFIED BY %s``: a new primary, the secondary unchanged.

        "If an account has a secondary password and you change its primary password without
        specifying RETAIN CURRENT PASSWORD, the secondary password remains unchanged"
        (https://dev.mysql.com/doc/refman/8.0/en/alter-user.html); the plugin is kept.
        """
        return Statement(
            "ALTER USER %s@%s IDENTIFIED BY %s", (username, host, password), "ALTER USER"
        )

    def discard_old_password_statement(self, account: tuple[str, str] | None) -> Statement:
        """Render ``ALTER USER ... DISCARD OLD PASSWORD`` for ``(user, host)``, or one's own."""
        if account is None:
            return Statement(
                "ALTER USER CURRENT_USER() DISCARD OLD PASSWORD",
                None,
                "ALTER USER CURRENT_USER() DISCARD OLD PASSWORD",
            )
        return Statement(
            "ALTER USER %s@%s DISCARD OLD PASSWORD", account, "ALTER USER DISCARD OLD PASSWORD"
        )

    def current_account_statement(self) -> Statement:
        """Render the query for the session's account (``user@host``)."""
        return Statement("SELECT CURRENT_USER()", None, "look up own account")

    def user_hosts_statement(self, username: str) -> Statement:
        """Render the query for a user's host parts."""
        return Statement(
            "SELECT Host FROM mysql.user WHERE User = %s ORDER BY Host",
            (username,),
            "look up user hosts",
        )

    def create_user_statement(
        self, username: str, host: str, password: str, account: Account, server: ServerVersion
    ) -> Statement:
        """Render ``CREATE USER`` with the original's plugin and options, in one statement."""
        options, option_params = option_clauses(account, server)
        sql = f"CREATE USER %s@%s {auth_clause(account, server)}"
        if options:
            sql += " " + options
        params = (username, host, *auth_params(account, server, password), *option_params)
        return Statement(sql, params, "CREATE USER")

    def set_password_statement(
        self, username: str, host: str, password: str, account: Account, server: ServerVersion
    ) -> Statement:
        """Render ``ALTER USER %s@%s IDENTIFIED [WITH %s] BY %s``, keeping ``account``'s plugin."""
        return Statement(
            f"ALTER USER %s@%s {auth_clause(account, server)}",
            (username, host, *auth_params(account, server, password)),
            "ALTER USER",
        )

    def account_options_statement(
        self, username: str, host: str, account: Account, server: ServerVersion
    ) -> Statement | None:
        """Render ``ALTER USER %s@%s <options>`` copying ``account``'s options, or None."""
        options, params = option_clauses(account, server)
        if not options:
            return None
        return Statement(f"ALTER USER %s@%s {options}", (username, host, *params), "ALTER USER")

    def show_grants_statement(self, username: str, host: str) -> Statement:
        """Render ``SHOW GRANTS FOR %s@%s``."""
        return Statement("SHOW GRANTS FOR %s@%s", (username, host), "SHOW GRANTS")

    def default_roles_statement(self, username: str, host: str) -> Statement:
        """Render the query for an account's default roles (MySQL 8: ``mysql.default_roles``).

        SHOW GRANTS does not show them, and with ``activate_all_roles_on_login`` OFF only the
        default roles are active after login (https://dev.mysql.com/doc/refman/8.0/en/roles.html).
        """
        return Statement(
            "SELECT DEFAULT_ROLE_USER, DEFAULT_ROLE_HOST FROM mysql.default_roles "
            "WHERE USER = %s AND HOST = %s ORDER BY DEFAULT_ROLE_USER, DEFAULT_ROLE_HOST",
            (username, host),
            "look up default roles",
        )

    def set_default_roles_statement(
        self, username: str, host: str, roles: Sequence[tuple[str, str]]
    ) -> Statement:
        """Render ``ALTER USER %s@%s DEFAULT ROLE <roles>`` (``NONE`` for no roles)."""
        if not roles:
            return Statement(
                "ALTER USER %s@%s DEFAULT ROLE NONE", (username, host), "ALTER USER DEFAULT ROLE"
            )
        placeholders = ", ".join("%s@%s" for _ in roles)
        params = (username, host, *(part for role in roles for part in role))
        return Statement(
            f"ALTER USER %s@%s DEFAULT ROLE {placeholders}", params, "ALTER USER DEFAULT ROLE"
        )

    def username_limit_statement(self) -> Statement:
        """Render the query for the width of mysql.user's User column."""
        return Statement(
            "SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user' AND COLUMN_NAME = 'User'",
            None,
            "look up user name limit",
        )
