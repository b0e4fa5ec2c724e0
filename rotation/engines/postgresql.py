"""PostgreSQL and Aurora PostgreSQL.

:engine: ``postgresql``
:driver: psycopg2 (``pip install "rotation[postgresql]"``)
:secret engine values: ``postgres``, ``aurora-postgresql``
:strategies: single user, alternating users
:statements: ``ALTER ROLE <user> WITH PASSWORD <verifier>`` (single user, and the admin on the
    original user); ``CREATE ROLE <clone> WITH LOGIN PASSWORD <verifier>`` or ``ALTER ROLE`` when
    it exists, then ``GRANT <original> TO <clone>``, in one transaction; ``SELECT 1``.

Passwords are sent as SCRAM-SHA-256 verifiers computed here, so the plain password never appears
in the server's statement log. psycopg2 interpolates parameters on the client, so names and
values go through ``psycopg2.sql.Identifier`` and ``sql.Literal``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from typing import TYPE_CHECKING, Any

from rotation.core.config import PasswordPolicy
from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines._dbapi import Statement
from rotation.engines._postgresql_preflight import PostgreSQLPreflight

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

SCRAM_ITERATIONS = 4096
# Messages libpq gives when the server refused the credentials (no SQLSTATE reaches the client).
LOGIN_REJECTED = ("password authentication failed", "authentication failed for user")


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


class PostgreSQLHandler(PostgreSQLPreflight):
    """Rotate PostgreSQL roles."""

    engine = "postgresql"
    display_name = "PostgreSQL"
    engine_values = frozenset({"postgres", "aurora-postgresql"})
    admin_engine_values = engine_values
    default_port = 5432
    default_dbname = "postgres"
    max_username_length = 63  # NAMEDATALEN - 1
    driver_module = "psycopg2"
    extra = "postgresql"
    # ':' breaks .pgpass and connection URIs, so the AWS template leaves it out too.
    password_defaults = PasswordPolicy(exclude_characters="/@\"'\\:")

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> Connection:
        """Connect with libpq; TLS is ``verify-full`` (chain and host name) or disabled."""
        psycopg2 = self.driver()
        options: dict[str, Any] = {
            "host": secret.host,
            "port": secret.port,
            "user": secret.username,
            "password": secret.password,
            "dbname": secret.dbname,
            # libpq takes whole seconds and treats values below 2 as 2.
            "connect_timeout": max(2, math.ceil(self.settings.connect_timeout)),
            "application_name": "rotation",
        }
        if tls.enabled:
            options["sslmode"] = "verify-full"
            # "system" (libpq >= 16) means the OS trust store when no CA file is configured.
            options["sslrootcert"] = tls.ca_file or "system"
        else:
            options["sslmode"] = "disable"
        try:
            conn: Connection = psycopg2.connect(**options)
        except psycopg2.Error as exc:
            raise self.connect_error(secret, exc) from exc
        return conn

    def is_login_rejection(self, exc: BaseException) -> bool:
        """Tell whether libpq's message says the password or role was rejected."""
        return any(marker in str(exc) for marker in LOGIN_REJECTED)

    def error_code(self, exc: BaseException) -> str | None:
        """Return the SQLSTATE of a server error."""
        return getattr(exc, "pgcode", None)

    # -- statements ---------------------------------------------------------------------------

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

    # -- primitives ---------------------------------------------------------------------------

    def set_password(
        self, conn: Connection, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in role's own password."""
        self.run(conn, [self.alter_password_statement(username, password)])

    def set_user_password(self, conn: Connection, username: str, password: str) -> None:
        """As the admin, change another role's password."""
        self.run(conn, [self.alter_password_statement(username, password)])

    def user_exists(self, conn: Connection, username: str) -> bool:
        """Tell whether a role exists."""
        return bool(self.execute(conn, self.role_exists_statement(username)))

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone as a member of the original, in one transaction."""
        if self.user_exists(conn, username):
            statements = [self.enable_login_statement(username, password)]
        else:
            statements = [self.create_login_statement(username, password)]
        if not self.execute(conn, self.membership_statement(template, username)):
            statements.append(self.grant_membership_statement(template, username))
        self.run(conn, statements)


single_user_handler = PostgreSQLHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = PostgreSQLHandler.lambda_handler(strategy=AlternatingUsers())
