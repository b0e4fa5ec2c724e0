"""A DB-API level stand-in for an Oracle server, reached through a patched ``oracledb.connect``.

No Oracle server can run on our machines, so :class:`FakeOracle` models one in memory: users
with passwords, profiles and grants (roles, system and object privileges), logins counted, and
exactly the statements the engine issues, parsed strictly. Any other statement raises
:class:`UnexpectedStatementError` (not a driver error, so it is never wrapped or swallowed).
Errors the server would return are ``oracledb`` exceptions built the way the thin driver builds
them (``ORA-01017`` on a wrong password, ``DPY-6005`` when nothing listens).

Modelled server behaviour, from Oracle's documentation:

* login names follow Oracle's rule: unquoted names are upper-cased, ``"quoted"`` ones are exact;
* ``DBMS_ASSERT.ENQUOTE_NAME(str)`` (capitalize defaulted to TRUE) upper-cases an unquoted name
  and encloses it in double quotes, returns an already quoted name unchanged, and raises
  ORA-44003 when the result is not a valid quoted identifier (an embedded ``"`` or NUL);
* ``ALTER USER`` on oneself without the ALTER USER privilege needs ``REPLACE <old>`` when the
  profile has a password verify function (ORA-28221) and checks it (ORA-28008); on another user
  it needs ALTER USER (ORA-01031); a profile may forbid password reuse (ORA-28007);
* ``GET_GRANTED_DDL`` returns a CLOB of ``GRANT`` lines with every name quoted, raises ORA-31608
  when the grantee has no grant of that kind, and shows only the session's own grants to a
  session without SELECT_CATALOG_ROLE (modelled as ORA-31608, which is why the engine refuses
  to create a clone when it finds no grants at all);
* names are limited to ``name_limit`` bytes (ORA-00972);
* ``SESSION_PRIVS`` lists the system privileges the session holds directly or through its roles,
  ``SESSION_ROLES`` the roles enabled in it, nested roles included; ``Connection.version`` and
  (thin mode) ``Connection.protocol`` (``tcp`` or ``tcps``) describe the session.

Who may grant what (SQL Language Reference, GRANT, "Prerequisites",
https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/GRANT.html):

* a role: held WITH ADMIN OPTION (directly or through an enabled role), or GRANT ANY ROLE;
  otherwise ORA-01932 "ADMIN option not granted for role";
* a system privilege: held WITH ADMIN OPTION (likewise), or GRANT ANY PRIVILEGE; else ORA-01031;
* an object privilege: the owner, a holder WITH GRANT OPTION, or GRANT ANY OBJECT PRIVILEGE --
  which does not reach SYS objects ("ANY system privileges ... will not work on SYS objects");
  else ORA-01031. Roles cannot hold object privileges WITH GRANT OPTION.

Amazon RDS, when ``rdsadmin`` is set: the catalog shows the package ``RDSADMIN.RDSADMIN_UTIL``,
and ``rdsadmin.rdsadmin_util.grant_sys_object(p_obj_name, p_grantee, p_privilege,
p_grant_option)`` grants a privilege on a SYS object that the caller holds directly WITH GRANT
OPTION or through a role granted to it directly WITH ADMIN OPTION
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.Oracle.CommonDBATasks.TransferPrivileges.html).
AWS does not document the error for anything else; the fake raises ORA-01031 (privilege), ORA-00942
(no such SYS object) and, without ``rdsadmin``, the PL/SQL error of an undeclared package.
The dictionary views the engine reads (USER_ROLE_PRIVS, ROLE_ROLE_PRIVS, USER_SYS_PRIVS,
ROLE_SYS_PRIVS, USER_TAB_PRIVS, ROLE_TAB_PRIVS, ALL_OBJECTS) answer from the same model; the
ROLE_* views show the roles the user has access to (Database Reference, e.g. ROLE_SYS_PRIVS).
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass, field
from typing import Any

import oracledb

QUOTED = r'"([^"\x00]+)"'
PASSWORD = r'"([^"\x00]*)"'
_STATEMENTS: list[tuple[str, re.Pattern[str]]] = [
    ("dual", re.compile(r"SELECT 1 FROM DUAL")),
    ("enquote", re.compile(r"SELECT SYS\.DBMS_ASSERT\.ENQUOTE_NAME\(:name\) FROM DUAL")),
    ("user_exists", re.compile(r"SELECT 1 FROM SYS\.ALL_USERS WHERE USERNAME = :name")),
    (
        "name_limit",
        re.compile(
            r"SELECT DATA_LENGTH FROM SYS\.ALL_TAB_COLUMNS WHERE OWNER = 'SYS' "
            r"AND TABLE_NAME = 'ALL_USERS' AND COLUMN_NAME = 'USERNAME'"
        ),
    ),
    (
        "granted_ddl",
        re.compile(r"SELECT SYS\.DBMS_METADATA\.GET_GRANTED_DDL\(:kind, :grantee\) FROM DUAL"),
    ),
    ("create_user", re.compile(rf"CREATE USER {QUOTED} IDENTIFIED BY {PASSWORD}", re.S)),
    (
        "alter_user",
        re.compile(rf"ALTER USER {QUOTED} IDENTIFIED BY {PASSWORD}(?: REPLACE {PASSWORD})?", re.S),
    ),
    (
        "grant_object",
        re.compile(
            rf"GRANT ([A-Z]+(?: [A-Z]+)*) ON {QUOTED}\.{QUOTED} TO {QUOTED}"
            r"( WITH GRANT OPTION)?",
            re.S,
        ),
    ),
    ("grant_role", re.compile(rf"GRANT {QUOTED} TO {QUOTED}( WITH ADMIN OPTION)?", re.S)),
    ("grant_system", re.compile(rf"GRANT ([A-Z]+(?: [A-Z]+)*) TO {QUOTED}( WITH ADMIN OPTION)?")),
    (
        "session_privs",
        re.compile(
            r"SELECT PRIVILEGE FROM SESSION_PRIVS WHERE PRIVILEGE IN "
            r"\(('[A-Z ]+'(?:, '[A-Z ]+')*)\)"
        ),
    ),
    ("session_roles", re.compile(r"SELECT ROLE FROM SESSION_ROLES WHERE ROLE = '([A-Z_]+)'")),
    ("session_user", re.compile(r"SELECT USER FROM DUAL")),
    (
        "admin_roles",
        re.compile(
            r"SELECT GRANTED_ROLE FROM USER_ROLE_PRIVS WHERE ADMIN_OPTION = 'YES' "
            r"UNION SELECT GRANTED_ROLE FROM ROLE_ROLE_PRIVS WHERE ADMIN_OPTION = 'YES' "
            r"AND ROLE IN \(SELECT ROLE FROM SESSION_ROLES\)"
        ),
    ),
    (
        "admin_privileges",
        re.compile(
            r"SELECT PRIVILEGE FROM USER_SYS_PRIVS WHERE ADMIN_OPTION = 'YES' "
            r"UNION SELECT PRIVILEGE FROM ROLE_SYS_PRIVS WHERE ADMIN_OPTION = 'YES' "
            r"AND ROLE IN \(SELECT ROLE FROM SESSION_ROLES\)"
        ),
    ),
    (
        "grantable_objects",
        re.compile(
            r"SELECT PRIVILEGE, OWNER, TABLE_NAME FROM USER_TAB_PRIVS "
            r"WHERE GRANTEE = USER AND GRANTABLE = 'YES'"
        ),
    ),
    (
        "sys_via_admin_roles",
        re.compile(
            r"SELECT PRIVILEGE, TABLE_NAME FROM ROLE_TAB_PRIVS WHERE OWNER = 'SYS' "
            r"AND COLUMN_NAME IS NULL AND ROLE IN "
            r"\(SELECT GRANTED_ROLE FROM USER_ROLE_PRIVS WHERE ADMIN_OPTION = 'YES'\)"
        ),
    ),
    (
        "rdsadmin",
        re.compile(
            r"SELECT 1 FROM ALL_OBJECTS WHERE OWNER = 'RDSADMIN' "
            r"AND OBJECT_NAME = 'RDSADMIN_UTIL' AND OBJECT_TYPE = 'PACKAGE'"
        ),
    ),
    (
        "grant_sys_object",
        re.compile(
            r"BEGIN rdsadmin\.rdsadmin_util\.grant_sys_object\(p_obj_name => :obj_name, "
            r"p_grantee => :grantee, p_privilege => :privilege(, p_grant_option => TRUE)?\); END;"
        ),
    ),
]
#: Statements that only read; anything else changes the server.
READ_ONLY = frozenset({"dual", "enquote", "user_exists", "name_limit", "granted_ddl",
                       "session_privs", "session_roles", "session_user", "admin_roles",
                       "admin_privileges", "grantable_objects", "sys_via_admin_roles",
                       "rdsadmin"})  # fmt: skip
BINDS = {"dual": 0, "enquote": 1, "user_exists": 1, "name_limit": 0, "granted_ddl": 2,
         "grant_sys_object": 3}  # fmt: skip
SYSTEM_PRIVILEGES = frozenset(
    {"CREATE SESSION", "CREATE TABLE", "CREATE VIEW", "UNLIMITED TABLESPACE", "CREATE USER",
     "ALTER USER", "ALTER SYSTEM", "GRANT ANY ROLE", "GRANT ANY PRIVILEGE",
     "GRANT ANY OBJECT PRIVILEGE"}
)  # fmt: skip
CONNECT_ARGUMENTS = frozenset(
    {"user", "password", "host", "port", "service_name", "protocol", "tcp_connect_timeout",
     "retry_count", "ssl_server_dn_match", "ssl_context"}
)  # fmt: skip
OBJECT_PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "EXECUTE", "READ"})


class UnexpectedStatementError(AssertionError):
    """The engine sent something the fake does not know: the test must fail."""


def ora_error(code: int, text: str) -> oracledb.Error:
    """Return the exception the thin driver raises for a server error ``ORA-<code>``."""
    error = oracledb._Error(f"ORA-{code:05d}: {text}", code=code)
    exc: oracledb.Error = error.exc_type(error)
    return exc


def cannot_connect(reason: str) -> oracledb.Error:
    """Return the thin driver's DPY-6005 (nothing reachable, TLS failed, ...)."""
    error = oracledb._Error(f"DPY-6005: cannot connect to database (CONNECTION_ID=fake).\n{reason}")
    exc: oracledb.Error = error.exc_type(error)
    return exc


def login_name(name: str) -> str:
    """Return the dictionary name a login or ENQUOTE_NAME gives: exact if quoted, else upper."""
    if len(name) > 2 and name[0] == name[-1] == '"':
        return name[1:-1]
    return name.upper()


@dataclass
class OracleRole:
    """A role: the system privileges, roles and object privileges granted to it.

    Roles hold object privileges without GRANT OPTION (Oracle refuses WITH GRANT OPTION to a role).
    """

    system: dict[str, bool] = field(default_factory=dict)  # privilege -> WITH ADMIN OPTION
    roles: dict[str, bool] = field(default_factory=dict)  # role -> WITH ADMIN OPTION
    objects: set[tuple[str, str, str]] = field(default_factory=set)  # (privilege, owner, name)


@dataclass
class OracleUser:
    """A user: password (with history), profile flags and grants."""

    password: str
    verify_function: bool = False  # profile PASSWORD_VERIFY_FUNCTION set
    reuse_forbidden: bool = False  # profile PASSWORD_REUSE_MAX/TIME set
    locked: bool = False
    history: list[str] = field(default_factory=list)
    roles: dict[str, bool] = field(default_factory=dict)  # role -> WITH ADMIN OPTION
    system: dict[str, bool] = field(default_factory=dict)  # privilege -> WITH ADMIN OPTION
    objects: dict[tuple[str, str, str], bool] = field(default_factory=dict)  # -> GRANT OPTION


class FakeLob:
    """A CLOB as the thin driver returns it (``read()`` gives the text)."""

    def __init__(self, text: str) -> None:
        self._text = text

    def read(self) -> str:
        """Return the whole value."""
        return self._text


@dataclass
class FakeOracle:
    """The server: listeners, a service, users, roles, objects and counters."""

    ca_der: bytes
    host: str = "oracle.fake.example"
    port: int = 1521
    tcps_port: int = 2484
    service_name: str = "ORCLPDB1"
    name_limit: int = 128
    version: str = "19.0.0.0.0"
    users: dict[str, OracleUser] = field(default_factory=dict)
    roles: dict[str, OracleRole] = field(
        default_factory=lambda: {
            "CONNECT": OracleRole(system={"CREATE SESSION": False}),
            "SELECT_CATALOG_ROLE": OracleRole(objects={("SELECT", "SYS", "V_$SESSION")}),
            "APP_READER": OracleRole(),
            "APP WRITER; X": OracleRole(),
        }
    )
    objects: set[tuple[str, str]] = field(
        default_factory=lambda: {
            ("APP", "ITEMS"),
            ("APP", "odd name; \n x"),
            ("SYS", "V_$SESSION"),
            ("SYS", "DBMS_LOCK"),
        }
    )
    rdsadmin: bool = False  # Amazon RDS: rdsadmin.rdsadmin_util is installed
    successful_logins: int = 0
    failed_logins: int = 0
    executed: list[tuple[str, str]] = field(default_factory=list)  # (session user, statement)
    changes: list[str] = field(default_factory=list)  # kinds of statements that write
    connects: list[dict[str, Any]] = field(default_factory=list)

    # -- logins -------------------------------------------------------------------------------

    def connect(self, **options: Any) -> FakeConnection:
        """Stand in for ``oracledb.connect`` with keyword arguments."""
        unknown = set(options) - CONNECT_ARGUMENTS
        if unknown:
            raise TypeError(f"unexpected connect arguments: {sorted(unknown)}")
        self.connects.append(options)
        timeout = options.get("tcp_connect_timeout")
        if not isinstance(timeout, float) or not 0 < timeout <= 900:
            raise UnexpectedStatementError("connect without a bounded tcp_connect_timeout")
        if options.get("host") != self.host:
            raise cannot_connect("[Errno -2] Name or service not known")
        self._check_transport(options)
        if options.get("service_name") != self.service_name:
            raise ora_error(12514, "Cannot connect to database. Service is not registered.")
        user = self.login(options["user"], options["password"])
        return FakeConnection(self, user, str(options.get("protocol", "tcp")))

    def _check_transport(self, options: dict[str, Any]) -> None:
        protocol, port = options.get("protocol", "tcp"), options.get("port")
        if protocol == "tcp" and port == self.port:
            return
        if protocol != "tcps" or port != self.tcps_port:
            raise cannot_connect("[Errno 111] Connection refused (no such listener)")
        context = options.get("ssl_context")
        trusted = (
            isinstance(context, ssl.SSLContext)
            and context.verify_mode == ssl.CERT_REQUIRED
            and self.ca_der in context.get_ca_certs(binary_form=True)
        )
        if not trusted or options.get("ssl_server_dn_match") is not True:
            raise cannot_connect("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    def login(self, user: str, password: str) -> str:
        """Authenticate like the server; return the session user's dictionary name."""
        name = login_name(user)
        account = self.users.get(name)
        if account is None or account.password != password:
            self.failed_logins += 1
            raise ora_error(1017, "invalid credential or not authorized; logon denied")
        if account.locked:
            raise ora_error(28000, "The account is locked.")
        if not self.has_system(name, "CREATE SESSION"):
            raise ora_error(1045, f"Login denied. User {name} does not have CREATE SESSION")
        self.successful_logins += 1
        return name

    def can_login(self, user: str, password: str) -> bool:
        """Tell whether a login succeeds (counting a failure as the server would)."""
        try:
            self.login(user, password)
        except oracledb.DatabaseError as exc:
            if exc.args[0].code == 1017:
                return False
            raise
        return True

    # -- privileges ---------------------------------------------------------------------------

    def enabled_roles(self, name: str) -> set[str]:
        """Return the roles enabled in a user's session: its roles and the roles they hold."""
        found: set[str] = set()
        pending = list(self.users[name].roles)
        while pending:
            role = pending.pop()
            if role not in found and role in self.roles:
                found.add(role)
                pending += list(self.roles[role].roles)
        return found

    def has_system(self, name: str, privilege: str, *, admin: bool = False) -> bool:
        """Tell whether a user holds a system privilege directly or through a role.

        With ``admin``, only grants WITH ADMIN OPTION count.
        """
        holders = [self.users[name].system] + [
            self.roles[role].system for role in self.enabled_roles(name)
        ]
        return any(privilege in held and (held[privilege] or not admin) for held in holders)

    def has_role_admin(self, name: str, role: str) -> bool:
        """Tell whether a user holds a role WITH ADMIN OPTION, directly or through a role."""
        holders = [self.users[name].roles] + [
            self.roles[other].roles for other in self.enabled_roles(name)
        ]
        return any(held.get(role) for held in holders)

    def sys_object_admin(self, name: str, privilege: str, table: str) -> bool:
        """Tell whether grant_sys_object lets a user pass on a privilege on a SYS object."""
        user = self.users[name]
        if user.objects.get((privilege, "SYS", table)):
            return True
        return any(
            (privilege, "SYS", table) in self.roles[role].objects
            for role, admin in user.roles.items()
            if admin and role in self.roles
        )

    def privileges(self, name: str) -> frozenset[str]:
        """Return a user's grants as comparable strings."""
        user = self.users[name]
        return frozenset(
            [f"role {role} admin={admin}" for role, admin in user.roles.items()]
            + [f"system {priv} admin={admin}" for priv, admin in user.system.items()]
            + [f"object {p} {o}.{t} grant={g}" for (p, o, t), g in user.objects.items()]
        )

    # -- statements ---------------------------------------------------------------------------

    def run(self, session: str, sql: str, params: Any) -> list[tuple[Any, ...]] | None:
        """Execute one statement for a session; return rows, or None for DDL."""
        if not isinstance(sql, str):
            raise UnexpectedStatementError(f"statement is not text: {type(sql).__name__}")
        found = [(kind, m) for kind, pattern in _STATEMENTS if (m := pattern.fullmatch(sql))]
        if not found:
            raise UnexpectedStatementError(f"the fake Oracle does not know: {sql!r}")
        kind, match = found[0]
        binds = tuple(params or ())
        if len(binds) != BINDS.get(kind, 0) or not all(isinstance(b, str) for b in binds):
            raise UnexpectedStatementError(f"wrong bind variables for {kind}: {len(binds)}")
        self.executed.append((session, sql))
        if kind not in READ_ONLY:
            self.changes.append(kind)
        handler = getattr(self, f"_{kind}")
        result: list[tuple[Any, ...]] | None = handler(session, *match.groups(), *binds)
        return result

    def _dual(self, session: str) -> list[tuple[Any, ...]]:
        return [(1,)]

    def _session_privs(self, session: str, wanted: str) -> list[tuple[Any, ...]]:
        names = [name.strip("'") for name in wanted.split(", ")]
        return [(name,) for name in names if self.has_system(session, name)]

    def _session_roles(self, session: str, role: str) -> list[tuple[Any, ...]]:
        return [(role,)] if role in self.enabled_roles(session) else []

    def _session_user(self, session: str) -> list[tuple[Any, ...]]:
        return [(session,)]

    def _admin_roles(self, session: str) -> list[tuple[Any, ...]]:
        holders = [self.users[session].roles] + [
            self.roles[role].roles for role in self.enabled_roles(session)
        ]
        return [(role,) for role in sorted({r for held in holders for r, a in held.items() if a})]

    def _admin_privileges(self, session: str) -> list[tuple[Any, ...]]:
        holders = [self.users[session].system] + [
            self.roles[role].system for role in self.enabled_roles(session)
        ]
        return [(p,) for p in sorted({p for held in holders for p, a in held.items() if a})]

    def _grantable_objects(self, session: str) -> list[tuple[Any, ...]]:
        return sorted(key for key, grantable in self.users[session].objects.items() if grantable)

    def _sys_via_admin_roles(self, session: str) -> list[tuple[Any, ...]]:
        admin_roles = [r for r, a in self.users[session].roles.items() if a and r in self.roles]
        return sorted(
            {(p, t) for r in admin_roles for p, o, t in self.roles[r].objects if o == "SYS"}
        )

    def _rdsadmin(self, session: str) -> list[tuple[Any, ...]]:
        return [(1,)] if self.rdsadmin else []

    def _grant_sys_object(
        self, session: str, option: str | None, table: str, grantee: str, privilege: str
    ) -> None:
        if not self.rdsadmin:
            raise ora_error(6550, "PLS-00201: identifier 'RDSADMIN.RDSADMIN_UTIL' must be declared")
        if ("SYS", table) not in self.objects:
            raise ora_error(942, "table or view does not exist")
        if not self.sys_object_admin(session, privilege, table):
            raise ora_error(1031, "insufficient privileges")
        user = self._grantee(grantee)
        key = (privilege, "SYS", table)
        user.objects[key] = user.objects.get(key, False) or option is not None

    def _enquote(self, session: str, name: str) -> list[tuple[Any, ...]]:
        if name.startswith('"'):
            inner = name[1:-1] if len(name) >= 2 and name.endswith('"') else '"'
        else:
            inner = name.upper()
        if not inner or '"' in inner or "\x00" in inner:
            raise ora_error(44003, "invalid SQL name")
        return [('"' + inner + '"',)]

    def _user_exists(self, session: str, name: str) -> list[tuple[Any, ...]]:
        return [(1,)] if name in self.users else []

    def _name_limit(self, session: str) -> list[tuple[Any, ...]]:
        return [(self.name_limit,)]

    def _granted_ddl(self, session: str, kind: str, grantee: str) -> list[tuple[Any, ...]]:
        if kind not in ("ROLE_GRANT", "SYSTEM_GRANT", "OBJECT_GRANT"):
            raise ora_error(31600, f"invalid input value {kind} for parameter OBJECT_TYPE")
        user = self.users.get(grantee)
        visible = grantee == session or "SELECT_CATALOG_ROLE" in self.enabled_roles(session)
        if kind == "ROLE_GRANT" and user is not None:
            lines = [f'GRANT "{r}" TO "{grantee}"' + (" WITH ADMIN OPTION" if a else "")
                     for r, a in sorted(user.roles.items())]  # fmt: skip
        elif kind == "SYSTEM_GRANT" and user is not None:
            lines = [f'GRANT {p} TO "{grantee}"' + (" WITH ADMIN OPTION" if a else "")
                     for p, a in sorted(user.system.items())]  # fmt: skip
        elif user is not None:
            lines = [f'GRANT {p} ON "{o}"."{t}" TO "{grantee}"'
                     + (" WITH GRANT OPTION" if g else "")
                     for (p, o, t), g in sorted(user.objects.items())]  # fmt: skip
        else:
            lines = []
        if not lines or not visible:
            raise ora_error(31608, f"specified object of type {kind} not found")
        # The real CLOB: each statement on its own line, indented, after a blank line.
        return [(FakeLob("".join(f"\n  {line}\n" for line in lines)),)]

    def _create_user(self, session: str, name: str, password: str) -> None:
        if not self.has_system(session, "CREATE USER"):
            raise ora_error(1031, "insufficient privileges")
        if len(name.encode()) > self.name_limit:
            raise ora_error(972, "identifier is too long")
        if name in self.users or name in self.roles:
            raise ora_error(1920, f"user name '{name}' conflicts with another user or role name")
        self.users[name] = OracleUser(password, history=[password])

    def _alter_user(self, session: str, name: str, password: str, old: str | None) -> None:
        target = self.users.get(name)
        privileged = self.has_system(session, "ALTER USER")
        if name != session and not privileged:
            raise ora_error(1031, "insufficient privileges")
        if target is None:
            raise ora_error(1918, f"user '{name}' does not exist")
        if name == session and not privileged:
            if old is None and target.verify_function:
                raise ora_error(28221, "REPLACE not specified")
            if old is not None and old != target.password:
                raise ora_error(28008, "invalid old password")
        if target.reuse_forbidden and password in target.history:
            raise ora_error(28007, "the password cannot be reused")
        target.password = password
        target.history.append(password)

    def _grant_object(
        self, session: str, privilege: str, owner: str, table: str, grantee: str, option: str | None
    ) -> None:
        if privilege not in OBJECT_PRIVILEGES:
            raise ora_error(990, "missing or invalid privilege")
        if (owner, table) not in self.objects:
            raise ora_error(942, "table or view does not exist")
        held = self.users[session].objects.get((privilege, owner, table))
        # GRANT ANY OBJECT PRIVILEGE does not reach SYS objects.
        any_object = owner != "SYS" and self.has_system(session, "GRANT ANY OBJECT PRIVILEGE")
        if session != owner and not held and not any_object:
            raise ora_error(1031, "insufficient privileges")
        user = self._grantee(grantee)
        key = (privilege, owner, table)
        user.objects[key] = user.objects.get(key, False) or option is not None

    def _grant_role(self, session: str, role: str, grantee: str, option: str | None) -> None:
        if role not in self.roles:
            raise ora_error(1919, f"role '{role}' does not exist")
        if not self.has_role_admin(session, role) and not self.has_system(
            session, "GRANT ANY ROLE"
        ):
            raise ora_error(1932, f"ADMIN option not granted for role '{role}'")
        user = self._grantee(grantee)
        user.roles[role] = user.roles.get(role, False) or option is not None

    def _grant_system(self, session: str, privilege: str, grantee: str, option: str | None) -> None:
        if privilege not in SYSTEM_PRIVILEGES:
            raise ora_error(990, "missing or invalid privilege")
        if not self.has_system(session, privilege, admin=True) and not self.has_system(
            session, "GRANT ANY PRIVILEGE"
        ):
            raise ora_error(1031, "insufficient privileges")
        user = self._grantee(grantee)
        user.system[privilege] = user.system.get(privilege, False) or option is not None

    def _grantee(self, name: str) -> OracleUser:
        if name not in self.users:
            raise ora_error(1917, f"user or role '{name}' does not exist")
        return self.users[name]


class FakeCursor:
    """A cursor: ``execute(sql, params)``, ``description``, ``fetchall()``, ``close()``."""

    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.description: list[tuple[Any, ...]] | None = None
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: Any, params: Any = None) -> None:
        """Run a statement on the server."""
        self.conn.require_open()
        rows = self.conn.server.run(self.conn.user, sql, params)
        self.description = None if rows is None else [("COLUMN",)]
        self._rows = rows or []

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Return the rows of the last query."""
        if self.description is None:
            raise oracledb.InterfaceError("DPY-1003: the executed statement does not return rows")
        rows, self._rows = self._rows, []
        return rows

    def close(self) -> None:
        """Close the cursor."""


class FakeConnection:
    """A session of one user, with the thin driver's ``version`` and ``protocol``."""

    def __init__(self, server: FakeOracle, user: str, protocol: str = "tcp") -> None:
        self.server = server
        self.user = user
        self.closed = False
        self.version = server.version
        self.protocol = protocol

    def require_open(self) -> None:
        """Fail like the driver on a closed connection."""
        if self.closed:
            raise oracledb.InterfaceError("DPY-1001: not connected to database")

    def cursor(self) -> FakeCursor:
        """Open a cursor."""
        self.require_open()
        return FakeCursor(self)

    def commit(self) -> None:
        """Commit (DDL has committed already)."""
        self.require_open()

    def close(self) -> None:
        """End the session."""
        self.closed = True
