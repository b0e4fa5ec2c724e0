"""PostgreSQL and Aurora PostgreSQL.

:engine: ``postgresql``
:driver: psycopg2 (``pip install "rotation[postgresql]"``)
:secret engine values: ``postgres``, ``aurora-postgresql``
:strategies: single user, alternating users
:statements: ``SHOW password_encryption``, then ``ALTER ROLE <user> WITH PASSWORD <verifier>``
    (single user, and the admin on the original user); ``CREATE ROLE <clone> WITH LOGIN PASSWORD
    <verifier>`` or ``ALTER ROLE`` when it exists, ``ALTER ROLE <clone>`` for the original's
    CONNECTION LIMIT / VALID UNTIL / INHERIT and ``[IN DATABASE <db>] SET|RESET`` for its role
    settings, then ``GRANT <original> TO <clone>``, in one transaction; ``SELECT 1``.
:modules: :mod:`.handler` (connections, primitives), :mod:`.statements` (pure rendering),
    :mod:`.preflight` (read-only hooks of ``rotation check``).

Passwords are sent as verifiers computed here, md5 where the session's ``password_encryption``
is md5 and SCRAM-SHA-256 otherwise, so the plain password never appears in the server's
statement log. User names count in bytes (63, NAMEDATALEN - 1). psycopg2 interpolates
parameters on the client, so names and values go through ``psycopg2.sql.Identifier`` and
``sql.Literal``.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.postgresql.handler import PostgreSQLHandler

__all__ = ["PostgreSQLHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = PostgreSQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = PostgreSQLHandler.lambda_handler(strategy=AlternatingUsers())
