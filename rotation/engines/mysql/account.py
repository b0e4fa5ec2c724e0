"""Pure rendering of an account's attributes that live outside SHOW GRANTS.

A clone must authenticate and be limited like the original: same authentication plugin (on
MySQL 8.4, ``IDENTIFIED BY`` alone switches an account to the default ``caching_sha2_password``,
which old drivers cannot use), same TLS requirement, resource limits, password expiry, lock
state, password reuse and verification policy and failed-login locking. They are read from
``mysql.user`` column by column, only the columns this server has, and never the password hash:
``authentication_string`` is not selected, and of ``User_attributes`` (which also holds a
secondary password) only ``$.Password_locking`` is.

Column meanings: https://dev.mysql.com/doc/refman/8.0/en/grant-tables.html#grant-tables-user-db
(``password_lifetime`` NULL = default policy, 0 = never; ``Password_reuse_history`` and
``Password_reuse_time`` NULL = default; ``Password_require_current`` 'Y'/'N'/NULL =
CURRENT/OPTIONAL/DEFAULT; ``Password_locking`` keys ``failed_login_attempts`` and
``password_lock_time_days``, a missing key meaning 0).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement, text_value
from rotation.engines.mysql.version import ServerVersion

# Plugins that keep a password in mysql.user (the ones ALTER USER ... BY can set).
# https://dev.mysql.com/doc/refman/8.0/en/authentication-plugins.html
PASSWORD_PLUGINS = frozenset({"mysql_native_password", "caching_sha2_password", "sha256_password"})
# The columns copied, in mysql.user's spelling (MariaDB's mysql.user view has a subset).
ACCOUNT_COLUMNS = (
    "plugin", "ssl_type", "ssl_cipher", "x509_issuer", "x509_subject",
    "max_questions", "max_updates", "max_connections", "max_user_connections",
    "password_lifetime", "account_locked",
    "Password_reuse_history", "Password_reuse_time", "Password_require_current",
)  # fmt: skip
LOCKING_COLUMN = "User_attributes"
_LIMITS = (
    ("max_questions", "MAX_QUERIES_PER_HOUR"),
    ("max_updates", "MAX_UPDATES_PER_HOUR"),
    ("max_connections", "MAX_CONNECTIONS_PER_HOUR"),
    ("max_user_connections", "MAX_USER_CONNECTIONS"),
)


@dataclass(frozen=True)
class Account:
    """One ``user@host`` row of mysql.user, as far as the clone copies it.

    Attributes:
        host: The host part.
        columns: Column name (lower case) to value, for the columns this server has.
        locking: The ``Password_locking`` attribute, or None when the server has none.
    """

    host: str
    columns: Mapping[str, Any] = field(default_factory=dict)
    locking: Mapping[str, int] | None = None

    def value(self, name: str) -> Any:
        """Return a column's value; KeyError when the server has no such column."""
        return self.columns[name.lower()]

    def has(self, name: str) -> bool:
        """Tell whether the server has the column."""
        return name.lower() in self.columns

    @property
    def plugin(self) -> str:
        """Return the authentication plugin's name ('' when the server does not say)."""
        return text_value(self.columns.get("plugin"))


def account_columns_statement() -> Statement:
    """Render the query for the columns mysql.user has on this server."""
    return Statement(
        "SELECT COLUMN_NAME FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = 'mysql' AND TABLE_NAME = 'user'",
        None,
        "look up account columns",
    )


def accounts_statement(username: str, present: Collection[str]) -> Statement:
    """Render the query for a user's rows: host and the copied columns the server has.

    Column names come from :data:`ACCOUNT_COLUMNS` only (never from the server), quoted.
    """
    known = {name.lower(): name for name in present}
    selected = [f"`{known[c.lower()]}`" for c in ACCOUNT_COLUMNS if c.lower() in known]
    if LOCKING_COLUMN.lower() in known:
        selected.append(f"JSON_EXTRACT(`{known[LOCKING_COLUMN.lower()]}`, '$.Password_locking')")
    return Statement(
        f"SELECT `Host`, {', '.join(selected)} FROM mysql.user WHERE `User` = %s ORDER BY `Host`"
        if selected
        else "SELECT `Host` FROM mysql.user WHERE `User` = %s ORDER BY `Host`",
        (username,),
        "look up account attributes",
    )


def account_from_row(present: Collection[str], row: tuple[Any, ...]) -> Account:
    """Build an :class:`Account` from a row of :func:`accounts_statement` on the same columns."""
    known = {name.lower() for name in present}
    names = [c.lower() for c in ACCOUNT_COLUMNS if c.lower() in known]
    columns = dict(zip(names, row[1 : 1 + len(names)], strict=True))
    locking = None
    if LOCKING_COLUMN.lower() in known:
        raw = row[1 + len(names)]
        parsed = json.loads(text_value(raw)) if raw not in (None, b"", "") else {}
        locking = {key: int(value) for key, value in (parsed or {}).items()}
    return Account(text_value(row[0]), columns, locking)


def auth_clause(account: Account, server: ServerVersion) -> str:
    """Render ``IDENTIFIED [WITH %s] BY %s``; the parameters are the plugin (if any), password.

    Raises:
        UserManagementError: The account authenticates with a plugin that takes no password.
    """
    plugin = account.plugin
    if server.mariadb or not plugin:
        return "IDENTIFIED BY %s"
    if plugin not in PASSWORD_PLUGINS:
        raise UserManagementError(
            f"the account at host {account.host!r} authenticates with {plugin!r}, which keeps "
            "no password in MySQL; there is no password to rotate"
        )
    return "IDENTIFIED WITH %s BY %s"


def auth_params(account: Account, server: ServerVersion, password: str) -> tuple[Any, ...]:
    """Return the parameters of :func:`auth_clause`."""
    if auth_clause(account, server) == "IDENTIFIED BY %s":
        return (password,)
    return (account.plugin, password)


def require_clause(ssl_type: Any, cipher: Any, issuer: Any, subject: Any) -> tuple[str, list[Any]]:
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


def option_clauses(account: Account, server: ServerVersion) -> tuple[str, list[Any]]:
    """Render the account options the clone copies, with their parameters ('' when none).

    Numbers are bound as parameters too; keywords come from the column values' meaning only.
    """
    sql: list[str] = []
    params: list[Any] = []
    if account.has("ssl_type"):
        clause, require_params = require_clause(
            *(account.columns.get(name) for name in ("ssl_type", "ssl_cipher", "x509_issuer",
                                                      "x509_subject"))
        )  # fmt: skip
        sql.append(clause)
        params += require_params
    limits = [(keyword, int(account.value(name))) for name, keyword in _LIMITS if account.has(name)]
    if limits:
        sql.append("WITH " + " ".join(f"{keyword} %s" for keyword, _ in limits))
        params += [value for _, value in limits]
    if account.has("password_lifetime"):
        lifetime = account.value("password_lifetime")
        if lifetime is None:
            sql.append("PASSWORD EXPIRE DEFAULT")
        elif int(lifetime) == 0:
            sql.append("PASSWORD EXPIRE NEVER")
        else:
            sql.append("PASSWORD EXPIRE INTERVAL %s DAY")
            params.append(int(lifetime))
    if account.has("account_locked"):
        locked = text_value(account.value("account_locked")).upper() == "Y"
        sql.append("ACCOUNT LOCK" if locked else "ACCOUNT UNLOCK")
    for column, keyword, unit in (
        ("Password_reuse_history", "PASSWORD HISTORY", ""),
        ("Password_reuse_time", "PASSWORD REUSE INTERVAL", " DAY"),
    ):
        if account.has(column):
            value = account.value(column)
            if value is None:
                sql.append(f"{keyword} DEFAULT")
            else:
                sql.append(f"{keyword} %s{unit}")
                params.append(int(value))
    if account.has("Password_require_current"):
        choice = text_value(account.value("Password_require_current")).upper()
        sql.append({"Y": "PASSWORD REQUIRE CURRENT", "N": "PASSWORD REQUIRE CURRENT OPTIONAL"}
                   .get(choice, "PASSWORD REQUIRE CURRENT DEFAULT"))  # fmt: skip
    # FAILED_LOGIN_ATTEMPTS / PASSWORD_LOCK_TIME exist from MySQL 8.0.19; MySQL's own statement
    # rewriter prints a negative lock time as UNBOUNDED.
    if account.locking is not None and server.mysql_at_least(8, 0, 19):
        attempts = account.locking.get("failed_login_attempts", 0)
        days = account.locking.get("password_lock_time_days", 0)
        sql.append("FAILED_LOGIN_ATTEMPTS %s")
        params.append(attempts)
        if days < 0:
            sql.append("PASSWORD_LOCK_TIME UNBOUNDED")
        else:
            sql.append("PASSWORD_LOCK_TIME %s")
            params.append(days)
    return " ".join(sql), params
