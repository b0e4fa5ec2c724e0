"""Read-only preflight of Redshift sessions for ``rotation check``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.engines.dbapi import Statement
from rotation.engines.postgresql.preflight import PostgreSQLPreflight

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection
else:
    Connection = Any


class RedshiftPreflight(PostgreSQLPreflight):
    """Report whether the admin may create users (Redshift has no CREATEROLE)."""

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Tell whether the admin is a superuser (Redshift has no CREATEROLE); read-only."""
        if not admin:
            return [Finding("privileges: own password", True, "any user may change its own")]
        query = "SELECT usesuper FROM pg_catalog.pg_user WHERE usename = current_user"
        if self.execute(conn, Statement(query, None, "look up own user"))[0][0]:
            return [Finding("privileges: CREATE USER", True, "the admin is a superuser")]
        detail = "not a superuser: needs CREATE USER and GRANT OPTION on what is copied (unchecked)"
        return [Finding("privileges: CREATE USER", False, detail)]
