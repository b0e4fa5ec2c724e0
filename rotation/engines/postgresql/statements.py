"""Pure rendering of the PostgreSQL engine's statements, without a server.

:class:`PostgreSQLStatements` is a mixin of
:class:`~rotation.engines.postgresql.handler.PostgreSQLHandler` (and, through it, of the Redshift
handler, which overrides what its dialect spells differently). psycopg2 interpolates parameters
on the client and DDL takes none server-side, so names and values go through
``psycopg2.sql.Identifier`` and ``sql.Literal``; only that module of the driver is imported, and
only when a statement is rendered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from rotation.engines.dbapi import Statement

SCRAM_ITERATIONS = 4096


def scram_sha256_verifier(password: str, salt: bytes | None = None) -> str:
    """Return the SCRAM-SHA-256 verifier PostgreSQL stores for ``password``.

    The format is ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (RFC 5803).
    Our generated passwords are printable ASCII, for which SASLprep changes nothing.
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


class PostgreSQLStatements:
    """Render the statements the PostgreSQL handler executes (a mixin; pure, no connection)."""

    def password_literal(self, username: str, password: str) -> Any:
        """Return the SQL literal for a role's password: a SCRAM verifier when possible."""
        from psycopg2 import sql

        if password.isascii() and password.isprintable():
            return sql.Literal(scram_sha256_verifier(password))
        return sql.Literal(password)

    def alter_password_statement(self, username: str, password: str) -> Statement:
        """Render ``ALTER ROLE <user> WITH PASSWORD <secret>``."""
        from psycopg2 import sql

        query = sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
            sql.Identifier(username), self.password_literal(username, password)
        )
        return Statement(query, None, "ALTER ROLE ... PASSWORD")

    def create_login_statement(self, username: str, password: str) -> Statement:
        """Render ``CREATE ROLE <user> WITH LOGIN PASSWORD <secret>``."""
        from psycopg2 import sql

        query = sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD {}").format(
            sql.Identifier(username), self.password_literal(username, password)
        )
        return Statement(query, None, "CREATE ROLE")

    def enable_login_statement(self, username: str, password: str) -> Statement:
        """Render ``ALTER ROLE <user> WITH LOGIN PASSWORD <secret>`` for an existing clone."""
        from psycopg2 import sql

        query = sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
            sql.Identifier(username), self.password_literal(username, password)
        )
        return Statement(query, None, "ALTER ROLE ... LOGIN PASSWORD")

    def grant_membership_statement(self, template: str, username: str) -> Statement:
        """Render ``GRANT <template> TO <user>``: the clone inherits the original's rights."""
        from psycopg2 import sql

        query = sql.SQL("GRANT {} TO {}").format(sql.Identifier(template), sql.Identifier(username))
        return Statement(query, None, "GRANT role")

    def role_exists_statement(self, username: str) -> Statement:
        """Render the query that finds a role by name."""
        return Statement(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (username,), "look up role"
        )

    def membership_statement(self, template: str, username: str) -> Statement:
        """Render the query that tells whether ``username`` is a member of ``template``."""
        return Statement(
            "SELECT 1 FROM pg_catalog.pg_auth_members m "
            "JOIN pg_catalog.pg_roles r ON r.oid = m.roleid "
            "JOIN pg_catalog.pg_roles u ON u.oid = m.member "
            "WHERE r.rolname = %s AND u.rolname = %s",
            (template, username),
            "look up membership",
        )
