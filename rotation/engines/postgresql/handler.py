"""The PostgreSQL handler: connections, error mapping and the primitives of both strategies."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rotation.core.config import PasswordPolicy
from rotation.engines.dbapi import Statement, text_value
from rotation.engines.postgresql.preflight import PostgreSQLPreflight
from rotation.engines.postgresql.statements import SCRAM, PostgreSQLStatements

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

# Messages libpq gives when the server refused the credentials (no SQLSTATE reaches the client).
LOGIN_REJECTED = ("password authentication failed", "authentication failed for user")
# From PostgreSQL 16 a role's INHERIT attribute is only the default of grants made to it, and
# GRANT takes WITH INHERIT TRUE; before, a NOINHERIT clone would not use the original's rights.
PG16 = 160000


class PostgreSQLHandler(PostgreSQLStatements, PostgreSQLPreflight):
    """Rotate PostgreSQL roles (statements and preflight hooks come from the mixins)."""

    engine = "postgresql"
    display_name = "PostgreSQL"
    engine_values = frozenset({"postgres", "aurora-postgresql"})
    admin_engine_values = engine_values
    default_port = 5432
    default_dbname = "postgres"
    # NAMEDATALEN - 1, in bytes: longer names are truncated with only a NOTICE
    # (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS).
    max_username_length = 63
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

    def describe_error(self, exc: BaseException) -> str:
        """Return the error's first line plus the server's DETAIL and HINT, redacted.

        On PostgreSQL 16+ "permission denied to grant role" says what is missing only in its
        DETAIL ("Only roles with the ADMIN option on role ... may grant this role"). The
        statement (libpq's "LINE 1: ..." context) is never included.
        """
        text = super().describe_error(exc)
        diag = getattr(exc, "diag", None)
        for label, field in (("DETAIL", "message_detail"), ("HINT", "message_hint")):
            value = getattr(diag, field, None) if diag is not None else None
            if value:
                text += f" {label}: {self.redactor.redact(' '.join(str(value).split()))}"
        return text

    def username_length(self, username: str) -> int:
        """Count a name in UTF-8 bytes, as the server's NAMEDATALEN limit does."""
        return len(username.encode())

    # -- primitives ---------------------------------------------------------------------------

    def password_encryption(self, conn: Connection) -> str:
        """Return the session's ``password_encryption`` (``md5`` or ``scram-sha-256``)."""
        rows = self.execute(conn, self.password_encryption_statement())
        return text_value(rows[0][0]) if rows else SCRAM

    def set_password(
        self, conn: Connection, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in role's own password, hashed as the server is set to."""
        encryption = self.password_encryption(conn)
        self.run(conn, [self.alter_password_statement(username, password, encryption)])

    def set_user_password(self, conn: Connection, username: str, password: str) -> None:
        """As the admin, change another role's password, hashed as the server is set to."""
        encryption = self.password_encryption(conn)
        self.run(conn, [self.alter_password_statement(username, password, encryption)])

    def user_exists(self, conn: Connection, username: str) -> bool:
        """Tell whether a role exists."""
        return bool(self.execute(conn, self.role_exists_statement(username)))

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone, in one transaction, so that it behaves like the original.

        The clone is a member of the original (its privileges), and gets the original's
        role-level settings and the attributes that change behaviour; what the clone has and
        the original no longer has is reset. Everything is compared afresh each time, so a
        re-run after a crash (the transaction rolled back) does the whole job again.
        """
        modern = conn.info.server_version >= PG16
        encryption = self.password_encryption(conn)
        if self.user_exists(conn, username):
            statements = [self.enable_login_statement(username, password, encryption)]
        else:
            statements = [self.create_login_statement(username, password, encryption)]
        statements += self.attribute_statements(conn, template, username, inherit=modern)
        statements += self.setting_statements(conn, template, username)
        membership = self.membership_statement(template, username, inherit_option=modern)
        if not self.execute(conn, membership):
            statements.append(self.grant_membership_statement(template, username, inherit=modern))
        self.run(conn, statements)

    def attribute_statements(
        self, conn: Connection, template: str, username: str, *, inherit: bool
    ) -> list[Statement]:
        """Return the ALTER ROLE that gives the clone the original's behavioural attributes.

        They are CONNECTION LIMIT, VALID UNTIL and (``inherit``, PostgreSQL 16+) INHERIT;
        nothing is returned when they already match. A clone that does not exist yet has the
        defaults: INHERIT, no limit, no expiry. An expiry cannot be removed, only set to
        'infinity', which is what a missing one means.
        """
        found = {
            text_value(name): (bool(inh), int(limit), None if until is None else str(until))
            for name, inh, limit, until in self.execute(
                conn, self.role_attributes_statement(template, username)
            )
        }
        original = found.get(template)
        if original is None:
            return []  # the original is gone: GRANT will fail with the server's message
        clone = found.get(username, (True, -1, None))
        changes: dict[str, Any] = {}
        if inherit and clone[0] != original[0]:
            changes["inherit"] = original[0]
        if clone[1] != original[1]:
            changes["connection_limit"] = original[1]
        until = original[2] if original[2] is not None or clone[2] is None else "infinity"
        if until != clone[2]:
            changes["valid_until"] = until
        return [self.alter_attributes_statement(username, **changes)] if changes else []

    def setting_statements(self, conn: Connection, template: str, username: str) -> list[Statement]:
        """Return the ALTER ROLE ... SET / RESET that make the clone's defaults the original's."""
        settings: dict[str, dict[tuple[str | None, str], str]] = {template: {}, username: {}}
        for role, database, setting in self.execute(
            conn, self.role_settings_statement(template, username)
        ):
            name, _, value = text_value(setting).partition("=")
            db = None if database is None else text_value(database)
            settings[text_value(role)][(db, name)] = value
        wanted, held = settings[template], settings[username]
        statements = [
            self.role_setting_statement(username, db, name, value)
            for (db, name), value in sorted(wanted.items(), key=lambda item: _setting_key(item[0]))
            if held.get((db, name)) != value
        ]
        statements += [
            self.role_setting_statement(username, db, name, None)
            for (db, name) in sorted(held.keys() - wanted.keys(), key=_setting_key)
        ]
        return statements


def _setting_key(key: tuple[str | None, str]) -> tuple[str, str]:
    """Order settings by database (global first) and name, for a stable statement order."""
    return (key[0] or "", key[1])
