"""An in-memory database engine: proves the core and the conformance suite without a server.

:class:`FakeDatabase` holds users, passwords and privileges, and counts logins; the
:class:`FakeDatabaseHandler` engine talks to it the way a real engine talks to its server,
including one "statement" per change so crash-and-retry tests can fail between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rotation.core.database import TLS, DatabaseHandler
from rotation.core.errors import ConnectError, LoginFailedError, UserManagementError

if TYPE_CHECKING:
    from collections.abc import Callable

    from rotation.core.secret import DatabaseSecret


@dataclass
class FakeDatabase:
    """Users with passwords and privileges; logins are counted."""

    host: str = "fake.example"
    port: int = 5000
    passwords: dict[str, str] = field(default_factory=dict)
    privileges: dict[str, set[str]] = field(default_factory=dict)
    admins: set[str] = field(default_factory=set)
    successful_logins: int = 0
    failed_logins: int = 0
    reachable: bool = True
    statements: list[str] = field(default_factory=list)
    # Called before every statement; tests raise from it to simulate a crash.
    before_statement: Callable[[str], None] | None = None
    after_statement: Callable[[str], None] | None = None

    def add_user(self, username: str, password: str, *privileges: str, admin: bool = False) -> None:
        """Create a user with a password and privileges."""
        self.passwords[username] = password
        self.privileges[username] = set(privileges)
        if admin:
            self.admins.add(username)

    def execute(self, statement: str, apply: Callable[[], None]) -> None:
        """Record and apply one change, giving ``before_statement`` the chance to fail it."""
        if self.before_statement is not None:
            self.before_statement(statement)
        apply()
        self.statements.append(statement)
        if self.after_statement is not None:
            self.after_statement(statement)


@dataclass
class FakeSession:
    """A logged-in session."""

    database: FakeDatabase
    username: str
    closed: bool = False

    def close(self) -> None:
        """End the session."""
        self.closed = True


class FakeDatabaseHandler(DatabaseHandler[FakeSession]):
    """An engine over a :class:`FakeDatabase` (pass it as ``database=``)."""

    engine = "fake"
    display_name = "FakeDB"
    engine_values = frozenset({"fake"})
    admin_engine_values = engine_values
    default_port = 5000
    default_dbname = None
    max_username_length = 32
    driver_module = "json"  # the fake needs no driver; any stdlib module will do
    extra = "fake"

    default_database: FakeDatabase | None = None

    def __init__(self, *args: Any, database: FakeDatabase | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.db = database or self.default_database or FakeDatabase()
        self.db.after_statement = self.statement_done

    @classmethod
    def bound_to(cls, database: FakeDatabase) -> type[FakeDatabaseHandler]:
        """Return a subclass whose instances all use ``database`` (for the conformance suite)."""
        return type(cls.__name__, (cls,), {"default_database": database})

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> FakeSession:
        """Log in if the host is the fake's and the password matches."""
        if not self.db.reachable or (secret.host, secret.port) != (self.db.host, self.db.port):
            raise ConnectError(f"cannot reach {secret.host}:{secret.port}")
        if self.db.passwords.get(secret.username) != secret.password:
            self.db.failed_logins += 1
            raise LoginFailedError(f"login of {secret.username!r} rejected")
        self.db.successful_logins += 1
        return FakeSession(self.db, secret.username)

    def set_password(
        self, conn: FakeSession, username: str, password: str, old_password: str
    ) -> None:
        """Change the session user's own password."""
        if conn.username != username:
            raise UserManagementError("a user may only change its own password")
        self.db.execute(
            f"password {username}", lambda: self.db.passwords.__setitem__(username, password)
        )

    def set_user_password(self, conn: FakeSession, username: str, password: str) -> None:
        """As the admin, set another user's password."""
        self._require_admin(conn)
        if username not in self.db.passwords:
            raise UserManagementError(f"user {username!r} does not exist")
        self.db.execute(
            f"password {username}", lambda: self.db.passwords.__setitem__(username, password)
        )

    def user_exists(self, conn: FakeSession, username: str) -> bool:
        """Tell whether a user exists."""
        return username in self.db.passwords

    def create_user_like(
        self, conn: FakeSession, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone, one statement per step, granting what it lacks."""
        self._require_admin(conn)
        db = self.db
        if template not in db.passwords:
            raise UserManagementError(f"user {template!r} does not exist")
        if username not in db.passwords:
            db.execute(f"create {username}", lambda: db.add_user(username, password))
        db.execute(f"password {username}", lambda: db.passwords.__setitem__(username, password))
        for privilege in sorted(db.privileges[template] - db.privileges[username]):
            db.execute(f"grant {privilege} {username}", _granter(db, username, privilege))

    def check(self, conn: FakeSession) -> None:
        """Succeed for any open session."""
        if conn.closed:
            raise ConnectError("session closed")

    def _require_admin(self, conn: FakeSession) -> None:
        if conn.username not in self.db.admins:
            raise UserManagementError(f"{conn.username!r} is not an admin")


def _granter(db: FakeDatabase, username: str, privilege: str) -> Callable[[], None]:
    return lambda: db.privileges[username].add(privilege)
