"""Redshift's engine, unmodified, on a throwaway PostgreSQL with md5 authentication.

Everything the two dialects share runs for real: ``CREATE USER`` and ``ALTER USER`` with the md5
password form (which then logs in), the ``pg_user`` lookup, the HAS_*_PRIVILEGE queries and the
per-object GRANTs. Parity is checked with HAS_*_PRIVILEGE on a database, two schemas and two
tables, one schema and table with names that need quoting.
"""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from rotation.engines.redshift import RedshiftHandler
from tests.engines.postgresql.backend import APP_DATABASE, PostgreSQLBackend

# A schema and a table whose names need quoting, so the copied GRANTs are hostile too.
ODD_SCHEMA = 'rs we"ird'
ODD_TABLE = "it's; DROP"
TABLES = (("app", "items"), (ODD_SCHEMA, ODD_TABLE))
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "REFERENCES")
DATABASE_CHECK = "SELECT has_database_privilege(%s, %s, %s)"
SCHEMA_CHECK = "SELECT has_schema_privilege(%s, %s, %s)"
TABLE_CHECK = "SELECT has_table_privilege(%s, quote_ident(%s) || '.' || quote_ident(%s), %s)"


class RedshiftBackend(PostgreSQLBackend):
    """Users hold database, schema and table privileges; parity is checked with HAS_*."""

    handler_class = RedshiftHandler
    engine_value = "redshift"
    # Redshift users have no pg_db_role_setting; the engine copies privileges only.
    copies_behaviour = False

    def __init__(self, server: Any) -> None:
        super().__init__(server)
        with self.admin_connection() as conn, conn.cursor() as cur:
            schema = sql.Identifier(ODD_SCHEMA)
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id int)").format(
                sql.Identifier(ODD_SCHEMA, ODD_TABLE)))  # fmt: skip

    def create_user(self, username: str, password: str) -> None:
        """Create the user as PostgreSQL's backend does, plus privileges on every level."""
        super().create_user(username, password)
        ident = sql.Identifier(username)
        with self.admin_connection() as conn, conn.cursor() as cur:
            for statement in (
                "GRANT CREATE ON DATABASE {db} TO {user}",
                "GRANT CREATE ON SCHEMA app TO {user}",
                "GRANT REFERENCES ON app.items TO {user}",
                "GRANT USAGE ON SCHEMA {schema} TO {user}",
                "GRANT SELECT, DELETE ON {table} TO {user}",
            ):
                cur.execute(sql.SQL(statement).format(
                    db=sql.Identifier(APP_DATABASE), user=ident,
                    schema=sql.Identifier(ODD_SCHEMA),
                    table=sql.Identifier(ODD_SCHEMA, ODD_TABLE)))  # fmt: skip

    def privileges(self, username: str) -> frozenset[str]:
        """Return the user's privileges on the app database, both schemas and both tables."""
        checks = [(DATABASE_CHECK, (APP_DATABASE, p)) for p in ("CREATE", "TEMPORARY")]
        checks += [(SCHEMA_CHECK, (schema, p)) for schema in ("app", ODD_SCHEMA)
                   for p in ("CREATE", "USAGE")]  # fmt: skip
        checks += [(TABLE_CHECK, (schema, table, p)) for schema, table in TABLES
                   for p in TABLE_PRIVILEGES]  # fmt: skip
        granted = set()
        with self.admin_connection() as conn, conn.cursor() as cur:
            for query, target in checks:
                cur.execute(query, (username, *target))
                if cur.fetchone()[0]:
                    granted.add(" ".join(target))
        return frozenset(granted)
