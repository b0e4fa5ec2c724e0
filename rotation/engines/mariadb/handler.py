"""The MariaDB handler: the MySQL handler with MariaDB's facts.

The statements need no override: the server's handshake says MariaDB (``5.5.5-10.x-MariaDB``),
so :class:`~rotation.engines.mysql.version.ServerVersion` selects ``SET PASSWORD =
PASSWORD(%s)`` for a user's own password (MariaDB's ALTER USER needs CREATE USER even on one's
own account) and leaves out what MariaDB lacks (plugin clause, REPLACE, mysql.default_roles).
"""

from __future__ import annotations

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
