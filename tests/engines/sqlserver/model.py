"""An in-memory SQL Server: logins, server roles and permissions, databases, users, a strict reader.

It understands exactly what the engine and pymssql send and rejects anything else with an error,
so an unexpected statement fails the test that caused it. The engine's DDL batches are evaluated
for real: ``DECLARE @sql nvarchar(max) = <concatenation>; EXEC sys.sp_executesql @sql;`` with
``N'...'`` literals and ``QUOTENAME`` (NULL beyond 128 characters, as on SQL Server), then the
resulting statement is tokenised (bracketed identifiers only, ``N'...'`` literals) and applied.
Catalog queries are recognised by the engine's own query text and answered from the model.

What it models, and the Microsoft page (learn.microsoft.com/sql/...) that says SQL Server does so:

- Logins carry a SID; a database user belongs to the login whose SID it carries, whatever its
  name (``relational-databases/system-catalog-views/sys-database-principals-transact-sql``:
  ``sid``; ``sys-server-principals-transact-sql``). Ordinary logins have no user in master and
  log in to it as guest (``t-sql/language-elements/use-transact-sql``).
- ``CREATE LOGIN`` needs ALTER ANY LOGIN and grants the new login CONNECT SQL
  (``t-sql/statements/create-login-transact-sql``; ``relational-databases/policy-based-
  management/server-public-permissions``: "CONNECT SQL permission which is automatically
  granted when new logins are created"). ALTER LOGIN of another login needs ALTER ANY LOGIN.
- Server roles (``sys.server_role_members``). ``ALTER SERVER ROLE ... ADD MEMBER``: for a fixed
  role the caller must be a member of that role or of sysadmin (CONTROL SERVER and ALTER ANY
  SERVER ROLE are not enough); for a user-defined role sysadmin, CONTROL SERVER or ALTER ANY
  SERVER ROLE (``t-sql/statements/alter-server-role-transact-sql``). sysadmin holds CONTROL
  SERVER; permissions of fixed roles do not appear in ``sys.server_permissions``.
- Server permissions (``sys.server_permissions``: class 100 server, 101 server principal, 105
  endpoint; state D, G, W). Server-scoped GRANT and DENY run only while the current database is
  master (``grant-server-permissions-transact-sql``, ``deny-server-permissions-transact-sql``).
  GRANT needs the permission WITH GRANT OPTION or CONTROL SERVER (the model does not derive
  grant rights from other implying permissions); DENY of a server permission needs CONTROL
  SERVER (``deny-server-permissions-transact-sql``); GRANT/DENY on a login needs ALTER ANY
  LOGIN (``grant-server-principal-permissions-transact-sql``), on a server role ALTER ANY SERVER
  ROLE, on an endpoint ALTER ANY ENDPOINT (``grant-endpoint-permissions-transact-sql``).
- Database securables of every class the engine replays: objects and columns, schemas, users
  and roles, assemblies, types, XML schema collections, message types, contracts, services,
  remote service bindings, routes, full-text catalogs, symmetric keys, certificates and
  asymmetric keys, with the ``ON <class>::`` forms of the GRANT pages listed in
  :mod:`rotation.engines.sqlserver.permissions` and the class numbers of
  ``sys-database-permissions-transact-sql``. CREATE USER, ALTER ROLE and database GRANT/DENY
  need db_owner (or CONTROL SERVER) here.
- The read-only preflight queries: ``HAS_PERMS_BY_NAME`` from server permissions (CONTROL
  SERVER implies all) and the session's database grants (db_owner implies the database ones),
  ``IS_ROLEMEMBER``, ``IS_SRVROLEMEMBER``, ``SUSER_SID()``, and ``sys.dm_exec_connections``
  (whose ``encrypt_option`` is the session's; reading it needs VIEW SERVER STATE, error 300).
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from rotation.engines.sqlserver import SQLServerHandler

ADMIN = "admin"

# A database permission row as the engine's query returns it: (class, class_desc,
# permission_name, state, schema, name, column, principal type).
Row = tuple[int, str, str, str, str | None, str | None, str | None, str | None]
# (class, permission, schema, name, column) -> (state, principal type), per grantee.
Key = tuple[int, str, str | None, str | None, str | None]

CLASS_DESC = {0: "DATABASE", 1: "OBJECT_OR_COLUMN", 3: "SCHEMA", 4: "DATABASE_PRINCIPAL",
              5: "ASSEMBLY", 6: "TYPE", 10: "XML_SCHEMA_COLLECTION", 15: "MESSAGE_TYPE",
              16: "SERVICE_CONTRACT", 17: "SERVICE", 18: "REMOTE_SERVICE_BINDING", 19: "ROUTE",
              23: "FULLTEXT_CATALOG", 24: "SYMMETRIC_KEY", 25: "CERTIFICATE",
              26: "ASYMMETRIC_KEY", 32: "DATABASE_SCOPED_CREDENTIAL"}  # fmt: skip
SERVER_CLASS_DESC = {100: "SERVER", 101: "SERVER_PRINCIPAL", 105: "ENDPOINT",
                     108: "AVAILABILITY_GROUP"}  # fmt: skip
# GRANT ... ON <keyword>:: -> database permission class.
_KEYWORD_CLASS = {"SCHEMA": 3, "USER": 4, "ROLE": 4, "APPLICATION ROLE": 4, "ASSEMBLY": 5,
                  "TYPE": 6, "XML SCHEMA COLLECTION": 10, "MESSAGE TYPE": 15, "CONTRACT": 16,
                  "SERVICE": 17, "REMOTE SERVICE BINDING": 18, "ROUTE": 19,
                  "FULLTEXT CATALOG": 23, "SYMMETRIC KEY": 24, "CERTIFICATE": 25,
                  "ASYMMETRIC KEY": 26}  # fmt: skip
_SCHEMA_QUALIFIED = {6, 10}
# Server permissions, from the table of grant-server-permissions-transact-sql: a GRANT ... TO
# without ON is a server permission when it names one of these, a database permission otherwise.
SERVER_PERMISSIONS = frozenset({
    "ADMINISTER BULK OPERATIONS", "ALTER ANY AVAILABILITY GROUP", "ALTER ANY CONNECTION",
    "ALTER ANY CREDENTIAL", "ALTER ANY DATABASE", "ALTER ANY ENDPOINT",
    "ALTER ANY EVENT NOTIFICATION", "ALTER ANY EVENT SESSION", "ALTER ANY LINKED SERVER",
    "ALTER ANY LOGIN", "ALTER ANY SERVER AUDIT", "ALTER ANY SERVER ROLE", "ALTER RESOURCES",
    "ALTER SERVER STATE", "ALTER SETTINGS", "ALTER TRACE", "AUTHENTICATE SERVER",
    "CONNECT ANY DATABASE", "CONNECT SQL", "CONTROL SERVER", "CREATE ANY DATABASE",
    "CREATE AVAILABILITY GROUP", "CREATE DDL EVENT NOTIFICATION", "CREATE ENDPOINT",
    "CREATE SERVER ROLE", "CREATE TRACE EVENT NOTIFICATION", "EXTERNAL ACCESS ASSEMBLY",
    "IMPERSONATE ANY LOGIN", "SELECT ALL USER SECURABLES", "SHUTDOWN", "UNSAFE ASSEMBLY",
    "VIEW ANY DATABASE", "VIEW ANY DEFINITION", "VIEW SERVER STATE",
})  # fmt: skip
FIXED_SERVER_ROLES = ("sysadmin", "securityadmin", "serveradmin", "setupadmin", "processadmin",
                      "diskadmin", "dbcreator", "bulkadmin")  # fmt: skip
ENDPOINTS = ("TSQL Default TCP",)
# One securable of each replayed class in every database: class -> {(schema, name)}.
SECURABLES: dict[int, set[tuple[str | None, str]]] = {
    5: {(None, "AppClr")}, 6: {("app", "money_t")}, 10: {("app", "OrderSchema")},
    15: {(None, "//app/Request")}, 16: {(None, "//app/Contract")}, 17: {(None, "//app/Svc")},
    18: {(None, "AppBinding")}, 19: {(None, "AppRoute")}, 23: {(None, "AppCatalog")},
    24: {(None, "AppKey")}, 25: {(None, "AppCert")}, 26: {(None, "AppAsym")},
}  # fmt: skip


class TSQLError(Exception):
    """A statement the server refuses: (number, message) as SQL Server would send."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number = number


@dataclass
class User:
    """A database user: of the login with this SID, or contained (with its own password)."""

    sid: bytes
    password: str | None = None  # contained users only
    default_schema: str | None = "dbo"

    @property
    def contained(self) -> bool:
        return self.password is not None


@dataclass
class Database:
    contained: bool = False
    users: dict[str, User] = field(default_factory=dict)
    roles: dict[str, set[str]] = field(default_factory=dict)
    permissions: dict[str, dict[Key, tuple[str, str | None]]] = field(default_factory=dict)
    objects: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    securables: dict[int, set[tuple[str | None, str]]] = field(default_factory=dict)

    def rows(self, grantee: str) -> list[Row]:
        out: list[Row] = []
        for (klass, perm, schema, name, column), (state, ptype) in self.permissions.get(
            grantee, {}
        ).items():
            out.append((klass, CLASS_DESC[klass], perm, state, schema, name, column, ptype))
        return sorted(out, key=repr)

    def user_of(self, sid: bytes | None) -> str | None:
        """Return the name of the (login-mapped) user carrying ``sid``, if any."""
        return next((n for n, u in self.users.items() if sid is not None and u.sid == sid
                     and not u.contained), None)  # fmt: skip


_STANDARD_ROLES = ("db_datareader", "db_datawriter", "db_owner", "public")


class SQLServerModel:
    """Server state, shared by every connection; all access under one lock."""

    def __init__(self, admin_password: str) -> None:
        self.lock = threading.RLock()
        self._sid_numbers = itertools.count(1)
        self.logins: dict[str, str] = {}
        self.sids: dict[str, bytes] = {}
        self.server_roles: dict[str, set[str]] = {r: set() for r in FIXED_SERVER_ROLES}
        self.server_roles["app_server_role"] = set()
        # grantee -> {(class, permission, securable name or None): state}
        self.server_permissions: dict[str, dict[tuple[int, str, str | None], str]] = {}
        self.databases: dict[str, Database] = {}
        self.failed_logins = 0
        self.statements: list[str] = []  # every DDL statement applied, for assertions
        self.version = (
            "16.0.1000.6",
            "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n"
            "\tOct  8 2022 05:58:25 \n\tCopyright (C) 2022 Microsoft Corporation\n",
        )
        # The admin is like sa: sysadmin, hence CONTROL SERVER.
        self.add_login(ADMIN, admin_password, server=("CONTROL SERVER",), roles=("sysadmin",))
        for name, contained in (("master", False), ("appdb", False), ("containeddb", True)):
            db = Database(contained=contained)
            db.roles = {role: set() for role in (*_STANDARD_ROLES, "app_role")}
            db.objects = {("app", "items"): ("id", "secret")}
            db.securables = {klass: set(names) for klass, names in SECURABLES.items()}
            db.users[ADMIN] = User(self.sids[ADMIN])
            self.databases[name] = db
        self._queries = _query_patterns()
        self._fixed = _fixed_queries()

    # -- authentication -------------------------------------------------------------------

    def authenticate(self, user: str, password: str, database: str) -> bool:
        """Tell whether a LOGIN7 for ``database`` is admitted; count refusals."""
        with self.lock:
            db = self.databases.get(database or "master")
            ok = False
            if db is not None:
                contained = db.users.get(user) if db.contained else None
                if contained is not None and contained.contained:
                    ok = contained.password == password
                elif self.logins.get(user) == password:
                    ok = (
                        user == ADMIN
                        or database in ("", "master")
                        or db.user_of(self.sids[user]) is not None
                    )
            if not ok:
                self.failed_logins += 1
            return ok

    # -- permissions as SQL Server evaluates them --------------------------------------------

    def server_granted(self, login: str) -> set[str]:
        """Return the login's effective server permissions (class 100; sysadmin: CONTROL SERVER)."""
        held = {p for (k, p, _), s in self.server_permissions.get(login, {}).items()
                if k == 100 and s in ("G", "W")}  # fmt: skip
        if login in self.server_roles["sysadmin"]:
            held.add("CONTROL SERVER")
        return held

    def _may(self, login: str, permission: str) -> bool:
        granted = self.server_granted(login)
        return "CONTROL SERVER" in granted or permission in granted

    def _db_owner(self, session: dict[str, Any]) -> bool:
        login = session["login"]
        db = self.databases[session["database"]]
        me = db.user_of(self.sids.get(login)) or (login if login in db.users else None)
        return self._may(login, "CONTROL SERVER") or (me is not None and me in db.roles["db_owner"])

    # -- batches --------------------------------------------------------------------------

    def execute(self, session: dict[str, Any], sql: str) -> tuple[list[str], list[list[Any]]]:
        """Run one batch for a session; return (column kinds, rows)."""
        with self.lock:
            text = sql.strip()
            if text.startswith("SET ARITHABORT ON;") or text in ("SELECT 1",):
                return (["int"], [[1]]) if text == "SELECT 1" else ([], [])
            use = re.fullmatch(r"use \[((?:[^\]]|\]\])*)\]|USE master", text)
            if use:
                name = use.group(1).replace("]]", "]") if use.group(1) else "master"
                if name not in self.databases:
                    raise TSQLError(911, "Database does not exist.")
                session["database"] = name
                return [], []
            dynamic = re.fullmatch(
                r"DECLARE @sql nvarchar\(max\) = (.*); EXEC sys\.sp_executesql @sql;", text, re.S
            )
            if dynamic:
                statement = evaluate_concatenation(dynamic.group(1))
                if statement is not None:  # EXEC of NULL does nothing, as on SQL Server
                    self.apply(session, statement)
                    self.statements.append(statement)
                return [], []
            if text in self._fixed:
                return self.answer_fixed(session, self._fixed[text])
            for purpose, pattern in self._queries:
                match = pattern.fullmatch(text)
                if match:
                    return self.answer(session, purpose, read_literal(match.group(1)))
            raise TSQLError(102, "the test server does not understand this batch")

    def answer(self, session: dict[str, Any], purpose: str, name: str) -> tuple[list[str], Any]:
        db = self.databases[session["database"]]
        if purpose == "contained":
            user = db.users.get(name)
            found = db.contained and user is not None and user.contained
            return ["int"], [[int(found)]]
        if purpose == "login":
            return ["int"], [[int(name in self.logins or name in self.server_roles)]]
        if purpose == "user":
            user = db.users.get(name)
            if user is None and name in db.roles:
                return ["str"], [[None]]
            return ["str"], [] if user is None else [[user.default_schema]]
        if purpose == "login_user":
            found = db.user_of(self.sids.get(name))
            rows = [] if found is None else [[found, db.users[found].default_schema]]
            return ["str", "str"], rows
        if purpose == "roles":
            return ["str"], [[r] for r, members in sorted(db.roles.items()) if name in members]
        if purpose == "permissions":
            kinds = ["tinyint", "str", "str", "str", "str", "str", "str", "str"]
            return kinds, [list(row) for row in db.rows(name)]
        if purpose == "server_roles":
            return ["str"], [[r] for r in self.roles_of(name)]
        if purpose == "server_permissions":
            return ["tinyint", "str", "str", "str", "str", "str"], self.server_rows(name)
        if purpose == "server_role_admin":
            me = session["login"]
            rows = [[r, int(r in FIXED_SERVER_ROLES), int(me in self.server_roles[r])]
                    for r in self.roles_of(name)]  # fmt: skip
            return ["str", "int", "int"], rows
        raise AssertionError(purpose)

    def roles_of(self, login: str) -> list[str]:
        """Return the server roles ``login`` is a member of."""
        return sorted(r for r, members in self.server_roles.items() if login in members)

    def server_rows(self, grantee: str) -> list[list[Any]]:
        """Return the ``sys.server_permissions`` rows of a grantee, as the engine reads them."""
        rows = []
        for (klass, perm, name), state in self.server_permissions.get(grantee, {}).items():
            ptype = None if klass != 101 else ("R" if name in self.server_roles else "S")
            rows.append([klass, SERVER_CLASS_DESC[klass], perm, state, name, ptype])
        return sorted(rows, key=repr)

    def answer_fixed(self, session: dict[str, Any], purpose: str) -> tuple[list[str], Any]:
        """Answer a read-only query without parameters about the server or the session."""
        login = session["login"]
        granted = self.server_granted(login)
        if purpose == "version":
            return ["str", "str"], [list(self.version)]
        if purpose == "encryption":
            if not granted & {"CONTROL SERVER", "VIEW SERVER STATE"}:
                raise TSQLError(300, "VIEW SERVER STATE permission was denied on object 'server', "
                                "database 'master'.")  # fmt: skip
            return ["str"], [["TRUE" if session.get("encrypted") else "FALSE"]]
        if purpose == "view_definitions":
            return ["int"], [[int(self._may(login, "VIEW ANY DEFINITION"))]]
        if purpose == "grantable":
            mine = self.server_permissions.get(login, {})
            return ["str"], [[p] for (k, p, _), s in sorted(mine.items()) if k == 100 and s == "W"]
        db = self.databases[session["database"]]
        me = db.user_of(self.sids.get(login))
        owner = self._db_owner(session)

        def database(permission: str) -> int:
            rows = db.permissions.get(me or "", {})
            held = rows.get((0, permission, None, None, None), ("",))[0] in ("G", "W")
            return int(owner or held)

        if purpose == "admin_permissions":
            row = [int(self._may(login, "ALTER ANY LOGIN")), database("ALTER ANY USER"),
                   int(owner), database("ALTER ANY ROLE"),
                   int(self._may(login, "VIEW ANY DEFINITION")),
                   int("CONTROL SERVER" in granted), int(self._may(login, "ALTER ANY SERVER ROLE")),
                   int(login in self.server_roles["sysadmin"])]  # fmt: skip
            return ["int"] * 8, [row]
        raise AssertionError(purpose)

    # -- DDL ------------------------------------------------------------------------------

    def apply(self, session: dict[str, Any], statement: str) -> None:
        """Apply one assembled DDL statement, or raise the error SQL Server would."""
        tokens = tokenize(statement)
        me, db = session["login"], self.databases[session["database"]]

        def deny() -> TSQLError:
            return TSQLError(15151, "Cannot alter, because it does not exist or you do not "
                             "have permission.")  # fmt: skip

        match tokens:
            case ["ALTER", "LOGIN", ("id", name), "WITH", "PASSWORD", "=", ("lit", new), *rest]:
                old = _old_password(rest)
                own = me == name and old is not None
                if name not in self.logins or not (own or self._may(me, "ALTER ANY LOGIN")):
                    raise deny()
                if own and self.logins[name] != old:
                    raise TSQLError(15151, "the old password is not correct")
                self.logins[name] = new
            case ["ALTER", "USER", ("id", name), "WITH", "PASSWORD", "=", ("lit", new), *rest]:
                old = _old_password(rest)
                user = db.users.get(name)
                if not db.contained or user is None or not user.contained:
                    raise TSQLError(15151, "not a contained user with a password")
                own = me == name and old is not None
                if (own and user.password != old) or not (own or self._db_owner(session)):
                    raise deny()
                user.password = new
            case ["CREATE", "LOGIN", ("id", name), "WITH", "PASSWORD", "=", ("lit", new)]:
                self._require(self._may(me, "ALTER ANY LOGIN"))
                if name in self.logins or name in self.server_roles:
                    raise TSQLError(15025, "The server principal already exists.")
                self.add_login(name, new)
            case ["CREATE", "USER", ("id", name), "FOR", "LOGIN", ("id", login), *rest]:
                self._require(self._db_owner(session))
                if login not in self.logins or name in db.users or name in db.roles:
                    raise TSQLError(15023, "User, group, or role already exists or no login.")
                if db.user_of(self.sids[login]) is not None:
                    raise TSQLError(15063, "The login already has an account under a different "
                                    "user name.")  # fmt: skip
                db.users[name] = User(self.sids[login], None, _default_schema(rest, "WITH"))
                self._grant(db, name, (0, "CONNECT", None, None, None), "G")
            case ["CREATE", "USER", ("id", name), "WITH", "PASSWORD", "=", ("lit", new), *rest]:
                self._require(self._db_owner(session))
                if not db.contained or name in db.users or name in db.roles:
                    raise TSQLError(15023, "User, group, or role already exists.")
                db.users[name] = User(self._new_sid(), new, _default_schema(rest, ","))
                self._grant(db, name, (0, "CONNECT", None, None, None), "G")
            case ["ALTER", "ROLE", ("id", role), "ADD", "MEMBER", ("id", member)]:
                self._require(self._db_owner(session))
                if role not in db.roles or member not in db.users:
                    raise TSQLError(15151, "Cannot add the principal, because it does not exist.")
                db.roles[role].add(member)
            case ["ALTER", "SERVER", "ROLE", ("id", role), "ADD", "MEMBER", ("id", member)]:
                self._add_server_role_member(me, role, member)
            case [("GRANT" | "DENY") as verb, *rest]:
                self._apply_permission(session, verb, rest)
            case _:
                raise TSQLError(102, "the test server does not understand this statement")

    def _add_server_role_member(self, me: str, role: str, member: str) -> None:
        if role in FIXED_SERVER_ROLES:
            allowed = me in self.server_roles["sysadmin"] or me in self.server_roles[role]
        else:
            allowed = self._may(me, "ALTER ANY SERVER ROLE")
        if role not in self.server_roles or not allowed:
            raise TSQLError(15151, f"Cannot alter the server role '{role}', because it does "
                            "not exist or you do not have permission.")  # fmt: skip
        if member not in self.logins:
            raise TSQLError(15151, "Cannot add the principal, because it does not exist.")
        self.server_roles[role].add(member)

    def _apply_permission(self, session: dict[str, Any], verb: str, tokens: list[Any]) -> None:
        words = []
        while tokens and isinstance(tokens[0], str) and tokens[0] not in ("ON", "TO"):
            words.append(tokens.pop(0))
        permission = " ".join(words)
        keyword: list[str] = []
        if tokens[:1] == ["ON"]:
            tokens.pop(0)
            while tokens and isinstance(tokens[0], str) and tokens[0] != "::":
                keyword.append(tokens.pop(0))
            if tokens[:1] != ["::"]:
                raise TSQLError(102, "expected ::")
            tokens.pop(0)
        match tokens:
            case ["TO", ("id", grantee)]:
                tokens, state = [], "D" if verb == "DENY" else "G"
            case [*securable, "TO", ("id", grantee), "WITH", "GRANT", "OPTION"] if verb == "GRANT":
                tokens, state = securable, "W"
            case [*securable, "TO", ("id", grantee)]:
                tokens, state = securable, "D" if verb == "DENY" else "G"
            case _:
                raise TSQLError(102, "unexpected grantee clause")
        clause = " ".join(keyword)
        if clause in ("LOGIN", "SERVER ROLE", "ENDPOINT") or (
            not keyword and permission in SERVER_PERMISSIONS
        ):
            self._grant_server(session, clause, permission, tokens, grantee, state)
        else:
            self._grant_database(session, clause, permission, tokens, grantee, state)

    def _grant_server(self, session: dict[str, Any], clause: str, permission: str,
                      target: list[Any], grantee: str, state: str) -> None:  # fmt: skip
        me = session["login"]
        if session["database"] != "master":
            raise TSQLError(4621, "Permissions at the server scope can only be granted when "
                            "the current database is master")  # fmt: skip
        name: str | None = None
        if clause:
            match target:
                case [("id", found)]:
                    name = str(found)
                case _:
                    raise TSQLError(102, "unexpected securable")
            exists = {"LOGIN": self.logins, "SERVER ROLE": self.server_roles,
                      "ENDPOINT": ENDPOINTS}[clause]  # fmt: skip
            if name not in exists:
                raise TSQLError(15151, f"Cannot find the {clause.lower()} '{name}'.")
            klass = 105 if clause == "ENDPOINT" else 101
            needed = {"LOGIN": "ALTER ANY LOGIN", "SERVER ROLE": "ALTER ANY SERVER ROLE",
                      "ENDPOINT": "ALTER ANY ENDPOINT"}[clause]  # fmt: skip
            allowed = self._may(me, needed)
        else:
            klass = 100
            held = self.server_permissions.get(me, {}).get((100, permission, None))
            control = "CONTROL SERVER" in self.server_granted(me)
            allowed = control if state == "D" else control or held == "W"
        if not allowed:
            raise TSQLError(4613, "Grantor does not have GRANT permission.")
        if grantee not in self.logins and grantee not in self.server_roles:
            raise TSQLError(15151, "Cannot find the login.")
        self.server_permissions.setdefault(grantee, {})[(klass, permission, name)] = state

    def _grant_database(self, session: dict[str, Any], clause: str, permission: str,
                        target: list[Any], grantee: str, state: str) -> None:  # fmt: skip
        self._require(self._db_owner(session))
        db = self.databases[session["database"]]
        ptype: str | None = None
        match clause, target:
            case "OBJECT", [("id", schema), ".", ("id", name), *column_part]:
                column = None
                if column_part:
                    match column_part:
                        case ["(", ("id", found), ")"]:
                            column = str(found)
                        case _:
                            raise TSQLError(102, "unexpected column list")
                columns = db.objects.get((schema, name))
                if columns is None or (column is not None and column not in columns):
                    raise TSQLError(15151, "Cannot find the object.")
                key: Key = (1, permission, schema, name, column)
            case "SCHEMA", [("id", schema)]:
                if schema not in {s for s, _ in db.objects}:
                    raise TSQLError(15151, "Cannot find the schema.")
                key = (3, permission, schema, None, None)
            case ("USER" | "ROLE") as kind, [("id", name)]:
                if (kind == "USER") != (name in db.users) or name not in {*db.users, *db.roles}:
                    raise TSQLError(15151, "Cannot find the principal.")
                key, ptype = (4, permission, None, name, None), "S" if kind == "USER" else "R"
            case kind, [("id", schema), ".", ("id", name)] if (
                _KEYWORD_CLASS.get(kind) in _SCHEMA_QUALIFIED
            ):
                klass = _KEYWORD_CLASS[kind]
                if (schema, name) not in db.securables[klass]:
                    raise TSQLError(15151, f"Cannot find the {kind.lower()}.")
                key = (klass, permission, schema, name, None)
            case kind, [("id", name)] if kind in _KEYWORD_CLASS:
                klass = _KEYWORD_CLASS[kind]
                if klass in _SCHEMA_QUALIFIED or (None, name) not in db.securables.get(klass, ()):
                    raise TSQLError(15151, f"Cannot find the {kind.lower()}.")
                key = (klass, permission, None, name, None)
            case "", []:
                key = (0, permission, None, None, None)
            case _:
                raise TSQLError(102, "unexpected securable")
        if grantee not in db.users and grantee not in db.roles:
            raise TSQLError(15151, "Cannot find the user.")
        self._grant(db, grantee, key, state, ptype)

    @staticmethod
    def _grant(db: Database, grantee: str, key: Key, state: str, ptype: str | None = None) -> None:
        db.permissions.setdefault(grantee, {})[key] = (state, ptype)

    @staticmethod
    def _require(allowed: bool) -> None:
        if not allowed:
            raise TSQLError(15247, "User does not have permission to perform this action.")

    def _new_sid(self) -> bytes:
        return b"\x01\x05" + next(self._sid_numbers).to_bytes(8, "big")

    # -- out-of-band administration for the tests ------------------------------------------

    def add_login(
        self,
        name: str,
        password: str,
        *,
        server: tuple[str, ...] = (),
        roles: tuple[str, ...] = (),
    ) -> bytes:
        """Create a login (CONNECT SQL granted, as CREATE LOGIN does), with extra grants."""
        with self.lock:
            self.logins[name] = password
            self.sids[name] = self._new_sid()
            grants = self.server_permissions.setdefault(name, {})
            for permission in ("CONNECT SQL", *server):
                grants[(100, permission, None)] = "G"
            for role in roles:
                self.server_roles[role].add(name)
            return self.sids[name]

    def map_user(self, database: str, user: str, login: str, schema: str | None = "app") -> None:
        """Create the database user ``user`` for ``login`` (any name), with CONNECT."""
        with self.lock:
            db = self.databases[database]
            db.users[user] = User(self.sids[login], None, schema)
            self._grant(db, user, (0, "CONNECT", None, None, None), "G")

    def create_user(self, database: str, username: str, password: str) -> None:
        """Create a login (or a contained user) with a representative set of privileges.

        A login also gets server permissions (GRANT, GRANT WITH GRANT OPTION, DENY) and
        memberships of a fixed and a user-defined server role. Its database user, if the
        database is not master, has the login's name.
        """
        with self.lock:
            db = self.databases[database]
            if db.contained:
                db.users[username] = User(self._new_sid(), password, "app")
                self._grant(db, username, (0, "CONNECT", None, None, None), "G")
            else:
                self.add_login(username, password, roles=("processadmin", "app_server_role"))
                grants = self.server_permissions[username]
                grants[(100, "VIEW SERVER STATE", None)] = "G"
                grants[(100, "CREATE ANY DATABASE", None)] = "W"
                grants[(100, "VIEW ANY DATABASE", None)] = "D"
                grants[(101, "VIEW DEFINITION", "app_server_role")] = "G"
                if database == "master":
                    return
                self.map_user(database, username, username)
            grants_db: list[tuple[Key, str, str | None]] = [
                ((0, "CREATE TABLE", None, None, None), "G", None),
                ((3, "SELECT", "app", None, None), "G", None),
                ((1, "INSERT", "app", "items", None), "W", None),
                ((1, "UPDATE", "app", "items", "id"), "G", None),
                ((1, "DELETE", "app", "items", None), "D", None),
                ((4, "VIEW DEFINITION", None, "app_role", None), "G", "R"),
            ]
            for key, state, ptype in grants_db:
                self._grant(db, username, key, state, ptype)
            db.roles["db_datareader"].add(username)
            db.roles["app_role"].add(username)

    def drop_user(self, username: str) -> None:
        """Drop a login (its users everywhere) or a contained user of that name."""
        with self.lock:
            sid = self.sids.pop(username, None)
            self.logins.pop(username, None)
            self.server_permissions.pop(username, None)
            for members in self.server_roles.values():
                members.discard(username)
            for db in self.databases.values():
                for name in {db.user_of(sid), username if username in db.users else None}:
                    if name is None or name == ADMIN:
                        continue
                    db.users.pop(name, None)
                    db.permissions.pop(name, None)
                    for members in db.roles.values():
                        members.discard(name)

    def privileges(self, database: str, username: str) -> frozenset[str]:
        """Return what a login or contained user holds, comparable between original and clone.

        Server roles and server permissions of the login; in ``database``, whether it has a
        user there (found by SID, so names do not matter), and that user's roles, permissions
        and default schema.
        """
        with self.lock:
            db = self.databases[database]
            found: set[str] = set()
            if username in self.logins:
                found |= {f"server role {role}" for role in self.roles_of(username)}
                found |= {f"server permission {row!r}" for row in self.server_rows(username)}
                name = db.user_of(self.sids[username])
            else:
                name = username if username in db.users else None
            if name is None:
                return frozenset({*found, "no database user"})
            user = db.users[name]
            found |= {f"role {role}" for role, members in db.roles.items() if name in members}
            found |= {f"permission {row!r}" for row in db.rows(name)}
            found.add(f"default schema {user.default_schema}")
            return frozenset(found)


def _query_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Recognise the engine's catalog queries by their text, with the name slot captured."""
    handler = SQLServerHandler.__new__(SQLServerHandler)
    statements = {
        "contained": handler.contained_user_statement,
        "login": handler.login_exists_statement,
        "user": handler.database_user_statement,
        "login_user": handler.login_user_statement,
        "roles": handler.roles_statement,
        "permissions": handler.permissions_statement,
        "server_roles": handler.server_roles_statement,
        "server_permissions": handler.server_permissions_statement,
        "server_role_admin": handler.server_role_admin_statement,
    }
    return [
        (purpose, re.compile(re.escape(render("%s")).replace("%s", f"({LITERAL})")))
        for purpose, render in ((p, lambda v, m=m: m(v).sql) for p, m in statements.items())
    ]


def _fixed_queries() -> dict[str, str]:
    """Recognise the engine's parameterless queries by their exact text."""
    handler = SQLServerHandler.__new__(SQLServerHandler)
    return {
        handler.server_version_statement().sql: "version",
        handler.encryption_statement().sql: "encryption",
        handler.admin_permissions_statement().sql: "admin_permissions",
        handler.view_definitions_statement().sql: "view_definitions",
        handler.grantable_server_permissions_statement().sql: "grantable",
    }


LITERAL = r"N'(?:[^']|'')*'"


def read_literal(text: str) -> str:
    """Decode one N'...' literal."""
    assert text.startswith("N'"), text
    assert text.endswith("'"), text
    return text[2:-1].replace("''", "'")


def quotename(value: str | None, quote: str = "[") -> str | None:
    """Return QUOTENAME(value, quote) as SQL Server computes it (NULL beyond 128 characters)."""
    if value is None or len(value) > 128:
        return None
    if quote == "[":
        return "[" + value.replace("]", "]]") + "]"
    return "'" + value.replace("'", "''") + "'"


def evaluate_concatenation(expression: str) -> str | None:
    """Evaluate ``term + term + ...`` where a term is N'..' or QUOTENAME(N'..'[, '''']).

    Returns None when any term is NULL, as string concatenation does in T-SQL.
    """
    term = re.compile(
        rf"\s*(?:(?P<lit>{LITERAL})|QUOTENAME\((?P<arg>{LITERAL})(?P<q>, '''')?\))\s*(?:\+|$)"
    )
    position, parts = 0, []
    while position < len(expression):
        match = term.match(expression, position)
        if match is None:
            raise TSQLError(102, "Incorrect syntax in the concatenation.")
        if match.group("lit"):
            parts.append(read_literal(match.group("lit")))
        else:
            parts.append(
                quotename(read_literal(match.group("arg")), "'" if match.group("q") else "[")
            )
        position = match.end()
    return None if any(part is None for part in parts) else "".join(parts)  # type: ignore[arg-type]


_TOKEN = re.compile(
    r"\s*(?:(?P<id>\[(?:[^\]]|\]\])*\])|(?P<lit>N'(?:[^']|'')*')|(?P<word>[A-Z_]+)"
    r"|(?P<punct>::|[.,()=]))"
)


def tokenize(statement: str) -> list[Any]:
    """Split a DDL statement: bracketed identifiers, N'' literals, keywords, punctuation.

    Unquoted identifiers are not accepted: every name the engine sends must be quoted.
    """
    tokens: list[Any] = []
    position = 0
    while position < len(statement.rstrip()):
        match = _TOKEN.match(statement, position)
        if match is None:
            raise TSQLError(102, "Incorrect syntax near a token.")
        if match.group("id"):
            tokens.append(("id", match.group("id")[1:-1].replace("]]", "]")))
        elif match.group("lit"):
            tokens.append(("lit", read_literal(match.group("lit"))))
        else:
            tokens.append(match.group("word") or match.group("punct"))
        position = match.end()
    return tokens


def _old_password(rest: list[Any]) -> str | None:
    match rest:
        case []:
            return None
        case ["OLD_PASSWORD", "=", ("lit", old)]:
            return str(old)
    raise TSQLError(102, "unexpected password clause")


def _default_schema(rest: list[Any], lead: str) -> str | None:
    match rest:
        case []:
            return None
        case [str() as word, "DEFAULT_SCHEMA", "=", ("id", schema)] if word == lead:
            return str(schema)
    raise TSQLError(102, "unexpected user clause")
