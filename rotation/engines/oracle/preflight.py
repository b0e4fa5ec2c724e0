"""Read-only preflight hooks of the Oracle engine, for ``rotation check``.

:class:`OraclePreflight` is a mixin of :class:`~rotation.engines.oracle.handler.OracleHandler`:
it reads the session's privileges and roles and issues no statement that changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.engines.dbapi import Statement
from rotation.engines.oracle.tls import LEGACY_SETTING

if TYPE_CHECKING:
    from oracledb import Connection

    from rotation.core.config import Settings
else:
    Connection = Any

#: System privileges the alternating-users admin needs: make the clone and set passwords, then
#: replay the original's role, system and object grants (unless it holds each with an option).
ADMIN_PRIVILEGES = ("CREATE USER", "ALTER USER")
REGRANT_PRIVILEGES = ("GRANT ANY ROLE", "GRANT ANY PRIVILEGE", "GRANT ANY OBJECT PRIVILEGE")
CATALOG_ROLE = "SELECT_CATALOG_ROLE"  # lets DBMS_METADATA show other users' grants


class OraclePreflight:
    """Report the Oracle session's facts and the privileges rotation needs (a mixin)."""

    if TYPE_CHECKING:
        # Provided by the handler (DBAPIHandler and OracleHandler); declared for type checking.
        settings: Settings

        def execute(self, conn: Connection, statement: Statement) -> list[tuple[Any, ...]]:
            """Execute one statement and return its rows."""

        def user_exists(self, conn: Connection, username: str) -> bool:
            """Tell whether a user exists."""

    def session_privileges_statement(self) -> Statement:
        """Render the query for the session's system privileges that rotation needs."""
        wanted = ", ".join("'" + name + "'" for name in ADMIN_PRIVILEGES + REGRANT_PRIVILEGES)
        return Statement(
            "SELECT PRIVILEGE FROM SESSION_PRIVS WHERE PRIVILEGE IN (" + wanted + ")",
            None,
            "look up session privileges",
        )

    def session_role_statement(self) -> Statement:
        """Render the query telling whether SELECT_CATALOG_ROLE is enabled in the session."""
        return Statement(
            "SELECT ROLE FROM SESSION_ROLES WHERE ROLE = '" + CATALOG_ROLE + "'",
            None,
            "look up session roles",
        )

    def session_facts(self, conn: Connection) -> dict[str, str]:
        """Report the server version and whether the transport is TCPS (no SQL).

        The thin driver tells the protocol but not the TLS version or cipher.
        """
        facts = {"server_version": str(conn.version)}
        protocol = str(getattr(conn, "protocol", "") or "").upper()
        if protocol:
            facts["transport"] = protocol
        if protocol == "TCPS":
            facts["tls_version"] = "TCPS (the driver reports no TLS version)"
            if self.settings.oracle_tls_legacy_ciphers:
                facts["tls_cipher"] = (
                    f"with RSA key-exchange suites also accepted ({LEGACY_SETTING})"
                )
        return facts

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Check the admin's system privileges, catalog role and the original; read-only."""
        if not admin:
            # ALTER USER <self> IDENTIFIED BY ... REPLACE <old> needs no privilege but the
            # CREATE SESSION this login just proved.
            detail = "the user logged in (CREATE SESSION); changing its own password needs no more"
            return [Finding("privileges: own password", True, detail)]
        held = {str(row[0]) for row in self.execute(conn, self.session_privileges_statement())}
        findings = [
            Finding(
                f"privileges: {name}",
                name in held,
                "held" if name in held else f"missing: the admin cannot {purpose}",
            )
            for name, purpose in zip(
                ADMIN_PRIVILEGES, ("create the clone", "set the users' passwords"), strict=True
            )
        ]
        catalog = bool(self.execute(conn, self.session_role_statement()))
        findings.append(
            Finding(
                f"privileges: {CATALOG_ROLE}",
                catalog,
                "enabled: DBMS_METADATA shows the original's grants"
                if catalog
                else "missing: DBMS_METADATA cannot show the original's grants to copy",
            )
        )
        missing = [name for name in REGRANT_PRIVILEGES if name not in held]
        findings.append(
            Finding(
                "privileges: GRANT ANY",
                not missing,
                "GRANT ANY ROLE, PRIVILEGE and OBJECT PRIVILEGE held"
                if not missing
                else "missing " + ", ".join(missing) + ": the clone can only get grants the "
                "admin holds WITH ADMIN/GRANT OPTION",
            )
        )
        exists = self.user_exists(conn, username)
        where = "found in ALL_USERS" if exists else "not found in ALL_USERS"
        findings.append(Finding("user exists", exists, f"user {username!r} {where}"))
        return findings
