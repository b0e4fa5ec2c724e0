"""Read-only preflight of MySQL and MariaDB sessions for ``rotation check``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import DBAPIHandler, Statement, text_value

if TYPE_CHECKING:
    from pymysql.connections import Connection
else:
    Connection = Any


class MySQLPreflight(DBAPIHandler[Connection]):
    """Report the session's TLS and whether the admin may create users and copy grants."""

    def user_hosts_statement(self, username: str) -> Statement:
        """Render the query for a user's host parts and TLS requirements (engine hook)."""
        raise NotImplementedError(
            "subclasses of MySQLPreflight must provide a user_hosts_statement() method"
        )

    def own_privileges_statement(self) -> Statement:
        """Render the query for the session user's global privileges and its account name."""
        return Statement(
            "SELECT CURRENT_USER(), GRANTEE, PRIVILEGE_TYPE, IS_GRANTABLE "
            "FROM information_schema.USER_PRIVILEGES",
            None,
            "look up own privileges",
        )

    def tls_status_statement(self) -> Statement:
        """Render the query for the session's TLS protocol and cipher."""
        return Statement(
            "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')",
            None,
            "look up TLS status",
        )

    def session_facts(self, conn: Connection) -> dict[str, str]:
        """Report the server version and the session's TLS protocol and cipher."""
        # MariaDB prefixes its version with "5.5.5-" for old MySQL clients.
        facts = {"server_version": str(conn.get_server_info()).removeprefix("5.5.5-")}  # type: ignore[no-untyped-call]
        status = {
            text_value(name): text_value(value)
            for name, value in self.execute(conn, self.tls_status_statement())
        }
        if status.get("Ssl_version"):
            facts["tls_version"] = status["Ssl_version"]
            facts["tls_cipher"] = status.get("Ssl_cipher", "")
        return facts

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Check the admin's CREATE USER and GRANT OPTION, and that the user exists; read-only."""
        if not admin:
            return [Finding("privileges: own password", True, "any user may set its own")]
        rows = self.execute(conn, self.own_privileges_statement())
        account = text_value(rows[0][0]) if rows else ""
        user, _, host = account.rpartition("@")
        own = {
            (text_value(r[2]), text_value(r[3]))
            for r in rows
            if text_value(r[1]) == f"'{user}'@'{host}'"
        }
        kinds = {kind for kind, _ in own}
        findings = [
            Finding(
                "privileges: CREATE USER",
                "CREATE USER" in kinds,
                "held" if "CREATE USER" in kinds else "missing: the admin cannot create the clone",
            ),
            Finding(
                "privileges: GRANT OPTION",
                any(grantable == "YES" for _, grantable in own),
                "held"
                if any(grantable == "YES" for _, grantable in own)
                else "missing: the admin cannot copy the user's grants to the clone",
            ),
        ]
        try:
            hosts = self.execute(conn, self.user_hosts_statement(username))
        except UserManagementError as exc:
            return [*findings, Finding("privileges: read mysql.user", False, str(exc))]
        if hosts:
            where = ", ".join(sorted(text_value(row[0]) for row in hosts))
            findings.append(Finding("user exists", True, f"{username!r} at host(s) {where}"))
        else:
            findings.append(Finding("user exists", False, f"user {username!r} does not exist"))
        return findings
