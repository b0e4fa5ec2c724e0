"""MySQL and Aurora MySQL.

:engine: ``mysql``
:driver: PyMySQL (``pip install "rotation[mysql]"``)
:secret engine values: ``mysql``, ``aurora-mysql``
:strategies: single user, alternating users, dual passwords (``retain``: MySQL 8.0.14+)
:statements: chosen by the server's product and version (:mod:`.version`). Single user:
    ``ALTER USER CURRENT_USER() IDENTIFIED WITH <own plugin> BY %s [REPLACE %s]`` (MySQL 5.7.6+,
    REPLACE from 8.0.13) or ``SET PASSWORD = PASSWORD(%s)`` (MariaDB, older MySQL). Alternating
    users, for every host of the original: ``CREATE USER`` with the original's plugin and options
    (:mod:`.account`) or, for an existing clone, ``ALTER USER ... IDENTIFIED`` then the options;
    then each ``SHOW GRANTS`` line the clone lacks, re-addressed (:mod:`.grants`: grants, partial
    revokes, MariaDB's default-role lines), then MySQL 8's default roles. Dual passwords:
    ``ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s RETAIN CURRENT PASSWORD`` (or, as
    the admin from masterarn, ``ALTER USER %s@%s IDENTIFIED BY %s RETAIN CURRENT PASSWORD`` at
    every host); the previous password works until the next rotation (``DISCARD OLD PASSWORD``
    at the switch with ``dual_passwords_revoke_now_handler``).
:modules: :mod:`.handler` (connections, primitives), :mod:`.statements` (pure rendering),
    :mod:`.version`, :mod:`.grants`, :mod:`.account` (pure reading of server output), and
    :mod:`.preflight` (read-only hooks of ``rotation check`` and the reads the handler shares).

Names and passwords are bound by PyMySQL, never formatted into SQL. Replayed grant lines come
from the server itself; only their grantee is rewritten, quoted as the server quotes names.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, RetainPrevious, SingleUser
from rotation.engines.mysql.handler import MySQLHandler

__all__ = [
    "MySQLHandler",
    "alternating_users_handler",
    "dual_passwords_handler",
    "dual_passwords_revoke_now_handler",
    "single_user_handler",
]

single_user_handler = MySQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = MySQLHandler.lambda_handler(strategy=AlternatingUsers())
# Zero-downtime single user: the previous password keeps working until the next rotation.
dual_passwords_handler = MySQLHandler.lambda_handler(strategy=RetainPrevious())
# The same, but the previous password is discarded as soon as AWSCURRENT has moved.
dual_passwords_revoke_now_handler = MySQLHandler.lambda_handler(
    strategy=RetainPrevious(revoke_now=True)
)
