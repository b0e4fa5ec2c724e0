"""MySQL and Aurora MySQL.

:engine: ``mysql``
:driver: PyMySQL (``pip install "rotation[mysql]"``)
:secret engine values: ``mysql``, ``aurora-mysql``
:strategies: single user, alternating users
:statements: chosen by the server's product and version (:mod:`.version`). Single user:
    ``ALTER USER CURRENT_USER() IDENTIFIED WITH <own plugin> BY %s [REPLACE %s]`` (MySQL 5.7.6+,
    REPLACE from 8.0.13) or ``SET PASSWORD = PASSWORD(%s)`` (MariaDB, older MySQL). Alternating
    users, for every host of the original: ``CREATE USER`` with the original's plugin and options
    (:mod:`.account`) or, for an existing clone, ``ALTER USER ... IDENTIFIED`` then the options;
    then each ``SHOW GRANTS`` line the clone lacks, re-addressed (:mod:`.grants`: grants, partial
    revokes, MariaDB's default-role lines), then MySQL 8's default roles.
:modules: :mod:`.handler` (connections, primitives), :mod:`.statements` (pure rendering),
    :mod:`.version`, :mod:`.grants`, :mod:`.account` (pure reading of server output), and
    :mod:`.preflight` (read-only hooks of ``rotation check`` and the reads the handler shares).

Names and passwords are bound by PyMySQL, never formatted into SQL. Replayed grant lines come
from the server itself; only their grantee is rewritten, quoted as the server quotes names.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.mysql.handler import MySQLHandler

__all__ = ["MySQLHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = MySQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = MySQLHandler.lambda_handler(strategy=AlternatingUsers())
