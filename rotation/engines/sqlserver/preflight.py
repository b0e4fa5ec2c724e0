"""Read-only preflight of SQL Server sessions for ``rotation check``.

Reports the product version, the ``@@VERSION`` banner and the connection's ``encrypt_option``,
and, for the admin, ALTER ANY LOGIN, ALTER ANY USER, db_owner or ALTER ANY ROLE, and whether
the original exists. Nothing here changes the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement
from rotation.engines.sqlserver.statements import SQLServerStatements

if TYPE_CHECKING:
    from pymssql import Connection
else:
    Connection = Any


class SQLServerPreflight(SQLServerStatements):
    """Answer the ``session_facts`` and ``privilege_findings`` hooks (mixin; read-only)."""

    if TYPE_CHECKING:
        # Supplied by DBAPIHandler and SQLServerHandler, which this mixin is combined with.
        def execute(self, conn: Connection, statement: Statement) -> list[tuple[Any, ...]]:
            """Execute one statement and return its rows."""

        def _is_contained(self, conn: Connection, username: str) -> bool: ...

    def server_version_statement(self) -> Statement:
        """Render the query for the product version and the ``@@VERSION`` banner."""
        return Statement(
            "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)), @@VERSION",
            None,
            "look up server version",
        )

    def encryption_statement(self) -> Statement:
        """Render the query telling whether this session's connection is encrypted."""
        return Statement(
            "SELECT encrypt_option FROM sys.dm_exec_connections WHERE session_id = @@SPID",
            None,
            "look up connection encryption",
        )

    def admin_permissions_statement(self) -> Statement:
        """Render the query for the admin's login, user and role-management permissions."""
        return Statement(
            "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY LOGIN'), "
            "HAS_PERMS_BY_NAME(db_name(), 'DATABASE', 'ALTER ANY USER'), "
            "IS_ROLEMEMBER('db_owner'), "
            "HAS_PERMS_BY_NAME(db_name(), 'DATABASE', 'ALTER ANY ROLE')",
            None,
            "look up admin permissions",
        )

    def session_facts(self, conn: Connection) -> dict[str, str]:
        """Report the product version, the banner's first line and the connection's encryption.

        FreeTDS reports no TLS version. Reading ``sys.dm_exec_connections`` needs VIEW SERVER
        STATE; without it the encryption is left unreported.
        """
        version, banner = self.execute(conn, self.server_version_statement())[0]
        facts = {
            "server_version": str(version),
            "server": str(banner).strip().splitlines()[0].rstrip(),
        }
        try:
            rows = self.execute(conn, self.encryption_statement())
        except UserManagementError:
            return facts
        if rows:
            facts["encrypt_option"] = str(rows[0][0]).upper()
            if facts["encrypt_option"] == "TRUE":
                facts["tls_version"] = "TLS (encrypt_option TRUE; FreeTDS reports no version)"
        return facts

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Check ALTER ANY LOGIN/USER, role management and the original for the admin; read-only.

        A login or contained user changes its own password with OLD_PASSWORD and needs no
        permission for it.
        """
        contained = self._is_contained(conn, username)
        if not admin:
            kind = "contained database user" if contained else "login"
            detail = f"a {kind} may change its own password with OLD_PASSWORD; nothing else needed"
            return [Finding("privileges: own password", True, detail)]
        login, user, owner, roles = self.execute(conn, self.admin_permissions_statement())[0]
        if contained:
            login_detail = "not needed: the original is a contained database user"
        else:
            login_detail = "held" if login else "missing: the admin cannot create the clone's login"
        findings = [
            Finding("privileges: ALTER ANY LOGIN", contained or bool(login), login_detail),
            Finding(
                "privileges: ALTER ANY USER",
                bool(user),
                "held" if user else "missing: the admin cannot create the clone's database user",
            ),
        ]
        if owner:
            detail = "the admin is db_owner: it can add role members and grant permissions"
        elif roles:
            detail = "ALTER ANY ROLE held; permissions are copied only where the admin may grant"
        else:
            detail = "missing: db_owner or ALTER ANY ROLE is needed to add the clone to roles"
        findings.append(Finding("privileges: role membership", bool(owner or roles), detail))
        exists = bool(self.execute(conn, self.database_user_statement(username)))
        where = "a database user"
        if exists and not contained:
            exists = bool(self.execute(conn, self.login_exists_statement(username))[0][0])
            where = "a login and a database user"
        state = f"has {where}" if exists else f"lacks {where} (or the admin cannot see it)"
        findings.append(Finding("user exists", exists, f"{username!r} {state}"))
        return findings
