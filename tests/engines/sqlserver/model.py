"""An in-memory SQL Server: logins, databases, users, roles, permissions, and a strict T-SQL reader.

It understands exactly what the engine and pymssql send and rejects anything else with an error,
so an unexpected statement fails the test that caused it. The engine's DDL batches are evaluated
for real: ``DECLARE @sql nvarchar(max) = <concatenation>; EXEC sys.sp_executesql @sql;`` with
``N'...'`` literals and ``QUOTENAME`` (NULL beyond 128 characters, as on SQL Server), then the
resulting statement is tokenised (bracketed identifiers only, ``N'...'`` literals) and applied.
Catalog queries are recognised by the engine's own query text and answered from the model.

The read-only preflight queries are answered as SQL Server does: ``HAS_PERMS_BY_NAME`` from
server permissions (``CONTROL SERVER`` implies all) and the session's database grants (db_owner
implies the database ones), ``IS_ROLEMEMBER``, and ``sys.dm_exec_connections`` (whose
``encrypt_option`` is the session's; reading it needs VIEW SERVER STATE, error 300 otherwise).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from rotation.engines.sqlserver import SQLServerHandler

ADMIN = "admin"


class TSQLError(Exception):
    """A statement the server refuses: (number, message) as SQL Server would send."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number = number


# A permission row as the engine's permissions query returns it:
# (class, permission_name, state, schema, name, column, principal type).
Row = tuple[int, str, str, str | None, str | None, str | None, str | None]


@dataclass
class User:
    login: str | None  # None for a contained user
    password: str | None
    default_schema: str | None = "dbo"
    type: str = "S"


@dataclass
class Database:
    contained: bool = False
    users: dict[str, User] = field(default_factory=dict)
    roles: dict[str, set[str]] = field(default_factory=dict)
    # (class, permission, schema, name, column) -> (state, principal type) per grantee
    permissions: dict[str, dict[tuple[Any, ...], tuple[str, str | None]]] = field(
        default_factory=dict
    )
    objects: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def rows(self, grantee: str) -> list[Row]:
        out = []
        for (klass, perm, schema, name, column), (state, ptype) in self.permissions.get(
            grantee, {}
        ).items():
            out.append((klass, perm, state, schema, name, column, ptype))
        return sorted(out, key=repr)


_STANDARD_ROLES = ("db_datareader", "db_datawriter", "db_owner", "public")


class SQLServerModel:
    """Server state, shared by every connection; all access under one lock."""

    def __init__(self, admin_password: str) -> None:
        self.lock = threading.RLock()
        self.logins: dict[str, str] = {ADMIN: admin_password}
        self.databases: dict[str, Database] = {}
        self.failed_logins = 0
        self.statements: list[str] = []  # every DDL statement applied, for assertions
        # Server-level permissions per login; CONTROL SERVER implies every permission.
        self.server_permissions: dict[str, set[str]] = {ADMIN: {"CONTROL SERVER"}}
        self.version = (
            "16.0.1000.6",
            "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64) \n"
            "\tOct  8 2022 05:58:25 \n\tCopyright (C) 2022 Microsoft Corporation\n",
        )
        for name, contained in (("master", False), ("appdb", False), ("containeddb", True)):
            db = Database(contained=contained)
            db.roles = {role: set() for role in (*_STANDARD_ROLES, "app_role")}
            db.objects = {("app", "items"): ("id", "secret")}
            db.users[ADMIN] = User(ADMIN, None)
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
                if contained is not None and contained.login is None:
                    ok = contained.password == password
                elif self.logins.get(user) == password:
                    ok = (
                        user == ADMIN
                        or database in ("", "master")
                        or any(u.login == user for u in db.users.values())
                    )
            if not ok:
                self.failed_logins += 1
            return ok

    # -- batches --------------------------------------------------------------------------

    def execute(self, session: dict[str, Any], sql: str) -> tuple[list[str], list[list[Any]]]:
        """Run one batch for a session; return (column kinds, rows)."""
        with self.lock:
            text = sql.strip()
            if text.startswith("SET ARITHABORT ON;") or text in ("SELECT 1",):
                return (["int"], [[1]]) if text == "SELECT 1" else ([], [])
            use = re.fullmatch(r"use \[((?:[^\]]|\]\])*)\]", text)
            if use:
                name = use.group(1).replace("]]", "]")
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
                    self.statements.append(statement)
                    self.apply(session, statement)
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
            found = db.contained and user is not None and user.login is None
            return ["int"], [[int(found)]]
        if purpose == "login":
            return ["int"], [[int(name in self.logins)]]
        if purpose == "user":
            user = db.users.get(name)
            if user is None and name in db.roles:
                return ["str"], [[None]]
            return ["str"], [] if user is None else [[user.default_schema]]
        if purpose == "roles":
            return ["str"], [[r] for r, members in sorted(db.roles.items()) if name in members]
        if purpose == "permissions":
            kinds = ["tinyint", "str", "str", "str", "str", "str", "str"]
            return kinds, [list(row) for row in db.rows(name)]
        raise AssertionError(purpose)

    def answer_fixed(self, session: dict[str, Any], purpose: str) -> tuple[list[str], Any]:
        """Answer a read-only query without parameters about the server or the session."""
        login = session["login"]
        granted = self.server_permissions.get(login, set())
        if purpose == "version":
            return ["str", "str"], [list(self.version)]
        if purpose == "encryption":
            if not granted & {"CONTROL SERVER", "VIEW SERVER STATE"}:
                raise TSQLError(300, "VIEW SERVER STATE permission was denied on object 'server', "
                                "database 'master'.")  # fmt: skip
            return ["str"], [["TRUE" if session.get("encrypted") else "FALSE"]]
        db = self.databases[session["database"]]
        me = next((n for n, u in db.users.items() if login in (u.login, n)), None)
        control = "CONTROL SERVER" in granted
        owner = control or (me is not None and me in db.roles["db_owner"])

        def database(permission: str) -> int:
            rows = db.permissions.get(me or "", {})
            held = rows.get((0, permission, None, None, None), ("",))[0] in ("G", "W")
            return int(owner or held)

        if purpose == "admin_permissions":
            row = [int(control or "ALTER ANY LOGIN" in granted), database("ALTER ANY USER"),
                   int(owner), database("ALTER ANY ROLE")]  # fmt: skip
            return ["int"] * 4, [row]
        raise AssertionError(purpose)

    # -- DDL ------------------------------------------------------------------------------

    def apply(self, session: dict[str, Any], statement: str) -> None:
        """Apply one assembled DDL statement."""
        tokens = tokenize(statement)
        me, db = session["login"], self.databases[session["database"]]
        admin = me == ADMIN

        def deny() -> TSQLError:
            return TSQLError(15151, "Cannot alter, because it does not exist or you do not "
                             "have permission.")  # fmt: skip

        match tokens:
            case ["ALTER", "LOGIN", ("id", name), "WITH", "PASSWORD", "=", ("lit", new), *rest]:
                old = _old_password(rest)
                if name not in self.logins or not (admin or (me == name and old is not None)):
                    raise deny()
                if not admin and self.logins[name] != old:
                    raise TSQLError(15151, "the old password is not correct")
                self.logins[name] = new
            case ["ALTER", "USER", ("id", name), "WITH", "PASSWORD", "=", ("lit", new), *rest]:
                old = _old_password(rest)
                user = db.users.get(name)
                if not db.contained or user is None or user.login is not None:
                    raise TSQLError(15151, "not a contained user with a password")
                if not admin and not (me == name and user.password == old):
                    raise deny()
                user.password = new
            case ["CREATE", "LOGIN", ("id", name), "WITH", "PASSWORD", "=", ("lit", new)]:
                self._admin(admin)
                if name in self.logins:
                    raise TSQLError(15025, "The server principal already exists.")
                self.logins[name] = new
            case ["CREATE", "USER", ("id", name), "FOR", "LOGIN", ("id", login), *rest]:
                self._admin(admin)
                if login not in self.logins or name in db.users or name in db.roles:
                    raise TSQLError(15023, "User, group, or role already exists or no login.")
                schema = _default_schema(rest, "WITH")
                db.users[name] = User(login, None, schema)
                self._grant(db, name, (0, "CONNECT", None, None, None), "G")
            case ["CREATE", "USER", ("id", name), "WITH", "PASSWORD", "=", ("lit", new), *rest]:
                self._admin(admin)
                if not db.contained or name in db.users or name in db.roles:
                    raise TSQLError(15023, "User, group, or role already exists.")
                db.users[name] = User(None, new, _default_schema(rest, ","))
                self._grant(db, name, (0, "CONNECT", None, None, None), "G")
            case ["ALTER", "ROLE", ("id", role), "ADD", "MEMBER", ("id", member)]:
                self._admin(admin)
                if role not in db.roles or member not in db.users:
                    raise TSQLError(15151, "Cannot add the principal, because it does not exist.")
                db.roles[role].add(member)
            case [("GRANT" | "DENY") as verb, *rest]:
                self._admin(admin)
                self._apply_permission(db, verb, rest)
            case _:
                raise TSQLError(102, "the test server does not understand this statement")

    def _apply_permission(self, db: Database, verb: str, tokens: list[Any]) -> None:
        words = []
        while tokens and isinstance(tokens[0], str) and tokens[0] not in ("ON", "TO"):
            words.append(tokens.pop(0))
        key: tuple[Any, ...]
        match tokens:
            case ["ON", "OBJECT", "::", ("id", schema), ".", ("id", name), *tokens]:
                column = None
                if tokens[:1] == ["("]:
                    (_, column), tokens = tokens[1], tokens[3:]
                columns = db.objects.get((schema, name))
                if columns is None or (column is not None and column not in columns):
                    raise TSQLError(15151, "Cannot find the object.")
                key, ptype = (1, " ".join(words), schema, name, column), None
            case ["ON", "SCHEMA", "::", ("id", schema), *tokens]:
                if schema not in {s for s, _ in db.objects}:
                    raise TSQLError(15151, "Cannot find the schema.")
                key, ptype = (3, " ".join(words), schema, None, None), None
            case ["ON", ("USER" | "ROLE") as kind, "::", ("id", name), *tokens]:
                if (kind == "USER") != (name in db.users) or name not in {*db.users, *db.roles}:
                    raise TSQLError(15151, "Cannot find the principal.")
                key, ptype = (4, " ".join(words), None, name, None), "S" if kind == "USER" else "R"
            case ["TO", *_]:
                key, ptype = (0, " ".join(words), None, None, None), None
            case _:
                raise TSQLError(102, "unexpected securable")
        match tokens:
            case ["TO", ("id", grantee)]:
                state = "D" if verb == "DENY" else "G"
            case ["TO", ("id", grantee), "WITH", "GRANT", "OPTION"] if verb == "GRANT":
                state = "W"
            case _:
                raise TSQLError(102, "unexpected grantee clause")
        if grantee not in db.users and grantee not in db.roles:
            raise TSQLError(15151, "Cannot find the user.")
        self._grant(db, grantee, key, state, ptype)

    @staticmethod
    def _grant(
        db: Database, grantee: str, key: tuple[Any, ...], state: str, ptype: str | None = None
    ) -> None:
        db.permissions.setdefault(grantee, {})[key] = (state, ptype)

    @staticmethod
    def _admin(admin: bool) -> None:
        if not admin:
            raise TSQLError(15247, "User does not have permission to perform this action.")

    # -- out-of-band administration for the tests ------------------------------------------

    def create_user(self, database: str, username: str, password: str) -> None:
        """Create a login (or a contained user) with a representative set of privileges."""
        with self.lock:
            db = self.databases[database]
            if db.contained:
                db.users[username] = User(None, password, "app")
            else:
                self.logins[username] = password
                db.users[username] = User(username, None, "app")
            grants: list[tuple[tuple[Any, ...], str, str | None]] = [
                ((0, "CONNECT", None, None, None), "G", None),
                ((0, "CREATE TABLE", None, None, None), "G", None),
                ((3, "SELECT", "app", None, None), "G", None),
                ((1, "INSERT", "app", "items", None), "W", None),
                ((1, "UPDATE", "app", "items", "id"), "G", None),
                ((1, "DELETE", "app", "items", None), "D", None),
                ((4, "VIEW DEFINITION", None, "app_role", None), "G", "R"),
            ]
            for key, state, ptype in grants:
                self._grant(db, username, key, state, ptype)
            db.roles["db_datareader"].add(username)
            db.roles["app_role"].add(username)

    def drop_user(self, username: str) -> None:
        """Drop a login and its users everywhere."""
        with self.lock:
            self.logins.pop(username, None)
            for db in self.databases.values():
                db.users.pop(username, None)
                db.permissions.pop(username, None)
                for members in db.roles.values():
                    members.discard(username)

    def privileges(self, database: str, username: str) -> frozenset[str]:
        """Return roles, permissions and default schema of a user, comparable across users."""
        with self.lock:
            db = self.databases[database]
            user = db.users.get(username)
            found = {f"role {role}" for role, members in db.roles.items() if username in members}
            found |= {f"permission {row!r}" for row in db.rows(username)}
            found.add(f"default schema {user.default_schema if user else None}")
            return frozenset(found)


def _query_patterns() -> list[tuple[str, re.Pattern[str]]]:
    """Recognise the engine's catalog queries by their text, with the name slot captured."""
    handler = SQLServerHandler.__new__(SQLServerHandler)
    statements = {
        "contained": handler.contained_user_statement,
        "login": handler.login_exists_statement,
        "user": handler.database_user_statement,
        "roles": handler.roles_statement,
        "permissions": handler.permissions_statement,
    }
    return [
        (purpose, re.compile(re.escape(render("%s")).replace("%s", f"({LITERAL})")))
        for purpose, render in ((p, lambda v, m=m: m(v).sql) for p, m in statements.items())
    ]


def _fixed_queries() -> dict[str, str]:
    """Recognise the engine's parameterless preflight queries by their exact text."""
    handler = SQLServerHandler.__new__(SQLServerHandler)
    return {
        handler.server_version_statement().sql: "version",
        handler.encryption_statement().sql: "encryption",
        handler.admin_permissions_statement().sql: "admin_permissions",
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
