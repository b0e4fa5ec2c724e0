"""The conformance backend of the MySQL engine, run on the real MariaDB server.

MySQL 8 cannot be installed here; MariaDB accepts every statement the MySQL engine sends.
"""

from __future__ import annotations

from rotation.engines.mysql import MySQLHandler
from tests.engines.mariadb.backend import MariaDBBackend


class MySQLOnMariaDBBackend(MariaDBBackend):
    """The MySQL engine (ALTER USER CURRENT_USER(), 32-character names) on the MariaDB server."""

    handler_class = MySQLHandler
    engine_value = "mysql"
    hostile_usernames = (
        *MariaDBBackend.hostile_usernames[:-1],
        "N" * (MySQLHandler.max_username_length - len("_clone")),
    )
