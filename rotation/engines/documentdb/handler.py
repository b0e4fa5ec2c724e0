"""The DocumentDB handler: PyMongo clients, command errors and the primitives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.database import DatabaseHandler
from rotation.core.errors import (
    ConfigurationError,
    ConnectError,
    LoginFailedError,
    SecretFormatError,
    SecretTestFailedError,
    UserManagementError,
)
from rotation.engines.documentdb.commands import (
    MONGODB_WIRE_VERSIONS,
    USERS_DATABASE,
    Command,
    DocumentDBCommands,
    Role,
    role_of,
)
from rotation.engines.documentdb.preflight import DocumentDBPreflight
from rotation.engines.documentdb.session import DocumentDBSession

if TYPE_CHECKING:
    from pymongo import MongoClient

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret

# MongoClient reads a host containing any of these as a connection string or a seed list, whose
# options (tlsInsecure=true, ...) would override the engine's; the secret names one host.
NOT_IN_A_HOST = frozenset("/,@?%# \t\n")

# MongoDB's AuthenticationFailed; DocumentDB answers a bad password with the same code.
AUTHENTICATION_FAILED = 18
# User-management commands are quick; this bounds a server that accepts but never answers.
COMMAND_TIMEOUT_MS = 30_000


class DocumentDBHandler(
    DocumentDBPreflight, DocumentDBCommands, DatabaseHandler[DocumentDBSession]
):
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

    def parse_secret(self, value: dict[str, Any], *, admin: bool = False) -> DatabaseSecret:
        """Validate a secret; its host must be one host name or address, not a URI or a list.

        Raises:
            SecretFormatError: The host is a connection string or a list of hosts.
        """
        secret = super().parse_secret(value, admin=admin)
        if "://" in secret.host or NOT_IN_A_HOST & set(secret.host):
            what = "admin secret" if admin else "secret"
            raise SecretFormatError(
                f"the {what}'s 'host' must be one host name or address, not a connection "
                "string or a list of hosts"
            )
        return secret

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> DocumentDBSession:
        """Connect to one server and authenticate; TLS verifies the chain and host name.

        Raises:
            ConfigurationError: The server's wire version is one the installed PyMongo does not
                speak (a DocumentDB older than the driver supports).
            LoginFailedError: The server rejected the credentials.
            ConnectError: Anything else prevented a session.
        """
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
            too_old = self.unsupported_server(client, where)
            client.close()
            if too_old is not None:
                raise too_old from exc
            if getattr(exc, "code", None) == AUTHENTICATION_FAILED:
                raise LoginFailedError(
                    f"{where} rejected the login of user {secret.username!r}"
                ) from exc
            raise ConnectError(f"cannot connect to {where}: {self.describe_error(exc)}") from exc
        return session

    def unsupported_server(self, client: MongoClient[Any], where: str) -> ConfigurationError | None:
        """Return the error for a server older than the installed PyMongo speaks, if it is one.

        PyMongo refuses such a server before any command with a message about wire versions;
        this one names the DocumentDB version and the driver's minimum.
        """
        common = self.driver().common
        for server in client.topology_description.server_descriptions().values():
            wire = server.max_wire_version
            if server.is_server_type_known and wire < common.MIN_SUPPORTED_WIRE_VERSION:
                named = MONGODB_WIRE_VERSIONS.get(wire)
                version = f" (DocumentDB or MongoDB {named})" if named else ""
                return ConfigurationError(
                    f"{where} reports wire version {wire}{version}, but the installed PyMongo "
                    f"{self.driver().version} needs at least {common.MIN_SUPPORTED_WIRE_VERSION} "
                    f"(MongoDB {common.MIN_SUPPORTED_SERVER_VERSION}): install the PyMongo that "
                    f'rotation[{self.extra}] pins (pip install "rotation[{self.extra}]"), which '
                    "speaks to DocumentDB 3.6 and later"
                )
        return None

    def describe_error(self, exc: BaseException) -> str:
        """Return a one-line, redacted description of a PyMongo error, with its code."""
        code = getattr(exc, "code", None)
        details = getattr(exc, "details", None)
        # OperationFailure's str() appends the whole reply; the server's errmsg is enough.
        message = details.get("errmsg") if isinstance(details, dict) else None
        text = str(message or exc).strip().splitlines()
        line = self.redactor.redact(text[0]) if text else type(exc).__name__
        return f"{code}: {line}" if code is not None else line

    def run(self, session: DocumentDBSession, command: Command) -> dict[str, Any]:
        """Run one command on ``admin``, where users live, and report it to the listener.

        The login and its check use the auth database (the secret's ``dbname``); user commands
        go to ``admin`` whatever it is (see :data:`USERS_DATABASE`).

        Raises:
            UserManagementError: The server refused or failed; the message has the action, the
                server's code and message, redacted.
        """
        pymongo = self.driver()
        try:
            reply: dict[str, Any] = session.client[USERS_DATABASE].command(command.document)
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
        """Tell whether a user exists in ``admin``."""
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
            raise UserManagementError(f"user {template!r} does not exist in {USERS_DATABASE!r}")
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

    def check(self, conn: DocumentDBSession) -> None:
        """Run ``ping`` on the authenticated session and expect ``ok: 1``."""
        reply = self.run(conn, self.ping_command())
        if reply.get("ok") != 1:
            raise SecretTestFailedError("the ping command did not return ok: 1")
