"""The MariaDB handler: the MySQL handler with MariaDB's facts and own-password statement."""

from __future__ import annotations

from rotation.engines.dbapi import Statement
from rotation.engines.mysql.handler import MySQLHandler


class MariaDBHandler(MySQLHandler):
    """Rotate MariaDB users."""

    engine = "mariadb"
    display_name = "MariaDB"
    engine_values = frozenset({"mariadb"})
    admin_engine_values = engine_values
    # 128 since MariaDB 10.6 (80 before); the server's own limit is checked before any change.
    max_username_length = 128
    extra = "mariadb"

    def own_password_statement(self, version: tuple[int, ...], password: str) -> Statement:
        """Render ``SET PASSWORD = PASSWORD(%s)``; MariaDB versions do not follow MySQL's."""
        return Statement("SET PASSWORD = PASSWORD(%s)", (password,), "SET PASSWORD")
