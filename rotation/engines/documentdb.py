"""Amazon DocumentDB and MongoDB.

:engine: ``documentdb``
:driver: PyMongo 4 (``pip install "rotation[documentdb]"``)
:secret engine values: ``mongo``, ``docdb``, ``documentdb``
:strategies: single user, alternating users
:commands: all run on the auth database (the secret's ``dbname``, default ``admin``). Single
    user, and the admin on the original user: ``{updateUser: <user>, pwd: <password>}``.
    Alternating users: ``{usersInfo: <user>}`` for the original's roles, then
    ``{createUser: <clone>, pwd, roles}`` when the clone is missing, else ``updateUser`` with
    ``pwd``, followed by ``grantRolesToUser`` for roles the clone lacks and
    ``revokeRolesFromUser`` for roles the original no longer has. Check: ``{ping: 1}`` on a
    session PyMongo has authenticated with SCRAM.

Commands are BSON documents, so no name or password is ever spliced into text. PyMongo 4 has no
``Database.authenticate()``: credentials go to ``MongoClient``, which authenticates each pooled
connection, and its command monitoring redacts ``createUser``/``updateUser``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rotation.core.database import DatabaseHandler, Finding
from rotation.core.errors import (
    ConnectError,
    LoginFailedError,
    SecretTestFailedError,
    UserManagementError,
)
from rotation.core.strategies import AlternatingUsers, SingleUser

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pymongo import MongoClient

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret

# MongoDB's AuthenticationFailed; DocumentDB answers a bad password with the same code.
AUTHENTICATION_FAILED = 18
# User-management commands are quick; this bounds a server that accepts but never answers.
COMMAND_TIMEOUT_MS = 30_000

Role = dict[str, str]
#: Actions the alternating-users admin needs on the auth database, and what each one is for.
ADMIN_ACTIONS = (
    ("createUser", "create the clone"),
    ("changePassword", "set the users' passwords (updateUser pwd)"),
    ("viewUser", "read the original's roles (usersInfo)"),
    ("grantRole", "give the clone the original's roles"),
    ("revokeRole", "take away roles the original no longer has"),
)


@dataclass(frozen=True, repr=False)
class Command:
    """One database command as the engine builds it.

    Attributes:
        document: The command document; its first key is the command name.
        action: A short label that is safe to log and put in errors (no names, no values).
    """

    document: dict[str, Any]
    action: str

    def __repr__(self) -> str:
        # The document may hold a password.
        return f"Command(action={self.action!r})"


@dataclass(frozen=True)
class DocumentDBSession:
    """An authenticated client and the auth database the commands run on."""

    client: MongoClient[dict[str, Any]]
    dbname: str

    def close(self) -> None:
        """Close the client and its pooled connections."""
        self.client.close()


class DocumentDBHandler(DatabaseHandler[DocumentDBSession]):
    """Rotate DocumentDB (and MongoDB) users."""

    engine = "documentdb"
    display_name = "DocumentDB"
    engine_values = frozenset({"mongo", "docdb", "documentdb"})
    admin_engine_values = engine_values
    default_port = 27017
    default_dbname = "admin"
    # AWS documents no limit for names given to createUser; the one it documents for DocumentDB
    # user names is the cluster's master user name, "1 to 63 letters or numbers". Keeping clones
    # within 63 keeps them valid wherever DocumentDB takes a user name.
    max_username_length = 63
    driver_module = "pymongo"
    extra = "documentdb"

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> DocumentDBSession:
        """Connect to one server and authenticate; TLS verifies the chain and host name."""
        pymongo = self.driver()
        timeout_ms = max(1, int(self.settings.connect_timeout * 1000))
        dbname = secret.dbname or self.default_dbname
        options: dict[str, Any] = {
            "host": secret.host,
            "port": secret.port,
            "username": secret.username,
            "password": secret.password,
            "authSource": dbname,
            # DocumentDB has no retryable writes; a cluster endpoint names the primary.
            "retryWrites": False,
            "directConnection": True,
            "serverSelectionTimeoutMS": timeout_ms,
            "connectTimeoutMS": timeout_ms,
            "socketTimeoutMS": max(timeout_ms, COMMAND_TIMEOUT_MS),
            "appname": "rotation",
            "tls": tls.enabled,
        }
        if tls.enabled and tls.ca_file:
            options["tlsCAFile"] = tls.ca_file
        where = f"{self.display_name} at {secret.host}:{secret.port}"
        try:
            client: MongoClient[dict[str, Any]] = pymongo.MongoClient(**options)
        except pymongo.errors.PyMongoError as exc:
            raise ConnectError(f"cannot connect to {where}: {self.describe_error(exc)}") from exc
        session = DocumentDBSession(client, str(dbname))
        try:
            # MongoClient connects lazily: a command forces the SCRAM handshake now.
            client[session.dbname].command(self.ping_command().document)
        except pymongo.errors.PyMongoError as exc:
            client.close()
            if getattr(exc, "code", None) == AUTHENTICATION_FAILED:
                raise LoginFailedError(
                    f"{where} rejected the login of user {secret.username!r}"
                ) from exc
            raise ConnectError(f"cannot connect to {where}: {self.describe_error(exc)}") from exc
        return session

    def describe_error(self, exc: BaseException) -> str:
        """Return a one-line, redacted description of a PyMongo error, with its code."""
        code = getattr(exc, "code", None)
        details = getattr(exc, "details", None)
        # OperationFailure's str() appends the whole reply; the server's errmsg is enough.
        message = details.get("errmsg") if isinstance(details, dict) else None
        text = str(message or exc).strip().splitlines()
        line = self.redactor.redact(text[0]) if text else type(exc).__name__
        return f"{code}: {line}" if code is not None else line

    # -- commands -----------------------------------------------------------------------------

    @staticmethod
    def ping_command() -> Command:
        """Build ``{ping: 1}``."""
        return Command({"ping": 1}, "ping")

    @staticmethod
    def users_info_command(username: str) -> Command:
        """Build ``usersInfo`` for one user of the database the command runs on.

        The plain-name form is the one the AWS template runs on DocumentDB; the server takes
        the string as the name itself (no ``db.user`` parsing), so any name is safe.
        """
        return Command({"usersInfo": username}, "usersInfo")

    @staticmethod
    def update_password_command(username: str, password: str) -> Command:
        """Build ``updateUser`` that sets a password (the server computes the SCRAM keys)."""
        return Command({"updateUser": username, "pwd": password}, "updateUser pwd")

    @staticmethod
    def create_user_command(username: str, password: str, roles: list[Role]) -> Command:
        """Build ``createUser`` with a password and roles."""
        return Command({"createUser": username, "pwd": password, "roles": roles}, "createUser")

    @staticmethod
    def grant_roles_command(username: str, roles: list[Role]) -> Command:
        """Build ``grantRolesToUser``."""
        return Command({"grantRolesToUser": username, "roles": roles}, "grantRolesToUser")

    @staticmethod
    def revoke_roles_command(username: str, roles: list[Role]) -> Command:
        """Build ``revokeRolesFromUser``."""
        return Command({"revokeRolesFromUser": username, "roles": roles}, "revokeRolesFromUser")

    def run(self, session: DocumentDBSession, command: Command) -> dict[str, Any]:
        """Run one command on the auth database and report it to the statement listener.

        Raises:
            UserManagementError: The server refused or failed; the message has the action, the
                server's code and message, redacted.
        """
        pymongo = self.driver()
        try:
            reply: dict[str, Any] = session.client[session.dbname].command(command.document)
        except pymongo.errors.PyMongoError as exc:
            raise UserManagementError(
                f"{command.action} failed: {self.describe_error(exc)}"
            ) from exc
        self.statement_done(command.action)
        return reply

    # -- primitives ---------------------------------------------------------------------------

    def set_password(
        self, conn: DocumentDBSession, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in user's own password (needs ``changeOwnPassword``)."""
        self.run(conn, self.update_password_command(username, password))

    def set_user_password(self, conn: DocumentDBSession, username: str, password: str) -> None:
        """As the admin, set another user's password."""
        self.run(conn, self.update_password_command(username, password))

    def user_roles(self, conn: DocumentDBSession, username: str) -> list[Role] | None:
        """Return a user's roles as ``{role, db}`` documents, or None when it does not exist."""
        reply = self.run(conn, self.users_info_command(username))
        for user in reply.get("users", []):
            if user.get("user") == username:
                return [role_of(entry) for entry in user.get("roles", [])]
        return None

    def user_exists(self, conn: DocumentDBSession, username: str) -> bool:
        """Tell whether a user exists in the auth database."""
        return self.user_roles(conn, username) is not None

    def create_user_like(
        self, conn: DocumentDBSession, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone with the password and exactly the original's roles.

        ``createUser`` sets password and roles at once. For an existing clone the password is
        set first, then missing roles are granted before extra ones are revoked, so a re-run
        after a crash between commands completes the job and the clone is never left short.
        """
        wanted = self.user_roles(conn, template)
        if wanted is None:
            raise UserManagementError(f"user {template!r} does not exist in {conn.dbname!r}")
        have = self.user_roles(conn, username)
        if have is None:
            self.run(conn, self.create_user_command(username, password, wanted))
            return
        self.run(conn, self.update_password_command(username, password))
        missing = [role for role in wanted if role not in have]
        if missing:
            self.run(conn, self.grant_roles_command(username, missing))
        extra = [role for role in have if role not in wanted]
        if extra:
            self.run(conn, self.revoke_roles_command(username, extra))

    # -- read-only preflight (rotation check) ---------------------------------------------------

    @staticmethod
    def build_info_command() -> Command:
        """Build ``{buildInfo: 1}``."""
        return Command({"buildInfo": 1}, "buildInfo")

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
        db = conn.dbname
        status = self.run(conn, self.connection_status_command())
        actions = granted_actions(status, db)
        if not admin:
            ok = bool(actions & {"changeOwnPassword", "changePassword"})
            detail = (
                f"the user may change its own password on {db!r}"
                if ok
                else f"missing changeOwnPassword on {db!r}: updateUser with pwd will be refused"
            )
            return [Finding("privileges: changeOwnPassword", ok, detail)]
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
        # createUser with roles needs grantRole on each role's database, not only the auth one.
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

    def check(self, conn: DocumentDBSession) -> None:
        """Run ``ping`` on the authenticated session and expect ``ok: 1``."""
        reply = self.run(conn, self.ping_command())
        if reply.get("ok") != 1:
            raise SecretTestFailedError("the ping command did not return ok: 1")


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


def role_of(entry: Mapping[str, Any]) -> Role:
    """Return a ``usersInfo`` role entry as the ``{role, db}`` document commands take."""
    return {"role": str(entry["role"]), "db": str(entry["db"])}


single_user_handler = DocumentDBHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = DocumentDBHandler.lambda_handler(strategy=AlternatingUsers())
