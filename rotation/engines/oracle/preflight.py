"""Read-only preflight hooks of the Oracle engine, for ``rotation check``.

:class:`OraclePreflight` is a mixin of :class:`~rotation.engines.oracle.handler.OracleHandler`:
it reads the session's privileges and roles and issues no statement that changes anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement
from rotation.engines.oracle.grants import Route
from rotation.engines.oracle.tls import LEGACY_SETTING

if TYPE_CHECKING:
    from oracledb import Connection

    from rotation.core.config import Settings
    from rotation.engines.oracle.grants import Grant
else:
    Connection = Any

#: System privileges the alternating-users admin needs: make the clone and set passwords. What
#: it needs to give the grants depends on the original's grants (see ``grants.py``).
ADMIN_PRIVILEGES = ("CREATE USER", "ALTER USER")
CATALOG_ROLE = "SELECT_CATALOG_ROLE"  # lets DBMS_METADATA show other users' grants
GRANTS_CHECK = "grants to copy"


class OraclePreflight:
    """Report the Oracle session's facts and the privileges rotation needs (a mixin)."""

    if TYPE_CHECKING:
        # Provided by the handler (DBAPIHandler and OracleHandler); declared for type checking.
        settings: Settings
        clone_suffix: ClassVar[str]

        def execute(self, conn: Connection, statement: Statement) -> list[tuple[Any, ...]]:
            """Execute one statement and return its rows."""

        def user_exists(self, conn: Connection, username: str) -> bool:
            """Tell whether a user exists."""

        def enquote(self, conn: Connection, name: str) -> str:
            """Return a user name quoted by the server."""

        def session_privileges_statement(self) -> Statement:
            """Render the query for the session's system privileges that rotation needs."""

        def clone_grants(
            self, conn: Connection, source: str, clone: str, *, clone_exists: bool
        ) -> list[tuple[Grant, Route | str]]:
            """Return each grant of the original the clone lacks, with how the admin gives it."""

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
        """Check what the rotation will need, and nothing more; read-only.

        The admin needs CREATE USER, ALTER USER and SELECT_CATALOG_ROLE, and the right to give
        each grant of the original that the clone lacks -- not GRANT ANY ROLE or GRANT ANY
        PRIVILEGE, which the RDS master does not have.
        """
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
        exists = self.user_exists(conn, username)
        where = "found in ALL_USERS" if exists else "not found in ALL_USERS"
        findings.append(Finding("user exists", exists, f"user {username!r} {where}"))
        if exists and catalog:
            findings.append(self._grants_finding(conn, username))
        return findings

    def _grants_finding(self, conn: Connection, username: str) -> Finding:
        """Tell whether the admin can give the clone every grant of the original it lacks."""
        source = self.enquote(conn, username)
        clone = self.enquote(conn, username + self.clone_suffix)
        exists = bool(self.user_exists(conn, clone))
        try:
            plan = self.clone_grants(conn, source, clone, clone_exists=exists)
        except UserManagementError as exc:
            return Finding(GRANTS_CHECK, False, str(exc))
        refused = [f"{grant.line} ({how})" for grant, how in plan if isinstance(how, str)]
        if refused:
            detail = "the admin cannot give: " + "; ".join(refused)
            return Finding(GRANTS_CHECK, False, detail)
        if not plan:
            return Finding(GRANTS_CHECK, True, "the clone already has every grant of the original")
        rds = sum(how is Route.SYS_OBJECT for _, how in plan)
        via = f", {rds} of them with rdsadmin.rdsadmin_util.grant_sys_object" if rds else ""
        lacks = "the clone lacks" if exists else "to copy"
        return Finding(
            GRANTS_CHECK, True, f"the admin can give all {len(plan)} grants {lacks}{via}"
        )
