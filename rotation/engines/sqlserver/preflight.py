"""Read-only preflight of SQL Server sessions for ``rotation check``.

Reports the product version, the ``@@VERSION`` banner and the connection's ``encrypt_option``,
and, for the admin, ALTER ANY LOGIN, VIEW ANY DEFINITION, ALTER ANY USER and db_owner or ALTER
ANY ROLE (where the original has a database user), whether it may add the clone to each of the
original's server roles and give it each server permission, and whether the original exists.
Nothing here changes the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement
from rotation.engines.sqlserver.permissions import IMPLICIT_SERVER_ROW, describe_permission
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
        """Render the query for the admin's login, user, role and server-level permissions."""
        return Statement(
            "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY LOGIN'), "
            "HAS_PERMS_BY_NAME(db_name(), 'DATABASE', 'ALTER ANY USER'), "
            "IS_ROLEMEMBER('db_owner'), "
            "HAS_PERMS_BY_NAME(db_name(), 'DATABASE', 'ALTER ANY ROLE'), "
            "HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DEFINITION'), "
            "HAS_PERMS_BY_NAME(NULL, NULL, 'CONTROL SERVER'), "
            "HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY SERVER ROLE'), "
            "IS_SRVROLEMEMBER('sysadmin')",
            None,
            "look up admin permissions",
        )

    def server_role_admin_statement(self, login: str) -> Statement:
        """Render the query for a login's server roles: fixed or not, and is the admin in it.

        Only a member of a fixed server role (or of sysadmin) may add members to it; CONTROL
        SERVER and ALTER ANY SERVER ROLE suffice for user-defined roles
        (learn.microsoft.com/sql/t-sql/statements/alter-server-role-transact-sql).
        """
        return Statement(
            "SELECT r.name, r.is_fixed_role, IS_SRVROLEMEMBER(r.name) "
            "FROM sys.server_role_members m "
            "JOIN sys.server_principals r ON r.principal_id = m.role_principal_id "
            "JOIN sys.server_principals l ON l.principal_id = m.member_principal_id "
            "WHERE l.name = %s",
            (login,),
            "look up server roles and the admin's membership",
        )

    def grantable_server_permissions_statement(self) -> Statement:
        """Render the query for the server permissions the admin holds WITH GRANT OPTION."""
        return Statement(
            "SELECT p.permission_name FROM sys.server_permissions p "
            "JOIN sys.server_principals g ON g.principal_id = p.grantee_principal_id "
            "WHERE g.sid = SUSER_SID() AND p.class = 100 AND p.state = 'W'",
            None,
            "look up the admin's grantable server permissions",
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
        """Check what the admin needs to clone ``username`` here, and that it exists; read-only.

        A login or contained user changes its own password with OLD_PASSWORD and needs no
        permission for it. For a login's clone the admin needs ALTER ANY LOGIN and VIEW ANY
        DEFINITION; ALTER ANY USER and role management only where the login has a database
        user (found by SID; in master ordinary logins have none); and the right to add members
        to each of the login's server roles and to grant each of its server permissions.
        """
        contained = self._is_contained(conn, username)
        if not admin:
            kind = "contained database user" if contained else "login"
            detail = f"a {kind} may change its own password with OLD_PASSWORD; nothing else needed"
            return [Finding("privileges: own password", True, detail)]
        held = AdminPermissions(*self.execute(conn, self.admin_permissions_statement())[0])
        if contained:
            return [
                Finding("privileges: ALTER ANY LOGIN", True,
                        "not needed: the original is a contained database user"),
                *self._database_findings(held, None),
                self._exists_finding(conn, username, contained=True),
            ]  # fmt: skip
        user = self.execute(conn, self.login_user_statement(username))
        return [
            Finding("privileges: ALTER ANY LOGIN", bool(held.login),
                    "held" if held.login else "missing: the admin cannot create the clone's login"),
            Finding("privileges: VIEW ANY DEFINITION", bool(held.view_all), "held" if held.view_all
                    else "missing: SQL Server would hide server role memberships from the admin, "
                    "so the rotation refuses to clone"),
            *self._database_findings(held, None if user else username),
            self._server_roles_finding(conn, username, held),
            self._server_permissions_finding(conn, username, held),
            self._exists_finding(conn, username, contained=False,
                                 user=str(user[0][0]) if user else None),
        ]  # fmt: skip

    def _database_findings(self, held: AdminPermissions, no_user: str | None) -> list[Finding]:
        """Report ALTER ANY USER and role management, or that no database user is needed."""
        if no_user is not None:
            why = f"not needed: login {no_user!r} has no database user here, nor will its clone"
            return [Finding("privileges: ALTER ANY USER", True, why),
                    Finding("privileges: role membership", True, why)]  # fmt: skip
        findings = [
            Finding("privileges: ALTER ANY USER", bool(held.user), "held" if held.user
                    else "missing: the admin cannot create the clone's database user"),
        ]  # fmt: skip
        if held.owner:
            detail = "the admin is db_owner: it can add role members and grant permissions"
        elif held.roles:
            detail = "ALTER ANY ROLE held; permissions are copied only where the admin may grant"
        else:
            detail = "missing: db_owner or ALTER ANY ROLE is needed to add the clone to roles"
        findings.append(
            Finding("privileges: role membership", bool(held.owner or held.roles), detail)
        )
        return findings

    def _server_roles_finding(
        self, conn: Connection, login: str, held: AdminPermissions
    ) -> Finding:
        """Tell whether the admin may add the clone to every server role of the original."""
        refused = []
        roles = self.execute(conn, self.server_role_admin_statement(login))
        for role, fixed, member in roles:
            if fixed and not (held.sysadmin or member):
                refused.append(f"{role!r} (fixed: only its members and sysadmin may add members)")
            elif not fixed and not (held.sysadmin or held.control or held.server_roles):
                refused.append(f"{role!r} (needs ALTER ANY SERVER ROLE or ALTER on the role)")
        if refused:
            return Finding("privileges: server roles", False,
                           "the admin cannot add the clone to " + ", ".join(refused))  # fmt: skip
        names = ", ".join(repr(str(row[0])) for row in roles) or "none"
        return Finding("privileges: server roles", True, f"the admin can add the clone to: {names}")

    def _server_permissions_finding(
        self, conn: Connection, login: str, held: AdminPermissions
    ) -> Finding:
        """Tell whether the admin may give the clone each server permission of the original."""
        rows = [tuple(row) for row in self.execute(conn, self.server_permissions_statement(login))]
        rows = [row for row in rows if row[:1] + row[2:4] != IMPLICIT_SERVER_ROW]
        if not rows:
            nothing = "nothing to copy beyond CONNECT SQL, which CREATE LOGIN grants"
            return Finding("privileges: server permissions", True, nothing)
        if held.control:
            return Finding("privileges: server permissions", True,
                           f"CONTROL SERVER: the admin can copy all {len(rows)}")  # fmt: skip
        grantable = {str(row[0]) for row in self.execute(
            conn, self.grantable_server_permissions_statement())}  # fmt: skip
        refused = []
        for row in rows:
            klass, _, permission, state, _, principal_type = row
            if klass == 100 and state == "D":
                need, ok = "CONTROL SERVER", False
            elif klass == 100:
                need, ok = f"{permission} WITH GRANT OPTION", permission in grantable
            elif klass == 101 and principal_type == "R":
                need, ok = "ALTER ANY SERVER ROLE", bool(held.server_roles)
            elif klass == 101:
                need, ok = "ALTER ANY LOGIN", bool(held.login)
            else:
                need, ok = "a GRANT form this engine has", False
            if not ok:
                refused.append(f"{describe_permission(row, server=True)} (needs {need})")
        if refused:
            return Finding("privileges: server permissions", False,
                           "the admin cannot copy " + "; ".join(refused))  # fmt: skip
        return Finding("privileges: server permissions", True,
                       f"the admin can copy all {len(rows)}")  # fmt: skip

    def _exists_finding(
        self, conn: Connection, username: str, *, contained: bool, user: str | None = None
    ) -> Finding:
        if contained:
            exists = bool(self.execute(conn, self.database_user_statement(username)))
            state = "is a contained database user" if exists else "does not exist here"
        else:
            exists = bool(self.execute(conn, self.login_exists_statement(username))[0][0])
            mapped = f"its database user here is {user!r}" if user else "no database user here"
            state = (
                f"is a login; {mapped}" if exists else "has no login (or the admin cannot see it)"
            )
        return Finding("user exists", exists, f"{username!r} {state}")


@dataclass(frozen=True)
class AdminPermissions:
    """The admin's answers to :meth:`SQLServerPreflight.admin_permissions_statement`."""

    login: int
    user: int
    owner: int
    roles: int
    view_all: int
    control: int
    server_roles: int
    sysadmin: int
