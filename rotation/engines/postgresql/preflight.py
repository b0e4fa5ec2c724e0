"""Read-only preflight of PostgreSQL sessions for ``rotation check``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.engines.dbapi import DBAPIHandler, Statement

if TYPE_CHECKING:
    from psycopg2.extensions import connection as Connection
else:
    Connection = Any


class PostgreSQLPreflight(DBAPIHandler[Connection]):
    """Report the session's TLS and whether the admin may create and alter roles."""

    def session_facts(self, conn: Connection) -> dict[str, str]:
        """Report the server version and the session's TLS protocol and cipher (no SQL)."""
        info = conn.info
        facts = {"server_version": str(info.server_version)}
        if info.ssl_in_use:
            facts["tls_version"] = str(info.ssl_attribute("protocol") or "unknown")
            facts["tls_cipher"] = str(info.ssl_attribute("cipher") or "unknown")
        return facts

    def own_role_statement(self) -> Statement:
        """Render the query for the session role's superuser and CREATEROLE attributes."""
        return Statement(
            "SELECT rolsuper, rolcreaterole FROM pg_catalog.pg_roles WHERE rolname = current_user",
            None,
            "look up own role",
        )

    def admin_option_statement(self, username: str) -> Statement:
        """Render the query that tells whether the session role holds ADMIN OPTION on a role."""
        return Statement(
            "SELECT pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION') "
            "FROM pg_catalog.pg_roles r WHERE r.rolname = %s",
            (username,),
            "look up admin option",
        )

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Check CREATEROLE and (PostgreSQL 16+) ADMIN OPTION for the admin; read-only."""
        if not admin:
            return [Finding("privileges: own password", True, "any role may change its own")]
        superuser, createrole = self.execute(conn, self.own_role_statement())[0]
        if superuser:
            return [Finding("privileges: CREATEROLE", True, "the admin is a superuser")]
        findings = [
            Finding(
                "privileges: CREATEROLE",
                bool(createrole),
                "the admin has CREATEROLE"
                if createrole
                else "the admin lacks CREATEROLE: it cannot create the clone or set passwords",
            )
        ]
        rows = self.execute(conn, self.admin_option_statement(username))
        if not rows:
            findings.append(Finding("user exists", False, f"role {username!r} does not exist"))
        elif conn.info.server_version >= 160000:
            # Since PostgreSQL 16, CREATEROLE alone no longer lets a role grant or alter others.
            findings.append(
                Finding(
                    f"privileges: ADMIN OPTION on {username!r}",
                    bool(rows[0][0]),
                    "held" if rows[0][0] else "missing: GRANT ... WITH ADMIN OPTION is needed",
                )
            )
        return findings
