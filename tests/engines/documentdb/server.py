"""A MongoDB wire-protocol test server: users, roles, SCRAM and role-based access control.

PyMongo 4 talks to it over a loopback socket (optionally TLS) exactly as it talks to MongoDB or
DocumentDB: the handshake (``isMaster`` over OP_QUERY from PyMongo before 4.14, ``hello`` over
OP_MSG after it) with ``saslSupportedMechs`` and speculative authentication, SCRAM-SHA-1/-256
(:mod:`tests.engines.documentdb.scram`), then commands over OP_MSG. A :class:`Flavor` says what
the server claims to be: MongoDB 5.0, or one of the DocumentDB versions (:data:`DOCUMENTDB`) with
its wire version and DocumentDB's user model (every user in ``admin``, whatever database a
login or a user command names). It implements the user-management commands the engine sends,
with MongoDB's authorisation rules for them:

* every command but the handshake, ``ping``, ``buildInfo`` and ``endSessions`` needs a login;
* ``createUser`` needs ``createUser`` on the users' database and ``grantRole`` on each role's
  database; ``grantRolesToUser``/``revokeRolesFromUser`` need ``grantRole``/``revokeRole``;
* ``updateUser`` with ``pwd`` needs ``changePassword`` — or, on one's own user, the
  ``changeOwnPassword`` action of a custom role; ``usersInfo`` on others needs ``viewUser``
  (DocumentDB's docs do not say whether a user may change its own password without
  ``changeOwnPassword``; every flavor keeps MongoDB's rule);
* ``connectionStatus`` (no login needed) with ``showPrivileges`` lists the session's privileges
  as MongoDB does: a database role's actions on ``{db, collection: ""}``, an any-database or
  custom role's on ``{db: "", collection: ""}``, ``clusterAdmin``'s on ``{cluster: true}``,
  ``root``'s on ``anyResource``.

Built-in roles carry a subset of MongoDB's actions (enough for the rules above); a custom role's
actions apply to every database. Passwords are kept only as SCRAM credentials.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import socket
import socketserver
import ssl
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

import bson
from bson.binary import Binary

from tests.engines.documentdb import scram

OP_MSG = 2013
CHECKSUM_PRESENT = 1
MORE_TO_COME = 2
HEADER = struct.Struct("<iiii")
OP_REPLY = 1
OP_QUERY = 2004


@dataclass(frozen=True)
class Flavor:
    """What the server says it is, and whether it follows DocumentDB's user model.

    Attributes:
        name: A label for test ids.
        max_wire_version: ``maxWireVersion`` in the handshake, which PyMongo compares with the
            range it supports before it sends any command.
        version: ``buildInfo``'s version.
        documentdb: DocumentDB's documented differences from MongoDB (see
            :meth:`Connection.users_db` and :meth:`Connection.cmd_getengineversion`).
        engine_version: What ``getEngineVersion`` reports (DocumentDB only).
        mechanisms: The SCRAM mechanisms its users get (pass them to :class:`Directory`).
    """

    name: str
    max_wire_version: int
    version: str
    documentdb: bool = False
    engine_version: str = ""
    mechanisms: tuple[str, ...] = scram.MECHANISMS


# Users are keyed by their own database, as in MongoDB Community.
MONGODB_5_0 = Flavor("MongoDB 5.0", 13, "5.0.0")
# DocumentDB 4.0 reports wire version 7: CONFIRMED by third parties that hit PyMongo's and the
# Java/Node drivers' minimum, e.g. https://docs.gurobi.com/projects/remoteservices/en/current/
# content/releasenotes/deprecations.html ("Amazon DocumentDB 4.0 reports MongoDB wire protocol
# version 7") and https://github.com/SDA-SE/sda-dropwizard-commons/pull/3936. For 3.6, 5.0 and
# 8.0 no source gives DocumentDB's own number: these are MongoDB's wire versions for the
# MongoDB versions DocumentDB is compatible with (3.6 = 6, 5.0 = 13, 8.0 = 25). The engine
# versions are the patch levels the DocumentDB feature table names for each major version
# (https://docs.aws.amazon.com/documentdb/latest/developerguide/
# docdb-engine-version-supportability.html); buildInfo's version string is an assumption.
# "SCRAM-SHA-256 authentication is available in Amazon DocumentDB instance-based cluster minor
# versions 5.0.1+ and 8.0.1+" (https://docs.aws.amazon.com/documentdb/latest/developerguide/
# scram-sha-256-auth.html): 3.6, 4.0 and 5.0.0 have SCRAM-SHA-1 only.
SHA1_ONLY = (scram.SHA1,)
DOCUMENTDB = {
    "3.6": Flavor("DocumentDB 3.6", 6, "3.6.0", True, "1.0.208662", SHA1_ONLY),
    "4.0": Flavor("DocumentDB 4.0", 7, "4.0.0", True, "2.0.10179", SHA1_ONLY),
    "5.0": Flavor("DocumentDB 5.0", 13, "5.0.0", True, "3.0.4780", SHA1_ONLY),
    "8.0": Flavor("DocumentDB 8.0.1", 25, "8.0.1", True, "4.0.4448"),
}
# MongoDB answers saslSupportedMechs from 4.0 (wire 7), the release that added SCRAM-SHA-256, and
# speculativeAuthenticate from 4.4 (wire 9): "Speculative authentication is ignored for server
# versions less than or equal to 4.2" (https://jira.mongodb.org/browse/RUST-371, DRIVERS-918).
# DocumentDB documents neither; the server follows MongoDB's versions, which PyMongo handles
# either way.
SASL_SUPPORTED_MECHS_SINCE = 7
SPECULATIVE_AUTHENTICATION_SINCE = 9

USER_ADMIN = frozenset(
    {
        "createUser",
        "dropUser",
        "changePassword",
        "grantRole",
        "revokeRole",
        "viewUser",
        "createRole",
        "dropRole",
        "viewRole",
    }
)
READ = frozenset({"find", "listCollections", "listIndexes", "dbStats", "collStats"})
READ_WRITE = READ | {"insert", "update", "remove", "createCollection", "createIndex"}
DB_ADMIN = frozenset({"listCollections", "dbStats", "collStats", "createIndex", "dropIndex"})
# Roles that exist in every database, with their actions on that database.
DATABASE_ROLES = {
    "read": READ,
    "readWrite": READ_WRITE,
    "dbAdmin": DB_ADMIN,
    "userAdmin": USER_ADMIN,
    "dbOwner": READ_WRITE | DB_ADMIN | USER_ADMIN,
}
# Roles that exist only in admin, with their actions on every database.
ANY_DATABASE_ROLES = {"readAnyDatabase": READ, "readWriteAnyDatabase": READ_WRITE,
                      "dbAdminAnyDatabase": DB_ADMIN, "userAdminAnyDatabase": USER_ADMIN,
                      "clusterAdmin": frozenset({"serverStatus"})}  # fmt: skip
NO_AUTH_COMMANDS = frozenset(
    {
        "hello",
        "isMaster",
        "ismaster",
        "ping",
        "buildInfo",
        "buildinfo",
        "endSessions",
        "connectionStatus",
        "saslStart",
        "saslContinue",
    }
)

RoleRef = tuple[str, str]  # (role, db)


class CommandError(Exception):
    """A command failure the server reports as ``ok: 0``."""

    def __init__(self, code: int, code_name: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.code_name = code_name

    def reply(self) -> dict[str, Any]:
        """Return the error reply document."""
        return {"ok": 0.0, "errmsg": str(self), "code": self.code, "codeName": self.code_name}


def unauthorized(command: str) -> CommandError:
    """Return MongoDB's Unauthorized error for a command."""
    return CommandError(13, "Unauthorized", f"not authorized to execute command {command}")


@dataclass
class User:
    """A user of one database, with roles and SCRAM credentials (no password)."""

    db: str
    name: str
    roles: list[RoleRef]
    credentials: dict[str, scram.ScramCredentials]

    def document(self) -> dict[str, Any]:
        """Return the user as ``usersInfo`` shows it."""
        return {"_id": f"{self.db}.{self.name}", "user": self.name, "db": self.db,
                "roles": [{"role": role, "db": db} for role, db in self.roles],
                "mechanisms": sorted(self.credentials)}  # fmt: skip


@dataclass
class Directory:
    """The server's users and custom roles, and its authentication counters."""

    mechanisms: tuple[str, ...] = scram.MECHANISMS
    users: dict[tuple[str, str], User] = field(default_factory=dict)
    custom_roles: dict[RoleRef, frozenset[str]] = field(default_factory=dict)
    failed_authentications: int = 0
    successful_authentications: int = 0
    # (user or None, command name, database) of every command received, for assertions.
    commands: list[tuple[str | None, str, str]] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def add_user(self, db: str, name: str, password: str, roles: list[RoleRef]) -> None:
        """Create (or replace) a user out of band, as a DBA would."""
        with self.lock:
            for role in roles:
                self.require_role(role)
            self.users[(db, name)] = User(db, name, list(roles), self.derive(name, password))

    def drop_user(self, db: str, name: str) -> None:
        """Remove a user if present."""
        with self.lock:
            self.users.pop((db, name), None)

    def add_role(self, db: str, name: str, actions: set[str]) -> None:
        """Create a custom role whose actions apply to every database."""
        with self.lock:
            self.custom_roles[(name, db)] = frozenset(actions)

    def derive(self, name: str, password: str) -> dict[str, scram.ScramCredentials]:
        """Compute the credentials of every mechanism the server enables."""
        if not password:
            raise CommandError(2, "BadValue", "password must not be empty")
        return {mech: scram.derive(mech, name, password) for mech in self.mechanisms}

    def require_role(self, role: RoleRef) -> None:
        """Check that a role exists.

        Raises:
            CommandError: RoleNotFound.
        """
        name, db = role
        built_in = name in DATABASE_ROLES or (
            db == "admin" and (name in ANY_DATABASE_ROLES or name == "root")
        )
        if not built_in and role not in self.custom_roles:
            raise CommandError(31, "RoleNotFound", f"Could not find role: {name}@{db}")

    def allowed(self, user: User | None, action: str, db: str) -> bool:
        """Tell whether a user's roles grant an action on a database."""
        if user is None:
            return False
        for name, role_db in user.roles:
            if role_db == "admin" and name == "root":
                return True
            if role_db == db and action in DATABASE_ROLES.get(name, ()):
                return True
            if role_db == "admin" and action in ANY_DATABASE_ROLES.get(name, ()):
                return True
            if action in self.custom_roles.get((name, role_db), ()):
                return True
        return False


class Connection:
    """One client connection: its authenticated user and SASL conversation."""

    def __init__(self, server: MongoTestServer, connection_id: int) -> None:
        self.server = server
        self.directory = server.directory
        self.connection_id = connection_id
        self.user: User | None = None
        self.conversation: scram.ScramConversation | None = None
        self.conversation_db = ""
        self.skip_empty_exchange = False

    # -- dispatch -----------------------------------------------------------------------------

    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        """Run one command document and return the reply document.

        The database is the command's ``$db`` as received; it is recorded as is, so tests can
        see where the engine sent each command.
        """
        name = next(iter(body))
        db = body.get("$db", "")
        with self.directory.lock:
            self.directory.commands.append((self.user.name if self.user else None, name, db))
            try:
                if name not in NO_AUTH_COMMANDS and self.user is None:
                    raise CommandError(
                        13, "Unauthorized", f"command {name} requires authentication"
                    )
                handler = getattr(self, "cmd_" + name.lower(), None)
                if handler is None:
                    raise CommandError(59, "CommandNotFound", f"no such command: '{name}'")
                reply: dict[str, Any] = handler(body, db)
            except CommandError as exc:
                return exc.reply()
        return {**reply, "ok": 1.0}

    def users_db(self, db: str) -> str:
        """Return the database whose users a command sent to ``db`` reads or changes.

        MongoDB keeps users in the database they were created in. DocumentDB keeps every user
        in ``admin``: "user and role definitions are stored in the admin database and users are
        authenticated against the admin database", and "all user and role operations (for
        example, create, get, drop, grant, revoke, etc.) are implicitly performed in the admin
        database whether or not you are issuing commands against the admin database"
        (https://docs.aws.amazon.com/documentdb/latest/developerguide/
        role_based_access_control.html, "Functional differences" and the note under "Getting
        started with RBAC built-in roles").
        """
        return "admin" if self.server.flavor.documentdb else db

    # -- handshake and authentication ---------------------------------------------------------

    def cmd_hello(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Describe a standalone server; answer SCRAM mechanism negotiation."""
        reply: dict[str, Any] = {
            "isWritablePrimary" if next(iter(body)) == "hello" else "ismaster": True,
            "helloOk": True,
            "maxBsonObjectSize": 16 * 1024 * 1024,
            "maxMessageSizeBytes": 48_000_000,
            "maxWriteBatchSize": 100_000,
            "localTime": datetime.datetime.now(tz=datetime.UTC),
            "logicalSessionTimeoutMinutes": 30,
            "connectionId": self.connection_id,
            "minWireVersion": 0,
            "maxWireVersion": self.server.flavor.max_wire_version,
            "readOnly": False,
        }
        wire = self.server.flavor.max_wire_version
        wanted = body.get("saslSupportedMechs")
        if isinstance(wanted, str) and "." in wanted and wire >= SASL_SUPPORTED_MECHS_SINCE:
            user_db, _, name = wanted.partition(".")
            user = self.directory.users.get((self.users_db(user_db), name))
            if user is not None:
                reply["saslSupportedMechs"] = sorted(user.credentials)
        speculative = body.get("speculativeAuthenticate")
        if (
            isinstance(speculative, dict)
            and "saslStart" in speculative
            and wire >= SPECULATIVE_AUTHENTICATION_SINCE
        ):
            with contextlib.suppress(CommandError):
                start = self.sasl_start(speculative, speculative.get("db", ""), speculative=True)
                reply["speculativeAuthenticate"] = start | {"ok": 1.0}
        return reply

    cmd_ismaster = cmd_hello

    def cmd_saslstart(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Start a SCRAM conversation and return server-first."""
        return self.sasl_start(body, db, speculative=False)

    def sasl_start(self, body: dict[str, Any], db: str, *, speculative: bool) -> dict[str, Any]:
        """Start a conversation; a refused speculative start is not a failed login."""
        mechanism = body.get("mechanism", "")
        try:
            if mechanism not in self.directory.mechanisms:
                raise CommandError(
                    334, "MechanismUnavailable",
                    f"Received authentication for mechanism {mechanism} which is not enabled",
                )  # fmt: skip
            try:
                payload = bytes(body.get("payload", b""))
                conversation = scram.ScramConversation(mechanism, payload)
            except scram.ScramError as exc:
                raise CommandError(17, "ProtocolError", str(exc)) from None
            user = self.directory.users.get((self.users_db(db), conversation.username))
            credentials = user.credentials.get(mechanism) if user else None
            if user is not None and credentials is None:
                raise CommandError(
                    334, "MechanismUnavailable",
                    f"Unable to use {mechanism} based authentication for user without any "
                    f"{mechanism} credentials registered",
                )  # fmt: skip
        except CommandError:
            if not speculative:
                self.directory.failed_authentications += 1
            raise
        self.conversation, self.conversation_db = conversation, db
        options = body.get("options") or {}
        self.skip_empty_exchange = bool(options.get("skipEmptyExchange"))
        payload = conversation.first_reply(credentials)
        return {"conversationId": 1, "done": False, "payload": Binary(payload)}

    def cmd_saslcontinue(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Check client-final (or acknowledge the empty last step) and log the user in."""
        conversation = self.conversation
        if conversation is None or db != self.conversation_db:
            raise CommandError(17, "ProtocolError", "No SASL session state found")
        if conversation.verified:  # the optional empty third step
            self.conversation = None
            return {"conversationId": 1, "done": True, "payload": Binary(b"")}
        try:
            server_final = conversation.final_reply(bytes(body.get("payload", b"")))
        except scram.ScramError:
            self.conversation = None
            self.directory.failed_authentications += 1
            raise CommandError(18, "AuthenticationFailed", "Authentication failed.") from None
        self.directory.successful_authentications += 1
        self.user = self.directory.users[(self.users_db(db), conversation.username)]
        done = self.skip_empty_exchange
        if done:
            self.conversation = None
        return {"conversationId": 1, "done": done, "payload": Binary(server_final)}

    def cmd_ping(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Answer ``ping``."""
        return {}

    def cmd_buildinfo(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Report the flavor's version."""
        version = self.server.flavor.version
        return {"version": version, "versionArray": [*map(int, version.split(".")), 0]}

    def cmd_getengineversion(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Report DocumentDB's engine patch version; MongoDB has no such command.

        DocumentDB documents ``db.runCommand({getEngineVersion: 1})`` for reading the engine
        patch version (https://docs.aws.amazon.com/documentdb/latest/developerguide/
        release-notes.html). The reply's field name is an assumption.
        """
        if not self.server.flavor.documentdb:
            raise CommandError(59, "CommandNotFound", "no such command: 'getEngineVersion'")
        return {"engineVersion": self.server.flavor.engine_version}

    def cmd_connectionstatus(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Describe the session: its users, roles and (with showPrivileges) privileges."""
        user = self._live_user()
        roles = user.roles if user else []
        info: dict[str, Any] = {
            "authenticatedUsers": [{"user": user.name, "db": user.db}] if user else [],
            "authenticatedUserRoles": [{"role": role, "db": role_db} for role, role_db in roles],
        }
        if body.get("showPrivileges"):
            privileges = []
            for name, role_db in roles:
                resource: dict[str, Any]
                if role_db == "admin" and name == "root":
                    resource, actions = {"anyResource": True}, set().union(*DATABASE_ROLES.values())
                elif name in DATABASE_ROLES:
                    resource, actions = {"db": role_db, "collection": ""}, DATABASE_ROLES[name]
                elif role_db == "admin" and name == "clusterAdmin":
                    resource, actions = {"cluster": True}, ANY_DATABASE_ROLES[name]
                elif role_db == "admin" and name in ANY_DATABASE_ROLES:
                    resource, actions = {"db": "", "collection": ""}, ANY_DATABASE_ROLES[name]
                else:
                    resource = {"db": "", "collection": ""}
                    actions = self.directory.custom_roles.get((name, role_db), frozenset())
                privileges.append({"resource": resource, "actions": sorted(actions)})
            info["authenticatedUserPrivileges"] = privileges
        return {"authInfo": info}

    def cmd_endsessions(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Accept (and forget) ended sessions."""
        return {}

    # -- user management ----------------------------------------------------------------------

    def _require(self, action: str, db: str, command: str) -> None:
        if not self.directory.allowed(self._live_user(), action, db):
            raise unauthorized(command)

    def _live_user(self) -> User | None:
        # A dropped or re-created user loses its session's rights, as in MongoDB.
        if self.user is None:
            return None
        current = self.directory.users.get((self.user.db, self.user.name))
        return current if current is self.user else None

    def _target(self, name: Any, db: str) -> User:
        if not isinstance(name, str) or not name:
            raise CommandError(2, "BadValue", "user name must be a non-empty string")
        user_db = self.users_db(db)
        user = self.directory.users.get((user_db, name))
        if user is None:
            raise CommandError(
                11, "UserNotFound", f'Could not find user "{name}" for db "{user_db}"'
            )
        return user

    def _roles(self, raw: Any, db: str) -> list[RoleRef]:
        if not isinstance(raw, list):
            raise CommandError(2, "BadValue", "roles must be an array")
        roles: list[RoleRef] = []
        for entry in raw:
            if isinstance(entry, str):
                role = (entry, db)
            elif isinstance(entry, dict) and set(entry) == {"role", "db"}:
                role = (str(entry["role"]), str(entry["db"]))
            else:
                raise CommandError(2, "BadValue", "a role must be a name or {role, db}")
            self.directory.require_role(role)
            roles.append(role)
        return roles

    def _grantable(self, roles: list[RoleRef], action: str, command: str) -> None:
        for _, role_db in roles:
            self._require(action, role_db, command)

    def _password(self, body: dict[str, Any], name: str) -> dict[str, scram.ScramCredentials]:
        if body.get("digestPassword", True) is not True:
            raise CommandError(2, "BadValue", "digestPassword: false is not supported")
        password = body.get("pwd")
        if not isinstance(password, str):
            raise CommandError(2, "BadValue", "pwd must be a string")
        return self.directory.derive(name, password)

    def cmd_createuser(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Create a user with a password and roles."""
        name = body["createUser"]
        if not isinstance(name, str) or not name:
            raise CommandError(2, "BadValue", "user name must be a non-empty string")
        user_db = self.users_db(db)
        self._require("createUser", user_db, "createUser")
        # A role named without its database belongs to the database the command was sent to,
        # on DocumentDB as on MongoDB (role_based_access_control.html, after "sample-user").
        roles = self._roles(body.get("roles", []), db)
        self._grantable(roles, "grantRole", "createUser")
        if (user_db, name) in self.directory.users:
            raise CommandError(51003, "Location51003", f'User "{name}@{user_db}" already exists')
        credentials = self._password(body, name)
        self.directory.users[(user_db, name)] = User(user_db, name, roles, credentials)
        return {}

    def cmd_updateuser(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Change a user's password and/or replace its roles."""
        target = self._target(body["updateUser"], db)
        if "pwd" in body:
            own = self._live_user() is target
            if not (
                self.directory.allowed(self._live_user(), "changePassword", target.db)
                or (own and self.directory.allowed(target, "changeOwnPassword", target.db))
            ):
                raise unauthorized("updateUser")
        if "roles" in body:
            roles = self._roles(body["roles"], db)
            self._grantable(roles + target.roles, "grantRole", "updateUser")
            self._grantable(target.roles, "revokeRole", "updateUser")
        if "pwd" in body:
            target.credentials = self._password(body, target.name)
        if "roles" in body:
            target.roles = roles
        return {}

    def cmd_grantrolestouser(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Add roles to a user."""
        target = self._target(body["grantRolesToUser"], db)
        roles = self._roles(body.get("roles"), db)
        self._grantable(roles, "grantRole", "grantRolesToUser")
        target.roles += [role for role in roles if role not in target.roles]
        return {}

    def cmd_revokerolesfromuser(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Remove roles from a user."""
        target = self._target(body["revokeRolesFromUser"], db)
        roles = self._roles(body.get("roles"), db)
        self._grantable(roles, "revokeRole", "revokeRolesFromUser")
        target.roles = [role for role in target.roles if role not in roles]
        return {}

    def cmd_dropuser(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Drop a user."""
        target = self._target(body["dropUser"], db)
        self._require("dropUser", target.db, "dropUser")
        del self.directory.users[(target.db, target.name)]
        return {}

    def cmd_usersinfo(self, body: dict[str, Any], db: str) -> dict[str, Any]:
        """Show users: one (name or {user, db}), several, or all of the database (1)."""
        raw = body["usersInfo"]
        wanted: list[tuple[str, str]] | None
        if raw == 1:
            wanted = None
        else:
            entries = raw if isinstance(raw, list) else [raw]
            wanted = []
            for entry in entries:
                if isinstance(entry, str):
                    wanted.append((self.users_db(db), entry))
                elif isinstance(entry, dict) and set(entry) == {"user", "db"}:
                    wanted.append((self.users_db(str(entry["db"])), str(entry["user"])))
                else:
                    raise CommandError(2, "BadValue", "usersInfo takes a name or {user, db}")
        me = self._live_user()
        only_self = me is not None and wanted == [(me.db, me.name)]
        if not only_self:
            for user_db in {self.users_db(db)} if wanted is None else {d for d, _ in wanted}:
                self._require("viewUser", user_db, "usersInfo")
        if wanted is None:
            found = [user for (user_db, _), user in self.directory.users.items()
                     if user_db == self.users_db(db)]  # fmt: skip
        else:
            found = [self.directory.users[key] for key in wanted if key in self.directory.users]
        return {"users": [user.document() for user in found]}


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        owner = self.server.owner
        sock: socket.socket = self.request
        # Without it, Nagle's algorithm and delayed ACKs add 40 ms to every TLS handshake.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if owner.tls_context is not None:
            try:
                sock = owner.tls_context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                owner.tls_failures += 1
                return
        connection = Connection(owner, next(owner.connection_ids))
        with owner.track(sock):
            while True:
                try:
                    header = _read_exactly(sock, HEADER.size)
                    length, request_id, _, op_code = HEADER.unpack(header)
                    payload = _read_exactly(sock, length - HEADER.size)
                except (ConnectionError, OSError, EOFError):
                    return
                if op_code == OP_QUERY:
                    message = _op_reply(_legacy_command(connection, payload),
                                        owner.next_request_id(), request_id)  # fmt: skip
                elif op_code == OP_MSG:
                    flags, body = _parse_op_msg(payload)
                    reply = connection.run(body)
                    if flags & MORE_TO_COME:
                        continue
                    message = _op_msg_reply(reply, owner.next_request_id(), request_id)
                else:
                    return  # OP_INSERT and the other legacy opcodes: drivers no longer send them
                try:
                    sock.sendall(message)
                except OSError:
                    return


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: MongoTestServer


class MongoTestServer:
    """Serve a :class:`Directory` on a loopback port until :meth:`stop`."""

    def __init__(
        self,
        directory: Directory | None = None,
        tls_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        flavor: Flavor = MONGODB_5_0,
    ) -> None:
        self.directory = directory or Directory()
        self.flavor = flavor
        self.tls_context = tls_context
        self.tls_failures = 0
        self.connection_ids = itertools.count(1)
        self._request_ids = itertools.count(1)
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._tcp = _TCPServer((host, 0), _Handler)
        self._tcp.owner = self
        self._thread = threading.Thread(target=self._tcp.serve_forever, daemon=True)
        self.host, self.port = self._tcp.server_address[:2]

    def start(self) -> MongoTestServer:
        """Start accepting connections."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and close every open connection."""
        self._tcp.shutdown()
        self._tcp.server_close()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        self._thread.join(timeout=5)

    def next_request_id(self) -> int:
        """Return a fresh request id for a reply."""
        with self._lock:
            return next(self._request_ids)

    @contextlib.contextmanager
    def track(self, sock: socket.socket) -> Any:
        """Remember an open connection so that :meth:`stop` can close it."""
        with self._lock:
            self._sockets.add(sock)
        try:
            yield
        finally:
            with self._lock:
                self._sockets.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            raise EOFError("connection closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _parse_op_msg(payload: bytes) -> tuple[int, dict[str, Any]]:
    """Return the flags and the command body (kind-1 sections folded in as arrays)."""
    (flags,) = struct.unpack_from("<I", payload)
    end = len(payload) - (4 if flags & CHECKSUM_PRESENT else 0)
    position, body, sequences = 4, None, {}
    while position < end:
        kind = payload[position]
        position += 1
        if kind == 0:
            (size,) = struct.unpack_from("<i", payload, position)
            body = bson.decode(payload[position : position + size])
            position += size
        else:
            (size,) = struct.unpack_from("<i", payload, position)
            section = payload[position + 4 : position + size]
            name, _, docs = section.partition(b"\x00")
            sequences[name.decode()] = list(bson.decode_all(docs))
            position += size
    if body is None:
        raise ValueError("OP_MSG without a body section")
    return flags, {**body, **sequences}


def _legacy_command(connection: Connection, payload: bytes) -> dict[str, Any]:
    """Run an OP_QUERY on ``<db>.$cmd`` as a command; refuse any other legacy query.

    PyMongo before 4.14 (and 3.x, which AWS's own rotation function uses) sends its first
    handshake, ``isMaster`` with ``helloOk``, as an OP_QUERY on ``admin.$cmd`` and switches to
    OP_MSG once the server's wire version allows it, so DocumentDB answers OP_QUERY commands.
    Legacy queries on collections DocumentDB refuses with code 303, "Legacy opcodes are not
    supported" (https://github.com/mongo-dart/mongo_dart/issues/142,
    https://github.com/mongodb-labs/mongo-rust-driver-prototype/issues/334).
    """
    position = 4  # flags
    end = payload.index(b"\x00", position)
    namespace = payload[position:end].decode()
    position = end + 1 + 8  # numberToSkip, numberToReturn
    (size,) = struct.unpack_from("<i", payload, position)
    query = bson.decode(payload[position : position + size])
    db, _, collection = namespace.partition(".")
    if collection != "$cmd":
        return CommandError(303, "Location303", "Legacy opcodes are not supported").reply()
    # A command for a mongos may come wrapped as {$query: command, $readPreference: ...}.
    command = query.get("$query", query)
    return connection.run({**command, "$db": db})


def _op_reply(reply: dict[str, Any], request_id: int, response_to: int) -> bytes:
    # responseFlags, cursorID, startingFrom, numberReturned, then the one document.
    body = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(reply)
    return HEADER.pack(HEADER.size + len(body), request_id, response_to, OP_REPLY) + body


def _op_msg_reply(reply: dict[str, Any], request_id: int, response_to: int) -> bytes:
    body = b"\x00\x00\x00\x00" + b"\x00" + bson.encode(reply)
    return HEADER.pack(HEADER.size + len(body), request_id, response_to, OP_MSG) + body
