"""MariaDB.

:engine: ``mariadb``
:driver: PyMySQL (``pip install "rotation[mariadb]"``)
:secret engine values: ``mariadb``
:strategies: single user, alternating users
:statements: as :mod:`rotation.engines.mysql`, except that a user sets its own password with
    ``SET PASSWORD = PASSWORD(%s)``, which every MariaDB version accepts without privileges.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines._dbapi import Statement
from rotation.engines.mysql import MySQLHandler


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


single_user_handler = MariaDBHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = MariaDBHandler.lambda_handler(strategy=AlternatingUsers())
