"""MySQL and Aurora MySQL.

:engine: ``mysql``
:driver: PyMySQL (``pip install "rotation[mysql]"``)
:secret engine values: ``mysql``, ``aurora-mysql``
:strategies: single user, alternating users
:statements: single user: ``ALTER USER CURRENT_USER() IDENTIFIED BY %s`` (5.7.6 and later) or
    ``SET PASSWORD = PASSWORD(%s)`` (older servers), chosen by the server's version. Alternating
    users, for every host of the original: ``CREATE USER IF NOT EXISTS``, ``ALTER USER ...
    IDENTIFIED BY %s REQUIRE ...`` (copying the original's TLS requirements), then each line of
    ``SHOW GRANTS`` for the original that the clone lacks, re-addressed to the clone.
:modules: :mod:`.handler` (connections, primitives), :mod:`.statements` (pure rendering),
    :mod:`.preflight` (read-only hooks of ``rotation check``).

Names and passwords are bound by PyMySQL, never formatted into SQL. Replayed grant lines come
from the server itself; only their grantee is rewritten, quoted as the server quotes names.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.mysql.handler import MySQLHandler

__all__ = ["MySQLHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = MySQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = MySQLHandler.lambda_handler(strategy=AlternatingUsers())
