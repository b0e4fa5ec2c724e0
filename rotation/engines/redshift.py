"""Amazon Redshift (provisioned clusters and Serverless workgroups).

:engine: ``redshift``
:driver: psycopg2 (``pip install "rotation[redshift]"``)
:secret engine values: ``redshift``
:strategies: single user, alternating users
:statements: ``ALTER USER <user> PASSWORD <md5 hash>`` (single user, and the admin on the
    original user); ``CREATE USER <clone> PASSWORD <md5 hash>`` or ``ALTER USER`` when it exists,
    then one ``GRANT <privileges> ON DATABASE|SCHEMA|TABLE <object> TO <clone>`` per object on
    which the original holds privileges the clone lacks (``HAS_DATABASE_PRIVILEGE``,
    ``HAS_SCHEMA_PRIVILEGE``, ``HAS_TABLE_PRIVILEGE``), all in one transaction; ``SELECT 1``.

Redshift users are not roles that can be granted to each other, so the clone gets copies of the
original's privileges; one GRANT per database because datashare databases cannot be mixed with
local ones in one statement. Privileges are only ever added: revoking the clone's extra rights
could strip it of rights on objects it owns. Passwords are sent as ``'md5' + md5(password +
user)``, which keeps them out of the statement log (Redshift has no SCRAM verifiers).
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rotation.core.config import PasswordPolicy
from rotation.core.database import Finding
from rotation.core.errors import ConfigurationError, UsernameTooLongError
from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines._dbapi import Statement
from rotation.engines.postgresql import PostgreSQLHandler

if TYPE_CHECKING:
    from collections.abc import Iterable

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
_CAPITALS = frozenset(string.ascii_uppercase)


def _flags(function: str, target: str, privileges: tuple[str, ...]) -> str:
    """Return one ``function(%s, target, '<privilege>')`` column per privilege (constants only)."""
    return ", ".join(f"{function}(%s, {target}, '{p}')" for p in privileges)


# Internal schemas (pg_catalog, pg_toast, pg_temp_*; in Redshift also pg_internal, pg_automv).
_SCHEMAS = "n.nspname <> 'information_schema' AND substring(n.nspname, 1, 3) <> 'pg_'"
_DATABASE = ("CREATE", "TEMPORARY")
_SCHEMA = ("CREATE", "USAGE")
_TABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES")
_RELATION = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
# (kind, privileges, query): each query lists objects as name parts followed by one flag per
# privilege for the user bound to every %s. Both Redshift and PostgreSQL run them.
GRANTABLES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("DATABASE", _DATABASE,
     f"SELECT d.datname, {_flags('has_database_privilege', 'd.datname', _DATABASE)} "
     "FROM pg_catalog.pg_database d WHERE NOT d.datistemplate"),
    ("SCHEMA", _SCHEMA,
     f"SELECT n.nspname, {_flags('has_schema_privilege', 'n.nspname', _SCHEMA)} "
     f"FROM pg_catalog.pg_namespace n WHERE {_SCHEMAS}"),
    ("TABLE", _TABLE,
     f"SELECT n.nspname, c.relname, {_flags('has_table_privilege', _RELATION, _TABLE)} "
     "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
     f"WHERE c.relkind IN ('r', 'v', 'm', 'p') AND {_SCHEMAS}"),
)  # fmt: skip
Privilege = tuple[str, tuple[str, ...], str]  # (kind, object name parts, privilege)


def md5_password(password: str, username: str) -> str:
    """Return the ``md5`` form of a password that Redshift accepts in place of the password."""
    return "md5" + hashlib.md5((password + username).encode(), usedforsecurity=False).hexdigest()


class RedshiftHandler(PostgreSQLHandler):
    """Rotate Amazon Redshift users."""

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

    def password_literal(self, username: str, password: str) -> Any:
        """Return the md5 form, or the plain password when the hashed name is uncertain.

        Redshift folds ASCII upper case in names unless case-sensitive identifiers are on, so
        the user name mixed into the hash is only certain when it has no ASCII capitals.
        """
        from psycopg2 import sql

        if password.isascii() and password.isprintable() and not set(username) & _CAPITALS:
            return sql.Literal(md5_password(password, username))
        return sql.Literal(password)

    def alter_password_statement(self, username: str, password: str) -> Statement:
        """Render ``ALTER USER <user> PASSWORD <secret>`` (Redshift's ALTER ROLE is for roles)."""
        from psycopg2 import sql

        query = sql.SQL("ALTER USER {} PASSWORD {}").format(
            sql.Identifier(username), self.password_literal(username, password)
        )
        return Statement(query, None, "ALTER USER ... PASSWORD")

    def create_login_statement(self, username: str, password: str) -> Statement:
        """Render ``CREATE USER <user> PASSWORD <secret>``."""
        from psycopg2 import sql

        query = sql.SQL("CREATE USER {} PASSWORD {}").format(
            sql.Identifier(username), self.password_literal(username, password)
        )
        return Statement(query, None, "CREATE USER")

    def role_exists_statement(self, username: str) -> Statement:
        """Render the query that finds a user by name (``pg_user`` exists in both dialects)."""
        return Statement(
            "SELECT 1 FROM pg_catalog.pg_user WHERE usename = %s", (username,), "look up user"
        )

    def grant_statement(
        self, kind: str, names: tuple[str, ...], privileges: Iterable[str], username: str
    ) -> Statement:
        """Render ``GRANT <privileges> ON <kind> <object> TO <user>`` (keywords from GRANTABLES)."""
        from psycopg2 import sql

        query = sql.SQL("GRANT {} ON {} {} TO {}").format(
            sql.SQL(", ").join(sql.SQL(p) for p in sorted(privileges)),
            sql.SQL(kind),
            sql.Identifier(*names),
            sql.Identifier(username),
        )
        return Statement(query, None, f"GRANT ON {kind}")

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
        """Create or refresh the clone and grant what it lacks of the original's privileges."""
        if len(username.encode()) > self.max_username_length:
            raise UsernameTooLongError(
                f"user name {username!r} is {len(username.encode())} bytes; Redshift allows "
                f"{self.max_username_length}"
            )
        missing = self.privileges_of(conn, template)
        if self.user_exists(conn, username):
            missing -= self.privileges_of(conn, username)
            statements = [self.alter_password_statement(username, password)]
        else:
            statements = [self.create_login_statement(username, password)]
        objects: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for kind, names, privilege in missing:
            objects.setdefault((kind, names), []).append(privilege)
        for (kind, names), privileges in sorted(objects.items()):
            statements.append(self.grant_statement(kind, names, privileges, username))
        self.run(conn, statements)

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Tell whether the admin is a superuser (Redshift has no CREATEROLE); read-only."""
        if not admin:
            return [Finding("privileges: own password", True, "any user may change its own")]
        query = "SELECT usesuper FROM pg_catalog.pg_user WHERE usename = current_user"
        if self.execute(conn, Statement(query, None, "look up own user"))[0][0]:
            return [Finding("privileges: CREATE USER", True, "the admin is a superuser")]
        detail = "not a superuser: needs CREATE USER and GRANT OPTION on what is copied (unchecked)"
        return [Finding("privileges: CREATE USER", False, detail)]


single_user_handler = RedshiftHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = RedshiftHandler.lambda_handler(strategy=AlternatingUsers())
