"""The PostgreSQL handler: connections, error mapping and the primitives of both strategies."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rotation.core.config import PasswordPolicy
from rotation.engines.postgresql.preflight import PostgreSQLPreflight
from rotation.engines.postgresql.statements import PostgreSQLStatements

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

# Messages libpq gives when the server refused the credentials (no SQLSTATE reaches the client).
LOGIN_REJECTED = ("password authentication failed", "authentication failed for user")


class PostgreSQLHandler(PostgreSQLStatements, PostgreSQLPreflight):
    """Rotate PostgreSQL roles (statements and preflight hooks come from the mixins)."""

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
