"""The MariaDB handler: the MySQL handler with MariaDB's facts.

The statements need no override: the server's handshake says MariaDB (``5.5.5-10.x-MariaDB``),
so :class:`~rotation.engines.mysql.version.ServerVersion` selects ``SET PASSWORD =
PASSWORD(%s)`` for a user's own password (MariaDB's ALTER USER needs CREATE USER even on one's
own account) and leaves out what MariaDB lacks (plugin clause, REPLACE, mysql.default_roles).

MariaDB has no dual passwords (no ``RETAIN CURRENT PASSWORD``), so its functions refuse the
``retain`` strategy when they are built, with a ConfigurationError, rather than fall back to single
user at every rotation: a deployment that asked for zero-downtime rotation must not get a
single-user one silently. (The MySQL engine pointed at a MariaDB server finds out only at run
time, from the server's version, and falls back with a warning.)
"""

from __future__ import annotations

from rotation.core.errors import ConfigurationError
from rotation.core.strategies import RetainPrevious, Strategy, strategy_named
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

    @classmethod
    def require_hooks(cls, strategy: Strategy | str = "single") -> None:
        """Refuse the ``retain`` strategy, then check the hooks as every handler does.

        Raises:
            ConfigurationError: The strategy is ``retain``, or a hook is missing.
        """
        chosen = strategy_named(strategy) if isinstance(strategy, str) else strategy
        if isinstance(chosen, RetainPrevious):
            raise ConfigurationError(
                "MariaDB has no dual passwords (RETAIN CURRENT PASSWORD is MySQL 8.0.14+); "
                "rotate MariaDB users with the single or alternating strategy"
            )
        super().require_hooks(chosen)
