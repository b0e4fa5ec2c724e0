"""SQL Server statements, rendered as text and parameters; nothing here talks to a server.

DDL takes no variables, so :func:`dynamic` renders each change as a batch that assembles the
statement on the server from fixed text, ``QUOTENAME``-quoted names and passwords bound by
pymssql, and runs it with ``sys.sp_executesql``. :class:`SQLServerStatements` holds the
renderers the handler inherits; :func:`permission_statement` replays one row of the
permissions query as a ``GRANT`` or ``DENY``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement

SYSNAME_LENGTH = 128  # QUOTENAME returns NULL beyond this, so longer values are refused first
_PERMISSION = re.compile(r"[A-Z]+(?: [A-Z]+)*")  # permission_name is a keyword list


@dataclass(frozen=True)
class Name:
    """A principal, schema, object or column name: the server quotes it with QUOTENAME."""

    value: str


@dataclass(frozen=True)
class Password:
    """A password: the server makes it an N'...' literal with QUOTENAME(..., '''')."""

    value: str


def dynamic(action: str, *parts: str | Name | Password) -> Statement:
    """Render a batch that assembles one DDL statement on the server and executes it.

    Plain strings are fixed SQL text; names and passwords are bound by pymssql and quoted by
    the server.

    Raises:
        UserManagementError: A name or password exceeds 128 characters, SQL Server's limit.
    """
    pieces: list[str] = []
    params: list[str] = []
    for part in parts:
        if isinstance(part, str):
            # pymssql interpolates %s, so fixed text must hold no '%'.
            assert "%" not in part
            pieces.append("N'" + part.replace("'", "''") + "'")
            continue
        if len(part.value) > SYSNAME_LENGTH:
            what = "name" if isinstance(part, Name) else "password"
            raise UserManagementError(f"{action}: a {what} is longer than {SYSNAME_LENGTH}")
        if isinstance(part, Name):
            pieces.append("QUOTENAME(%s)")
        elif pieces and pieces[-1].startswith("N'"):
            # End the preceding text with N so that the password is a Unicode literal.
            pieces[-1] = pieces[-1][:-1] + "N'"
            pieces.append("QUOTENAME(%s, '''')")
        else:
            pieces.append("N'N' + QUOTENAME(%s, '''')")
        params.append(part.value)
    sql = f"DECLARE @sql nvarchar(max) = {' + '.join(pieces)}; EXEC sys.sp_executesql @sql;"
    return Statement(sql, tuple(params), action)


_PERMISSIONS_SQL = (
    "SELECT p.class, p.permission_name, p.state, COALESCE(os.name, s.name, ts.name), "
    "COALESCE(o.name, dp.name, t.name), c.name, dp.type "
    "FROM sys.database_permissions p "
    "JOIN sys.database_principals g ON g.principal_id = p.grantee_principal_id "
    "LEFT JOIN sys.all_objects o ON p.class = 1 AND o.object_id = p.major_id "
    "LEFT JOIN sys.schemas os ON os.schema_id = o.schema_id "
    "LEFT JOIN sys.all_columns c ON p.class = 1 AND c.object_id = p.major_id "
    "AND c.column_id = p.minor_id "
    "LEFT JOIN sys.schemas s ON p.class = 3 AND s.schema_id = p.major_id "
    "LEFT JOIN sys.database_principals dp ON p.class = 4 AND dp.principal_id = p.major_id "
    "LEFT JOIN sys.types t ON p.class = 6 AND t.user_type_id = p.major_id "
    "LEFT JOIN sys.schemas ts ON ts.schema_id = t.schema_id "
    "WHERE g.name = %s"
)
# sys.database_principals.type of a class 4 securable -> its securable keyword.
_PRINCIPAL_CLASS = {"S": "USER", "U": "USER", "G": "USER", "E": "USER", "X": "USER",
                    "C": "USER", "K": "USER", "R": "ROLE", "A": "APPLICATION ROLE"}  # fmt: skip


def permission_statement(row: tuple[Any, ...], grantee: str) -> Statement:
    """Render the GRANT/DENY that gives ``grantee`` one row of the permissions query.

    Raises:
        UserManagementError: The row is of a securable class this engine does not replay.
    """
    klass, permission, state, schema, name, column, principal_type = row
    permission = str(permission).strip()
    if not _PERMISSION.fullmatch(permission):
        raise UserManagementError("replay permission: unexpected permission name")
    verb = "DENY " if state == "D" else "GRANT "
    parts: list[str | Name | Password] = [verb + permission]
    if klass == 1:
        parts += [" ON OBJECT::", Name(schema), ".", Name(name)]
        if column is not None:
            parts += [" (", Name(column), ")"]
    elif klass == 3:
        parts += [" ON SCHEMA::", Name(schema)]
    elif klass == 4:
        parts += [f" ON {_PRINCIPAL_CLASS.get(str(principal_type).strip(), 'USER')}::", Name(name)]
    elif klass == 6:
        parts += [" ON TYPE::", Name(schema), ".", Name(name)]
    elif klass != 0:
        raise UserManagementError(
            f"replay permission: securable class {klass} is not supported; grant it by hand"
        )
    parts += [" TO ", Name(grantee)]
    if state == "W":
        parts.append(" WITH GRANT OPTION")
    return dynamic("replay permission", *parts)


class SQLServerStatements:
    """Render the queries and changes of the SQL Server handler (mixin; pure)."""

    def contained_user_statement(self, username: str) -> Statement:
        """Render the query telling whether a user authenticates in this (contained) database."""
        return Statement(
            "SELECT COUNT(*) FROM sys.database_principals "
            "WHERE name = %s AND authentication_type = 2",
            (username,),
            "look up contained user",
        )

    def login_exists_statement(self, username: str) -> Statement:
        """Render the query for a server login."""
        return Statement(
            "SELECT COUNT(*) FROM sys.server_principals WHERE name = %s",
            (username,),
            "look up login",
        )

    def database_user_statement(self, username: str) -> Statement:
        """Render the query for a database user and its default schema."""
        return Statement(
            "SELECT default_schema_name FROM sys.database_principals WHERE name = %s",
            (username,),
            "look up database user",
        )

    def roles_statement(self, username: str) -> Statement:
        """Render the query for a user's database role memberships."""
        return Statement(
            "SELECT r.name FROM sys.database_role_members m "
            "JOIN sys.database_principals r ON r.principal_id = m.role_principal_id "
            "JOIN sys.database_principals u ON u.principal_id = m.member_principal_id "
            "WHERE u.name = %s",
            (username,),
            "look up role memberships",
        )

    def permissions_statement(self, username: str) -> Statement:
        """Render the query for a user's database permissions, with every securable's names."""
        return Statement(_PERMISSIONS_SQL, (username,), "look up permissions")

    def own_password_statement(
        self, username: str, password: str, old_password: str, *, contained: bool
    ) -> Statement:
        """Render ``ALTER LOGIN|USER <me> WITH PASSWORD = <new> OLD_PASSWORD = <old>``."""
        kind = "USER" if contained else "LOGIN"
        return dynamic(f"ALTER {kind} (own password)", f"ALTER {kind} ", Name(username),
                       " WITH PASSWORD = ", Password(password),
                       " OLD_PASSWORD = ", Password(old_password))  # fmt: skip

    def set_password_statement(self, username: str, password: str, *, contained: bool) -> Statement:
        """Render the admin's ``ALTER LOGIN|USER <user> WITH PASSWORD = <new>``."""
        kind = "USER" if contained else "LOGIN"
        return dynamic(f"ALTER {kind}", f"ALTER {kind} ", Name(username),
                       " WITH PASSWORD = ", Password(password))  # fmt: skip

    def create_login_statement(self, username: str, password: str) -> Statement:
        """Render ``CREATE LOGIN <user> WITH PASSWORD = <password>``."""
        return dynamic("CREATE LOGIN", "CREATE LOGIN ", Name(username),
                       " WITH PASSWORD = ", Password(password))  # fmt: skip

    def create_user_statement(
        self, username: str, schema: str | None, password: str | None = None
    ) -> Statement:
        """Render ``CREATE USER`` for a login, or with a password (contained database)."""
        parts: list[str | Name | Password] = ["CREATE USER ", Name(username)]
        if password is None:
            parts += [" FOR LOGIN ", Name(username)]
            if schema is not None:
                parts += [" WITH DEFAULT_SCHEMA = ", Name(schema)]
        else:
            parts += [" WITH PASSWORD = ", Password(password)]
            if schema is not None:
                parts += [", DEFAULT_SCHEMA = ", Name(schema)]
        return dynamic("CREATE USER", *parts)

    def add_role_member_statement(self, role: str, username: str) -> Statement:
        """Render ``ALTER ROLE <role> ADD MEMBER <user>``."""
        return dynamic("ALTER ROLE", "ALTER ROLE ", Name(role), " ADD MEMBER ", Name(username))
