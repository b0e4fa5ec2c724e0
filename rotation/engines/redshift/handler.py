"""The Redshift handler: the PostgreSQL handler with Redshift's password rules and clone."""

from __future__ import annotations

import string
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rotation.core.config import PasswordPolicy
from rotation.core.errors import ConfigurationError
from rotation.engines.dbapi import Statement
from rotation.engines.postgresql.handler import PostgreSQLHandler
from rotation.engines.postgresql.statements import MD5
from rotation.engines.redshift.preflight import RedshiftPreflight
from rotation.engines.redshift.statements import (
    GRANT_BATCH,
    GRANTABLES,
    Privilege,
    RedshiftStatements,
    grant_batches,
)

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection
else:
    Connection = Any

# Redshift's rules for plain-text passwords (CREATE USER): 8-64 printable ASCII characters with
# an upper-case letter, a lower-case letter and a digit, and none of these.
FORBIDDEN = "'\"\\/@ "
MIN_LENGTH, MAX_LENGTH = 8, 64
REQUIRED = (("upper-case letters", string.ascii_uppercase, "exclude_uppercase"),
            ("lower-case letters", string.ascii_lowercase, "exclude_lowercase"),
            ("digits", string.digits, "exclude_numbers"))  # fmt: skip


class RedshiftHandler(RedshiftStatements, RedshiftPreflight, PostgreSQLHandler):
    """Rotate Amazon Redshift users (statements and preflight hooks come from the mixins)."""

    engine = "redshift"
    display_name = "Amazon Redshift"
    engine_values = frozenset({"redshift"})
    admin_engine_values = engine_values
    default_port = 5439
    default_dbname = "dev"
    # Bytes, not characters: docs.aws.amazon.com/redshift/latest/dg/r_names.html
    max_username_length = 127
    extra = "redshift"

    required_exclude_characters = FORBIDDEN
    # Most objects named in one GRANT statement.
    grant_batch_size = GRANT_BATCH

    def enforce_password_policy(self, policy: PasswordPolicy) -> PasswordPolicy:
        """Exclude what Redshift forbids, require each type, refuse settings it would reject.

        Raises:
            ConfigurationError: The length is outside 8-64, or the policy leaves out a character
                type Redshift requires.
        """
        if not MIN_LENGTH <= policy.length <= MAX_LENGTH:
            raise ConfigurationError(
                f"Redshift passwords are {MIN_LENGTH} to {MAX_LENGTH} characters; "
                f"PASSWORD_LENGTH is {policy.length}"
            )
        policy = super().enforce_password_policy(policy)
        for name, chars, flag in REQUIRED:
            if getattr(policy, flag) or not set(chars) - set(policy.exclude_characters):
                raise ConfigurationError(
                    f"Redshift passwords need {name}; the policy excludes them"
                )
        return replace(policy, require_each_included_type=True)

    def password_encryption(self, conn: Connection) -> str:
        """Return ``md5``: Redshift stores no other form, and has no such setting to ask."""
        return MD5

    def privileges_of(self, conn: Connection, username: str) -> set[Privilege]:
        """Return the database, schema and table privileges a user holds, directly or not."""
        held: set[Privilege] = set()
        for kind, privileges, query in GRANTABLES:
            params = (username,) * len(privileges)
            for row in self.execute(conn, Statement(query, params, f"list {kind} privileges")):
                names, flags = tuple(row[: -len(privileges)]), row[-len(privileges) :]
                held.update((kind, names, p) for p, ok in zip(privileges, flags, strict=True) if ok)
        return held

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone, then grant what it lacks, one committed batch at a time.

        A user with thousands of tables would need thousands of GRANTs; they are batched (one
        per privilege and schema, see :func:`grant_batches`) and each is committed, so a run cut
        short by the function's timeout keeps its work and the retry, which recomputes what
        the clone lacks, only grants the rest. The password comes first and is committed too:
        the clone is not used before setSecret returns, which only happens once all is granted.
        """
        exists = self.user_exists(conn, username)
        if exists:
            self.run(conn, [self.alter_password_statement(username, password)])
        else:
            self.run(conn, [self.create_login_statement(username, password)])
        missing = self.privileges_of(conn, template)
        if exists:
            missing -= self.privileges_of(conn, username)
        for kind, privilege, objects in grant_batches(missing, self.grant_batch_size):
            self.run(conn, [self.grant_statement(kind, [privilege], objects, username)])
