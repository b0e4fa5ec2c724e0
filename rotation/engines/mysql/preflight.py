"""Read-only preflight of MySQL and MariaDB sessions for ``rotation check``, and shared reads.

The handler uses the reads too (server version, accounts, grant lines, default roles).

Besides TLS and the admin's CREATE USER and GRANT OPTION, the check reports what makes a clone
differ from its original on MySQL 8 unless the admin can copy it: grant lines that cannot be
re-addressed, roles (granting them needs ROLE_ADMIN, which RDS for MySQL gives its master user
only from 8.0.36 on, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html),
default roles, partial revokes, privileges the admin does not hold WITH GRANT OPTION, a
non-password authentication plugin, and the password policies the rotation works with. For the
``retain`` strategy it warns when the user's own RETAIN CURRENT PASSWORD would be refused (no
dual passwords on the server, or neither APPLICATION_PASSWORD_ADMIN nor CREATE USER), since the
rotation then falls back to single user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.core.strategies import RetainPrevious
from rotation.engines.dbapi import DBAPIHandler, Statement, text_value
from rotation.engines.mysql.account import (
    PASSWORD_PLUGINS,
    Account,
    account_columns_statement,
    account_from_row,
    accounts_statement,
)
from rotation.engines.mysql.grants import (
    DATABASE_PRIVILEGES,
    Grant,
    grantee,
    grantee_spellings,
    parse_grant,
    replay_plan,
)
from rotation.engines.mysql.statements import MySQLStatements
from rotation.engines.mysql.version import ServerVersion, parse_server_version

if TYPE_CHECKING:
    from pymysql.connections import Connection
else:
    Connection = Any

# What GRANT OPTION on these covers is not a privilege to hold: USAGE grants nothing.
_NOT_PRIVILEGES = frozenset({"USAGE", "GRANT OPTION"})
_ALL = frozenset({"ALL", "ALL PRIVILEGES"})


class MySQLPreflight(MySQLStatements, DBAPIHandler[Connection]):
    """Report the session's TLS and whether the admin can make a faithful clone."""

    # -- reads shared with the handler --------------------------------------------------------

    def server_version(self, conn: Connection) -> ServerVersion:
        """Return the product and version the server reported in its handshake.

        Raises:
            UserManagementError: The version string cannot be read.
        """
        return parse_server_version(str(conn.get_server_info()))  # type: ignore[no-untyped-call]

    def accounts(self, conn: Connection, username: str) -> list[Account]:
        """Return the user's mysql.user rows (host and copied attributes), possibly none."""
        present = [text_value(row[0]) for row in self.execute(conn, account_columns_statement())]
        rows = self.execute(conn, accounts_statement(username, present))
        return [account_from_row(present, row) for row in rows]

    def grant_lines(self, conn: Connection, username: str, host: str) -> list[str]:
        """Return the lines of ``SHOW GRANTS FOR username@host``."""
        rows = self.execute(conn, self.show_grants_statement(username, host))
        return [text_value(row[0]) for row in rows]

    def default_roles(self, conn: Connection, username: str, host: str) -> list[tuple[str, str]]:
        """Return an account's default roles as (user, host) pairs (MySQL 8)."""
        rows = self.execute(conn, self.default_roles_statement(username, host))
        return [(text_value(user), text_value(role_host)) for user, role_host in rows]

    # -- rotation check -----------------------------------------------------------------------

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

    def password_policy_statement(self) -> Statement:
        """Render the query for the global password policies (MySQL 8.0.13+ variables)."""
        return Statement(
            "SELECT @@GLOBAL.password_history, @@GLOBAL.password_reuse_interval, "
            "@@GLOBAL.password_require_current",
            None,
            "look up password policy",
        )

    def enabled_roles_statement(self) -> Statement:
        """Render the query for the roles active in this session (MySQL 8.0.19+)."""
        return Statement(
            "SELECT ROLE_NAME, ROLE_HOST FROM information_schema.ENABLED_ROLES",
            None,
            "look up enabled roles",
        )

    def own_grants_statement(self, roles: list[tuple[str, str]]) -> Statement:
        """Render ``SHOW GRANTS FOR CURRENT_USER() [USING <roles>]``."""
        if not roles:
            return Statement("SHOW GRANTS FOR CURRENT_USER()", None, "SHOW GRANTS")
        using = ", ".join("%s@%s" for _ in roles)
        params = tuple(part for role in roles for part in role)
        return Statement(f"SHOW GRANTS FOR CURRENT_USER() USING {using}", params, "SHOW GRANTS")

    def session_facts(self, conn: Connection) -> dict[str, str]:
        """Report the server product and version and the session's TLS protocol and cipher."""
        raw = str(conn.get_server_info())  # type: ignore[no-untyped-call]
        try:
            facts = {"server_version": self.server_version(conn).describe()}
        except UserManagementError:
            facts = {"server_version": f"unreadable: {raw[:60]}"}
        status = {
            text_value(name): text_value(value)
            for name, value in self.execute(conn, self.tls_status_statement())
        }
        if status.get("Ssl_version"):
            facts["tls_version"] = status["Ssl_version"]
            facts["tls_cipher"] = status.get("Ssl_cipher", "")
        return facts

    def privilege_findings(self, conn: Connection, username: str, *, admin: bool) -> list[Finding]:
        """Check what the rotation of ``username`` needs from this session; read-only."""
        try:
            server = self.server_version(conn)
        except UserManagementError as exc:
            return [Finding("server version", False, str(exc))]
        findings = [Finding("server version", True, self._statement_note(server))]
        if not admin:
            findings.append(Finding("privileges: own password", True, "any user may set its own"))
            if isinstance(self.strategy, RetainPrevious):
                findings.append(self._dual_password_finding(conn, server))
            return findings + self._global_policy_findings(conn, server)
        findings += self._admin_findings(conn)
        try:
            accounts = self.accounts(conn, username)
        except UserManagementError as exc:
            return [*findings, Finding("privileges: read mysql.user", False, str(exc))]
        if not accounts:
            return [*findings, Finding("user exists", False, f"user {username!r} does not exist")]
        where = ", ".join(account.host for account in accounts)
        findings.append(Finding("user exists", True, f"{username!r} at host(s) {where}"))
        try:
            findings += self._clone_findings(conn, server, username, accounts)
        except UserManagementError as exc:
            findings.append(Finding("grants: readable", False, str(exc)))
        return findings + self._global_policy_findings(conn, server)

    def _dual_password_finding(self, conn: Connection, server: ServerVersion) -> Finding:
        """Tell whether the user's own RETAIN CURRENT PASSWORD will be accepted (read-only).

        It needs MySQL 8.0.14+ and APPLICATION_PASSWORD_ADMIN or CREATE USER (or UPDATE on
        mysql.*), https://dev.mysql.com/doc/refman/8.0/en/alter-user.html.
        """
        name = "privileges: dual passwords"
        fallback = (
            "; the rotation falls back to single user (clients on the old password fail until "
            "they fetch the new one)"
        )
        if not server.dual_passwords:
            detail = f"{server.describe()} has no dual passwords (MySQL 8.0.14+){fallback}"
            return Finding(name, True, detail, warning=True)
        held = self._admin_global_grants(conn, server)
        enough = held.keys() & {"APPLICATION_PASSWORD_ADMIN", "CREATE USER", *_ALL}
        if enough:
            return Finding(name, True, f"{sorted(enough)[0]} held: RETAIN CURRENT PASSWORD works")
        detail = (
            "missing APPLICATION_PASSWORD_ADMIN (and CREATE USER): MySQL refuses RETAIN CURRENT "
            f"PASSWORD with 1227{fallback}; grant it, or name an admin in masterarn"
        )
        return Finding(name, True, detail, warning=True)

    @staticmethod
    def _statement_note(server: ServerVersion) -> str:
        if not server.alter_user_password:
            return f"{server.describe()}: own password with SET PASSWORD"
        replace = " ... REPLACE <current>" if server.replace_current else ""
        return f"{server.describe()}: own password with ALTER USER CURRENT_USER(){replace}"

    def _admin_findings(self, conn: Connection) -> list[Finding]:
        """Report the admin's CREATE USER and any GRANT OPTION (information_schema)."""
        rows = self.execute(conn, self.own_privileges_statement())
        account = text_value(rows[0][0]) if rows else ""
        user, _, host = account.rpartition("@")
        own = {
            (text_value(r[2]), text_value(r[3]))
            for r in rows
            if text_value(r[1]) == f"'{user}'@'{host}'"
        }
        create = "CREATE USER" in {kind for kind, _ in own}
        grant = any(grantable == "YES" for _, grantable in own)
        return [
            Finding(
                "privileges: CREATE USER",
                create,
                "held" if create else "missing: the admin cannot create the clone",
            ),
            Finding(
                "privileges: GRANT OPTION",
                grant,
                "held"
                if grant
                else "missing: the admin cannot copy the user's grants to the clone",
            ),
        ]

    def _admin_global_grants(self, conn: Connection, server: ServerVersion) -> dict[str, bool]:
        """Return the admin's global privileges (roles in effect included) -> grantable."""
        roles: list[tuple[str, str]] = []
        if server.roles:
            try:
                rows = self.execute(conn, self.enabled_roles_statement())
                roles = [(text_value(name), text_value(host)) for name, host in rows]
            except UserManagementError:
                roles = []  # before 8.0.19: the admin's direct grants only
        held: dict[str, bool] = {}
        for row in self.execute(conn, self.own_grants_statement(roles)):
            grant = parse_grant(text_value(row[0]))
            if grant.kind == "privileges" and grant.level == "*.*":
                for name in grant.names:
                    held[name] = held.get(name, False) or grant.grantable
        return held

    def _clone_findings(
        self, conn: Connection, server: ServerVersion, username: str, accounts: list[Account]
    ) -> list[Finding]:
        """Report, over the user's hosts, what the clone must receive and whether it can."""
        grants: list[Grant] = []
        defaults: set[str] = set()
        problems: list[str] = []
        for account in accounts:
            lines = self.grant_lines(conn, username, account.host)
            spellings = grantee_spellings(username, account.host)
            try:
                replay_plan(lines, spellings, grantee(username + "_clone", account.host))
            except UserManagementError as exc:
                problems.append(str(exc))
            grants += [parse_grant(line) for line in lines]
            if server.roles:
                defaults |= {
                    f"{u}@{h}" for u, h in self.default_roles(conn, username, account.host)
                }
            if account.plugin and not server.mariadb and account.plugin not in PASSWORD_PLUGINS:
                problems.append(f"host {account.host!r} authenticates with {account.plugin!r}")
        held = self._admin_global_grants(conn, server)
        roles = sorted({name for g in grants if g.kind == "roles" for name in g.names})
        revokes = [g for g in grants if g.kind == "revoke"]
        findings = [
            Finding(
                "grants: re-addressable",
                not problems,
                "; ".join(problems) if problems else "every grant line can be copied to the clone",
            ),
            self._missing_privileges_finding(grants, held),
        ]
        if server.roles or roles:
            role_admin = held.get("ROLE_ADMIN", False) or "SUPER" in held
            findings.append(
                Finding(
                    "privileges: ROLE_ADMIN",
                    role_admin or not roles,
                    ("held" if role_admin else "missing")
                    + (
                        f"; the user has role(s) {', '.join(roles)}"
                        if roles
                        else "; no roles to copy"
                    )
                    + ("" if role_admin or not roles else ": the admin cannot grant them"),
                )
            )
        findings.append(
            Finding(
                "roles",
                True,
                f"{', '.join(roles)}; default role(s): {', '.join(sorted(defaults)) or 'none'}"
                if roles
                else "none",
            )
        )
        findings.append(
            Finding(
                "partial revokes",
                True,
                f"{len(revokes)} REVOKE line(s), replayed after the grants" if revokes else "none",
            )
        )
        findings.append(self._account_policy_finding(accounts))
        return findings

    @staticmethod
    def _missing_privileges_finding(grants: list[Grant], held: dict[str, bool]) -> Finding:
        """Compare the privileges the clone must receive with the admin's grantable ones."""
        if held.keys() & _ALL and any(held.get(name) for name in _ALL):
            return Finding("privileges: copyable", True, "the admin holds ALL WITH GRANT OPTION")
        needed: set[str] = set()
        for grant in grants:
            if grant.kind in ("privileges", "revoke"):
                for name in grant.names - _NOT_PRIVILEGES:
                    needed |= DATABASE_PRIVILEGES if name in _ALL else {name}
        missing = sorted(name for name in needed if not held.get(name, False))
        if missing:
            return Finding(
                "privileges: copyable",
                False,
                f"the admin lacks {', '.join(missing)} WITH GRANT OPTION at global level; the "
                "clone would not receive them",
            )
        return Finding("privileges: copyable", True, "the admin holds every privilege to copy")

    @staticmethod
    def _account_policy_finding(accounts: list[Account]) -> Finding:
        """Describe the account-level password policies copied to the clone."""
        notes = []
        for account in accounts:
            parts = []
            if account.has("Password_reuse_history") and account.value("Password_reuse_history"):
                parts.append(f"history {account.value('Password_reuse_history')}")
            if account.has("Password_reuse_time") and account.value("Password_reuse_time"):
                parts.append(f"reuse interval {account.value('Password_reuse_time')} days")
            if account.has("Password_require_current") and (
                text_value(account.value("Password_require_current")).upper() == "Y"
            ):
                parts.append("requires the current password")
            if account.locking and account.locking.get("failed_login_attempts"):
                parts.append(f"locks after {account.locking['failed_login_attempts']} failures")
            if parts:
                notes.append(f"{account.host}: {', '.join(parts)}")
        detail = "; ".join(notes) if notes else "none beyond the server's defaults"
        return Finding("account policies", True, f"{detail} (copied to the clone)")

    def _global_policy_findings(self, conn: Connection, server: ServerVersion) -> list[Finding]:
        """Report the server-wide password policies the rotation works with (MySQL 8.0.13+)."""
        if not server.replace_current:
            return []
        try:
            rows = self.execute(conn, self.password_policy_statement())
        except UserManagementError as exc:
            return [Finding("password policy", None, str(exc))]
        history, interval, require = (text_value(value) for value in rows[0])
        return [
            Finding(
                "password policy",
                True,
                f"password_history={history}, password_reuse_interval={interval}: each password "
                f"is sent once; password_require_current={require}: own changes send REPLACE",
            )
        ]
