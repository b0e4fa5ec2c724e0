"""PostgreSQL and Aurora PostgreSQL.

:engine: ``postgresql``
:driver: psycopg2 (``pip install "rotation[postgresql]"``)
:secret engine values: ``postgres``, ``aurora-postgresql``
:strategies: single user, alternating users
:statements: ``ALTER ROLE <user> WITH PASSWORD <verifier>`` (single user, and the admin on the
    original user); ``CREATE ROLE <clone> WITH LOGIN PASSWORD <verifier>`` or ``ALTER ROLE`` when
    it exists, then ``GRANT <original> TO <clone>``, in one transaction; ``SELECT 1``.
:modules: :mod:`.handler` (connections, primitives), :mod:`.statements` (pure rendering),
    :mod:`.preflight` (read-only hooks of ``rotation check``).

Passwords are sent as SCRAM-SHA-256 verifiers computed here, so the plain password never appears
in the server's statement log. psycopg2 interpolates parameters on the client, so names and
values go through ``psycopg2.sql.Identifier`` and ``sql.Literal``.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.postgresql.handler import PostgreSQLHandler

__all__ = ["PostgreSQLHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = PostgreSQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = PostgreSQLHandler.lambda_handler(strategy=AlternatingUsers())
