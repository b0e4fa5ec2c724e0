"""Create or refresh the alternating-users clone of a SQL Server login or contained user (mixin).

A login's clone gets what the original holds on the server and, where the original has a
database user in the connected database, in that database:

- the login (``CREATE LOGIN``, then ``ALTER LOGIN ... WITH PASSWORD``);
- the database user, found by the login's SID, not by name: a login may map to a user of
  another name, and another principal may carry the login's name. The clone's user is named
  after the original's user (``<user>_clone``, or without the suffix when the original's user
  has it) and created ``FOR LOGIN`` the clone. In ``master`` ordinary logins have no user, so
  the clone gets none either;
- the database user's role memberships and permissions (``sys.database_role_members``,
  ``sys.database_permissions``);
- the login's server role memberships (``sys.server_role_members``, ``ALTER SERVER ROLE ...
  ADD MEMBER``) and server permissions (``sys.server_permissions``), after ``USE master``
  because server-scoped GRANT and DENY run only there.

Everything is read and rendered before the first change, so a permission of a class that has
no GRANT form, or a view the admin may not fully see, stops the rotation with nothing done.
Each change is skipped when already in place and nothing is revoked, so a run after a crash
completes the clone. A GRANT the admin may not give fails with an error naming it; the clone is
never promoted without it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rotation.core.errors import UserManagementError
from rotation.core.strategies import alternate_username
from rotation.engines.dbapi import Statement
from rotation.engines.sqlserver.permissions import (
    describe_permission,
    permission_statement,
    server_permission_statement,
)
from rotation.engines.sqlserver.statements import SYSNAME_LENGTH, SQLServerStatements

if TYPE_CHECKING:
    from collections.abc import Callable

    from pymssql import Connection
else:
    Connection = Any


@dataclass(frozen=True)
class Replay:
    """One permission the clone needs: the catalog row that identifies it, and its GRANT/DENY."""

    row: tuple[Any, ...]
    statement: Statement
    what: str


@dataclass
class DatabasePart:
    """The original's database user and what its clone must hold in the connected database."""

    clone_user: str
    clone_user_exists: bool
    schema: str | None
    roles: list[str] = field(default_factory=list)
    permissions: list[Replay] = field(default_factory=list)


@dataclass
class ServerPart:
    """What the clone login must hold at server level."""

    roles: list[str] = field(default_factory=list)
    permissions: list[Replay] = field(default_factory=list)


class SQLServerClone(SQLServerStatements):
    """Implement ``create_user_like`` for logins and contained users (mixin)."""

    if TYPE_CHECKING:
        clone_suffix: str

        # Supplied by DBAPIHandler and SQLServerHandler, which this mixin is combined with.
        def execute(self, conn: Connection, statement: Statement) -> list[tuple[Any, ...]]:
            """Execute one statement and return its rows."""

        def _is_contained(self, conn: Connection, username: str) -> bool: ...

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone ``username`` of ``template``, then add what it lacks.

        Order: login, password, database user, database roles and permissions, server roles
        and permissions. Reads come first; each change is skipped when already done.

        Raises:
            UserManagementError: The original is missing, holds something that cannot be
                copied, or the admin may not see or grant all of it.
        """
        if self._is_contained(conn, template):
            self._clone_contained_user(conn, username, template, password)
            return
        if not self.execute(conn, self.login_exists_statement(template))[0][0]:
            raise UserManagementError(f"login {template!r} does not exist on the server")
        self._require_full_view(conn)
        database = self._database_part(conn, username, template)
        server = self._server_part(conn, username, template)
        if not self.execute(conn, self.login_exists_statement(username))[0][0]:
            self.execute(conn, self.create_login_statement(username, password))
        self.execute(conn, self.set_password_statement(username, password, contained=False))
        if database is not None:
            if not database.clone_user_exists:
                self.execute(conn, self.create_user_statement(
                    database.clone_user, database.schema, login=username))  # fmt: skip
            self._replay_database(conn, database)
        self._replay_server(conn, username, server)

    # -- reading the original -------------------------------------------------------------

    def _require_full_view(self, conn: Connection) -> None:
        """Refuse unless the admin sees every server principal (else rows would go missing)."""
        if not self.execute(conn, self.view_definitions_statement())[0][0]:
            raise UserManagementError(
                "the admin lacks VIEW ANY DEFINITION: SQL Server hides the server role "
                "memberships it may not view, so the clone could silently miss some; grant "
                "VIEW ANY DEFINITION to the admin"
            )

    def _database_part(self, conn: Connection, clone: str, template: str) -> DatabasePart | None:
        """Read the original's database user (by SID) and plan the clone's; None if it has none."""
        found = self.execute(conn, self.login_user_statement(template))
        if not found:
            return None
        original_user, schema = found[0]
        existing = self.execute(conn, self.login_user_statement(clone))
        if existing:
            part = DatabasePart(str(existing[0][0]), True, schema)
        else:
            name = alternate_username(str(original_user), self.clone_suffix, SYSNAME_LENGTH)
            if self.execute(conn, self.database_user_statement(name)):
                raise UserManagementError(
                    f"database principal {name!r} already exists and is not the user of login "
                    f"{clone!r}; it cannot become the clone of user {original_user!r}"
                )
            part = DatabasePart(name, False, schema)
        self._plan_database_rights(conn, str(original_user), part)
        return part

    def _plan_database_rights(self, conn: Connection, original: str, part: DatabasePart) -> None:
        part.roles = [str(row[0]) for row in self.execute(conn, self.roles_statement(original))]
        rows = self.execute(conn, self.permissions_statement(original))
        held = []
        if part.clone_user_exists:
            held = self.execute(conn, self.permissions_statement(part.clone_user))

        def render(row: tuple[Any, ...]) -> Statement:
            return permission_statement(row, part.clone_user)

        part.permissions = _replays(rows, held, render, server=False)

    def _server_part(self, conn: Connection, clone: str, template: str) -> ServerPart:
        roles = self.execute(conn, self.server_roles_statement(template))
        rows = self.execute(conn, self.server_permissions_statement(template))
        held = self.execute(conn, self.server_permissions_statement(clone))

        def render(row: tuple[Any, ...]) -> Statement:
            return server_permission_statement(row, clone)

        return ServerPart([str(row[0]) for row in roles], _replays(rows, held, render, server=True))

    # -- changing the clone ---------------------------------------------------------------

    def _replay_database(self, conn: Connection, part: DatabasePart) -> None:
        user = part.clone_user
        have = {row[0] for row in self.execute(conn, self.roles_statement(user))}
        for role in part.roles:
            if role not in have:
                self._give(conn, user, self.add_role_member_statement(role, user),
                           f"membership of database role {role!r}")  # fmt: skip
        granted = {tuple(row) for row in self.execute(conn, self.permissions_statement(user))}
        for replay in part.permissions:
            if replay.row not in granted:
                self._give(conn, user, replay.statement, replay.what)

    def _replay_server(self, conn: Connection, login: str, part: ServerPart) -> None:
        have = {row[0] for row in self.execute(conn, self.server_roles_statement(login))}
        roles = [role for role in part.roles if role not in have]
        granted = {
            tuple(row) for row in self.execute(conn, self.server_permissions_statement(login))
        }
        missing = [replay for replay in part.permissions if replay.row not in granted]
        if not roles and not missing:
            return
        self.execute(conn, self.use_master_statement())
        for role in roles:
            self._give(conn, login, self.add_server_role_member_statement(role, login),
                       f"membership of server role {role!r}")  # fmt: skip
        for replay in missing:
            self._give(conn, login, replay.statement, replay.what)

    def _give(self, conn: Connection, clone: str, statement: Statement, what: str) -> None:
        """Run one change for the clone; a refusal names what could not be given."""
        try:
            self.execute(conn, statement)
        except UserManagementError as exc:
            raise UserManagementError(
                f"the admin cannot give {clone!r} {what}, which the original holds ({exc}); "
                "grant it to the clone by hand or give the admin the right to grant it"
            ) from exc

    # -- contained databases --------------------------------------------------------------

    def _clone_contained_user(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh a contained user's clone: the user, its roles and permissions."""
        found = self.execute(conn, self.database_user_statement(template))
        part = DatabasePart(username, bool(self.execute(
            conn, self.database_user_statement(username))), found[0][0])  # fmt: skip
        self._plan_database_rights(conn, template, part)
        if part.clone_user_exists:
            self.execute(conn, self.set_password_statement(username, password, contained=True))
        else:
            self.execute(conn, self.create_user_statement(username, part.schema, password))
        self._replay_database(conn, part)


def _replays(
    rows: list[tuple[Any, ...]],
    held: list[tuple[Any, ...]],
    render: Callable[[tuple[Any, ...]], Statement],
    *,
    server: bool,
) -> list[Replay]:
    """Render each permission row of the original that the clone does not hold yet.

    Raises:
        UserManagementError: A row cannot be rendered (its class has no GRANT form, or a name
            is not visible); one the clone already holds, say given by hand, is not rendered.
    """
    have = {tuple(row) for row in held}
    return [Replay(tuple(row), render(tuple(row)), describe_permission(tuple(row), server=server))
            for row in rows if tuple(row) not in have]  # fmt: skip
