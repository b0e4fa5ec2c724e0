"""Pure rendering of the Redshift engine's statements, without a server.

:class:`RedshiftStatements` overrides what Redshift spells differently from PostgreSQL (users,
not roles; md5 password hashes, no SCRAM verifiers). :data:`GRANTABLES` lists the privileges a
clone copies, with the catalog queries that find them; both Redshift and PostgreSQL run them.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

from rotation.engines.dbapi import Statement
from rotation.engines.postgresql.statements import MD5, PostgreSQLStatements, md5_verifier

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

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
# Objects named in one GRANT: keeps a statement far below Redshift's 16 MB statement limit
# (https://docs.aws.amazon.com/redshift/latest/dg/c_redshift-sql.html) and bounds the work a
# timeout can lose, since each GRANT is committed on its own.
GRANT_BATCH = 1000


def grant_batches(
    privileges: Iterable[Privilege], batch: int = GRANT_BATCH
) -> list[tuple[str, str, list[tuple[str, ...]]]]:
    """Group privileges into GRANTs: ``(kind, privilege, objects)``, at most ``batch`` objects.

    One GRANT per privilege and schema for tables, as AWS's own function batches them, per
    privilege for schemas, and per privilege and database for databases (datashare databases
    cannot be mixed with local ones in one statement). Ordered databases, schemas, tables.
    """
    order = {kind: index for index, (kind, _, _) in enumerate(GRANTABLES)}
    groups: dict[tuple[int, str, tuple[str, ...], str], list[tuple[str, ...]]] = {}
    for kind, names, privilege in privileges:
        scope = names if kind == "DATABASE" else names[:-1]
        groups.setdefault((order[kind], privilege, scope, kind), []).append(names)
    batches = []
    for (_, privilege, _, kind), objects in sorted(groups.items()):
        objects.sort()
        batches += [
            (kind, privilege, objects[start : start + batch])
            for start in range(0, len(objects), batch)
        ]
    return batches


class RedshiftStatements(PostgreSQLStatements):
    """Render the statements the Redshift handler executes (a mixin; pure, no connection)."""

    # Users, not roles: Redshift's ALTER ROLE and CREATE ROLE are for RBAC roles.
    alter_password_sql = ("ALTER USER {} PASSWORD {}", "ALTER USER ... PASSWORD")
    create_login_sql = ("CREATE USER {} PASSWORD {}", "CREATE USER")

    def password_literal(self, username: str, password: str, encryption: str = MD5) -> Any:
        """Return the md5 form, or the plain password when the hashed name is uncertain.

        Redshift has only the md5 form, whatever ``encryption`` says. It folds ASCII upper case
        in names unless case-sensitive identifiers are on, so the user name mixed into the hash
        is only certain when it has no ASCII capitals.
        """
        from psycopg2 import sql

        if password.isascii() and password.isprintable() and not set(username) & _CAPITALS:
            return sql.Literal(md5_verifier(password, username))
        return sql.Literal(password)

    def username_limit_statement(self) -> Statement | None:
        """Trust the class limit: Redshift names are 127 bytes whatever PostgreSQL 8 reports."""
        return None

    def role_exists_statement(self, username: str) -> Statement:
        """Render the query that finds a user by name (``pg_user`` exists in both dialects)."""
        return Statement(
            "SELECT 1 FROM pg_catalog.pg_user WHERE usename = %s", (username,), "look up user"
        )

    def grant_statement(
        self,
        kind: str,
        privileges: Iterable[str],
        objects: Sequence[tuple[str, ...]],
        username: str,
    ) -> Statement:
        """Render ``GRANT <privileges> ON <kind> <object>, ... TO <user>``.

        Keywords come from GRANTABLES; Redshift's GRANT takes lists of tables and of schemas
        (https://docs.aws.amazon.com/redshift/latest/dg/r_GRANT.html).
        """
        from psycopg2 import sql

        query = sql.SQL("GRANT {} ON {} {} TO {}").format(
            sql.SQL(", ").join(sql.SQL(p) for p in sorted(privileges)),
            sql.SQL(kind),
            sql.SQL(", ").join(sql.Identifier(*names) for names in objects),
            sql.Identifier(username),
        )
        return Statement(query, None, f"GRANT ON {kind}")
