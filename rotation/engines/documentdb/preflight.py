"""The read-only preflight of the DocumentDB engine, for ``rotation check``.

:class:`DocumentDBPreflight` supplies the ``session_facts`` and ``privilege_findings`` hooks of
:class:`~rotation.core.database.DatabaseHandler`; the handler inherits it. Every command here
only reads: ``buildInfo``, ``connectionStatus`` with ``showPrivileges``, ``usersInfo`` and, to
tell DocumentDB from MongoDB, ``getEngineVersion``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.engines.documentdb.commands import USERS_DATABASE, Command

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rotation.engines.documentdb.commands import Role
    from rotation.engines.documentdb.session import DocumentDBSession

#: MongoDB's CommandNotFound.
COMMAND_NOT_FOUND = 59
OWN_PASSWORD = "privileges: changeOwnPassword"

#: Actions the alternating-users admin needs on ``admin``, and what each one is for.
ADMIN_ACTIONS = (
    ("createUser", "create the clone"),
    ("changePassword", "set the users' passwords (updateUser pwd)"),
    ("viewUser", "read the original's roles (usersInfo)"),
    ("grantRole", "give the clone the original's roles"),
    ("revokeRole", "take away roles the original no longer has"),
)


class DocumentDBPreflight:
    """Report server facts and missing privileges without changing anything (a handler mixin)."""

    if TYPE_CHECKING:
        # Primitives the handler supplies; declared for the type checker only, so the
        # handler's own definitions are the ones that run.
        def run(self, session: DocumentDBSession, command: Command) -> dict[str, Any]:
            """Run one command on the session's database and return the reply."""

        def user_roles(self, conn: DocumentDBSession, username: str) -> list[Role] | None:
            """Return a user's roles, or None when the user does not exist."""

    @staticmethod
    def build_info_command() -> Command:
        """Build ``{buildInfo: 1}``."""
        return Command({"buildInfo": 1}, "buildInfo")

    @staticmethod
    def engine_version_command() -> Command:
        """Build ``{getEngineVersion: 1}``, which DocumentDB answers and MongoDB does not know.

        DocumentDB documents it for reading the engine patch version
        (https://docs.aws.amazon.com/documentdb/latest/developerguide/release-notes.html).
        """
        return Command({"getEngineVersion": 1}, "getEngineVersion")

    @staticmethod
    def connection_status_command() -> Command:
        """Build ``connectionStatus`` that lists the session's privileges."""
        return Command({"connectionStatus": 1, "showPrivileges": True}, "connectionStatus")

    def session_facts(self, conn: DocumentDBSession) -> dict[str, str]:
        """Report the server version (``buildInfo``) and whether the client uses TLS."""
        reply = self.run(conn, self.build_info_command())
        facts = {"server_version": str(reply.get("version", "unknown"))}
        # PyMongo tells whether its pool uses TLS only through the pool's SSL context; it does
        # not expose the negotiated protocol version.
        context = getattr(conn.client.options.pool_options, "_ssl_context", None)
        facts["tls"] = "on" if context is not None else "off"
        if context is not None:
            facts["tls_version"] = "TLS (PyMongo reports no version)"
        return facts

    def privilege_findings(
        self, conn: DocumentDBSession, username: str, *, admin: bool
    ) -> list[Finding]:
        """Check the session's actions (connectionStatus) and the original user; read-only."""
        db = USERS_DATABASE
        status = self.run(conn, self.connection_status_command())
        actions = granted_actions(status, db)
        if not admin:
            return [self.own_password_finding(conn, actions)]
        findings = [
            Finding(
                f"privileges: {action}",
                action in actions,
                f"held on {db!r}" if action in actions else f"missing: cannot {purpose}",
            )
            for action, purpose in ADMIN_ACTIONS
        ]
        if "viewUser" not in actions:
            lookup = "cannot be looked up without viewUser"
            return [*findings, Finding("user exists", False, f"{username!r} {lookup}")]
        roles = self.user_roles(conn, username)
        if roles is None:
            return [*findings, Finding("user exists", False, f"{username!r} not found in {db!r}")]
        findings.append(Finding("user exists", True, f"{username!r} found in {db!r}"))
        # createUser with roles needs grantRole on each role's database, not only on admin.
        elsewhere = sorted({role["db"] for role in roles} - {db})
        missing = [name for name in elsewhere if "grantRole" not in granted_actions(status, name)]
        if elsewhere:
            findings.append(
                Finding(
                    "privileges: grantRole on the original's role databases",
                    not missing,
                    "held on " + ", ".join(map(repr, elsewhere))
                    if not missing
                    else "missing on " + ", ".join(map(repr, missing)),
                )
            )
        return findings

    def own_password_finding(self, conn: DocumentDBSession, actions: set[str]) -> Finding:
        """Tell whether the user may change its own password, as far as the server shows.

        On MongoDB that takes ``changeOwnPassword`` (or ``changePassword``) on the user's
        database. DocumentDB lists no ``changeOwnPassword`` in any built-in role
        (https://docs.aws.amazon.com/documentdb/latest/developerguide/
        role_based_access_control.html) and does not document whether a user may change its own
        password without it, while AWS's single-user function relies on users doing so. So on
        DocumentDB (or when the server cannot be told apart) a missing action is "not checked",
        not a failure.
        """
        if actions & {"changeOwnPassword", "changePassword"}:
            return Finding(
                OWN_PASSWORD, True, f"the user may change its own password on {USERS_DATABASE!r}"
            )
        try:
            self.run(conn, self.engine_version_command())
        except UserManagementError as exc:
            if getattr(exc.__cause__, "code", None) == COMMAND_NOT_FOUND:  # MongoDB
                return Finding(
                    OWN_PASSWORD,
                    False,
                    f"missing changeOwnPassword on {USERS_DATABASE!r}: "
                    "updateUser with pwd will be refused",
                )
        return Finding(
            OWN_PASSWORD,
            None,
            "the user holds no changeOwnPassword action, which no DocumentDB built-in role "
            "lists, and DocumentDB does not document whether a user may change its own "
            "password without it: the first rotation will tell (alternating users do not "
            "need it)",
        )


def granted_actions(status: Mapping[str, Any], db: str) -> set[str]:
    """Return the actions a ``connectionStatus`` (showPrivileges) reply grants on database ``db``.

    A privilege applies when its resource is ``anyResource``, or the whole database ``db``
    (``{db: db, collection: ""}``), or every database (``{db: "", collection: ""}``).
    """
    auth_info = status.get("authInfo") or {}
    actions: set[str] = set()
    for privilege in auth_info.get("authenticatedUserPrivileges") or []:
        resource = privilege.get("resource") or {}
        whole_db = resource.get("collection") == "" and resource.get("db") in (db, "")
        if resource.get("anyResource") or whole_db:
            actions.update(str(action) for action in privilege.get("actions") or [])
    return actions
