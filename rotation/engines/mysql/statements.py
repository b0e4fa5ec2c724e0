"""Pure rendering of the MySQL and MariaDB engines' statements, without a server.

:class:`MySQLStatements` is a mixin of :class:`~rotation.engines.mysql.handler.MySQLHandler`;
the module functions quote names the way ``SHOW GRANTS`` prints them and re-address its lines to
the clone. Names and passwords are parameters bound by PyMySQL, never formatted into SQL.
"""

from __future__ import annotations

import re
from typing import Any

from rotation.engines.dbapi import Statement, text_value

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
    line = strip_identified(line)
    for keyword in (" TO ", " FOR "):
        marker = keyword + template
        position = line.rfind(marker)
        if position >= 0:
            end = position + len(marker)
            return line[:position] + keyword + clone + line[end:]
    return None


def strip_identified(line: str) -> str:
    """Remove the ``IDENTIFIED ...`` clause (a password hash) from a SHOW GRANTS line."""
    return _IDENTIFIED_CLAUSE.sub("", line)


class MySQLStatements:
    """Render the statements the MySQL handler executes (a mixin; pure, no connection)."""

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
