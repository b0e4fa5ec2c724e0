"""Pure rendering of the MySQL and MariaDB engines' statements, without a server.

:class:`MySQLStatements` is a mixin of :class:`~rotation.engines.mysql.handler.MySQLHandler`.
Every statement is chosen by the server's :class:`~rotation.engines.mysql.version.ServerVersion`
and the account's attributes (:mod:`.account`); grant lines are read by :mod:`.grants`. Names,
passwords and numbers are parameters bound by PyMySQL, never formatted into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement
from rotation.engines.mysql.account import Account, auth_clause, auth_params, option_clauses
from rotation.engines.mysql.version import ServerVersion

_QUOTED_PLUGIN = re.compile(r"'((?:[^'\\]|\\.|'')*)'")


def plugin_from_create_user(line: str, spellings: Sequence[str]) -> str:
    """Read the plugin from ``SHOW CREATE USER`` output (the hash after it is never read).

    The output starts ``CREATE USER <account> IDENTIFIED WITH '<plugin>'``; the account is
    matched exactly, so a user name cannot fake the clause. Returns '' when there is none.
    """
    for spelling in spellings:
        lead = f"CREATE USER {spelling} IDENTIFIED WITH "
        if line.startswith(lead):
            match = _QUOTED_PLUGIN.match(line, len(lead))
            if match:
                return match.group(1)
    return ""


class MySQLStatements:
    """Render the statements the MySQL handler executes (a mixin; pure, no connection)."""

    def session_mode_statement(self, server: ServerVersion) -> Statement:
        """Render ``SET SESSION sql_mode`` for the rotation's own sessions."""
        return Statement("SET SESSION sql_mode = %s", (server.session_sql_mode,), "set sql_mode")

    def own_password_statement(
        self,
        server: ServerVersion,
        password: str,
        current: str,
        plugin: str = "",
        *,
        retain: bool = False,
    ) -> Statement:
        """Render the statement with which the logged-in user sets its own password.

        MySQL 5.7.6+: ``ALTER USER CURRENT_USER() IDENTIFIED [WITH <plugin>] BY <new>``; the
        plugin is the account's own, since ``IDENTIFIED BY`` alone moves the account to the
        server's default plugin. From 8.0.13 ``REPLACE <current>`` follows: required under
        ``password_require_current`` (error 3892 without it), accepted otherwise when correct
        (https://dev.mysql.com/doc/refman/8.0/en/password-management.html). ``retain`` adds
        ``RETAIN CURRENT PASSWORD`` (8.0.14+), keeping the old password as secondary. MariaDB
        and MySQL before 5.7.6: ``SET PASSWORD = PASSWORD(<new>)``.

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
        sql = "ALTER USER CURRENT_USER() IDENTIFIED"
        params: list[str] = []
        if plugin:
            sql += " WITH %s"
            params.append(plugin)
        sql += " BY %s"
        params.append(password)
        if server.replace_current:
            sql += " REPLACE %s"
            params.append(current)
        if retain:
            sql += " RETAIN CURRENT PASSWORD"
        return Statement(sql, tuple(params), "ALTER USER CURRENT_USER()")

    def current_account_statement(self) -> Statement:
        """Render the query for the session's account (``user@host``)."""
        return Statement("SELECT CURRENT_USER()", None, "look up own account")

    def show_create_user_statement(self, username: str, host: str) -> Statement:
        """Render ``SHOW CREATE USER %s@%s`` (allowed on one's own account without privileges)."""
        return Statement("SHOW CREATE USER %s@%s", (username, host), "SHOW CREATE USER")

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
