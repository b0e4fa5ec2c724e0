"""SQL Server statements, rendered as text and parameters; nothing here talks to a server.

DDL takes no variables, so :func:`dynamic` renders each change as a batch that assembles the
statement on the server from fixed text, ``QUOTENAME``-quoted names and passwords bound by
pymssql, and runs it with ``sys.sp_executesql``. :class:`SQLServerStatements` holds the
renderers the handler inherits; :mod:`.permissions` replays one permission row as a ``GRANT``
or ``DENY``.
"""

from __future__ import annotations

from dataclasses import dataclass

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement

SYSNAME_LENGTH = 128  # QUOTENAME returns NULL beyond this, so longer values are refused first


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


# Columns: class, class_desc, permission_name, state, schema, name, column, principal type.
# Each LEFT JOIN matches only rows of its class; the IDs are the catalog views' own (major_id
# "interpreted according to class"): sys.assemblies.assembly_id, sys.types.user_type_id,
# sys.xml_schema_collections.xml_collection_id, sys.service_message_types.message_type_id,
# sys.service_contracts.service_contract_id, sys.services.service_id,
# sys.remote_service_bindings.remote_service_binding_id, sys.routes.route_id,
# sys.fulltext_catalogs.fulltext_catalog_id, sys.symmetric_keys.symmetric_key_id,
# sys.certificates.certificate_id, sys.asymmetric_keys.asymmetric_key_id.
DATABASE_PERMISSIONS_SQL = (
    "SELECT p.class, p.class_desc, p.permission_name, p.state, "
    "COALESCE(os.name, s.name, ts.name, xs.name), "
    "COALESCE(o.name, dp.name, asm.name, t.name, x.name, mt.name, sc.name, sv.name, rsb.name, "
    "rt.name, fc.name, sk.name, ce.name, ak.name), c.name, dp.type "
    "FROM sys.database_permissions p "
    "JOIN sys.database_principals g ON g.principal_id = p.grantee_principal_id "
    "LEFT JOIN sys.all_objects o ON p.class = 1 AND o.object_id = p.major_id "
    "LEFT JOIN sys.schemas os ON os.schema_id = o.schema_id "
    "LEFT JOIN sys.all_columns c ON p.class = 1 AND c.object_id = p.major_id "
    "AND c.column_id = p.minor_id "
    "LEFT JOIN sys.schemas s ON p.class = 3 AND s.schema_id = p.major_id "
    "LEFT JOIN sys.database_principals dp ON p.class = 4 AND dp.principal_id = p.major_id "
    "LEFT JOIN sys.assemblies asm ON p.class = 5 AND asm.assembly_id = p.major_id "
    "LEFT JOIN sys.types t ON p.class = 6 AND t.user_type_id = p.major_id "
    "LEFT JOIN sys.schemas ts ON ts.schema_id = t.schema_id "
    "LEFT JOIN sys.xml_schema_collections x ON p.class = 10 AND x.xml_collection_id = p.major_id "
    "LEFT JOIN sys.schemas xs ON xs.schema_id = x.schema_id "
    "LEFT JOIN sys.service_message_types mt ON p.class = 15 AND mt.message_type_id = p.major_id "
    "LEFT JOIN sys.service_contracts sc ON p.class = 16 AND sc.service_contract_id = p.major_id "
    "LEFT JOIN sys.services sv ON p.class = 17 AND sv.service_id = p.major_id "
    "LEFT JOIN sys.remote_service_bindings rsb ON p.class = 18 "
    "AND rsb.remote_service_binding_id = p.major_id "
    "LEFT JOIN sys.routes rt ON p.class = 19 AND rt.route_id = p.major_id "
    "LEFT JOIN sys.fulltext_catalogs fc ON p.class = 23 AND fc.fulltext_catalog_id = p.major_id "
    "LEFT JOIN sys.symmetric_keys sk ON p.class = 24 AND sk.symmetric_key_id = p.major_id "
    "LEFT JOIN sys.certificates ce ON p.class = 25 AND ce.certificate_id = p.major_id "
    "LEFT JOIN sys.asymmetric_keys ak ON p.class = 26 AND ak.asymmetric_key_id = p.major_id "
    "WHERE g.name = %s"
)

# Columns: class, class_desc, permission_name, state, securable name, principal type.
SERVER_PERMISSIONS_SQL = (
    "SELECT p.class, p.class_desc, p.permission_name, p.state, COALESCE(sp.name, e.name), "
    "sp.type FROM sys.server_permissions p "
    "JOIN sys.server_principals g ON g.principal_id = p.grantee_principal_id "
    "LEFT JOIN sys.server_principals sp ON p.class = 101 AND sp.principal_id = p.major_id "
    "LEFT JOIN sys.endpoints e ON p.class = 105 AND e.endpoint_id = p.major_id "
    "WHERE g.name = %s"
)


class SQLServerStatements:
    """Render the queries and changes of the SQL Server handler (mixin; pure)."""

    # -- catalog queries ----------------------------------------------------------------------

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
        """Render the query for a database principal of this name and its default schema."""
        return Statement(
            "SELECT default_schema_name FROM sys.database_principals WHERE name = %s",
            (username,),
            "look up database user",
        )

    def login_user_statement(self, login: str) -> Statement:
        """Render the query for the database user a login maps to, and its default schema.

        The mapping is the SID: ``sys.database_principals.sid`` equals the login's
        ``sys.server_principals.sid`` (learn.microsoft.com/sql/relational-databases/
        system-catalog-views/sys-database-principals-transact-sql). The user's name may differ
        from the login's, and another principal may carry the login's name.
        """
        return Statement(
            "SELECT dp.name, dp.default_schema_name FROM sys.database_principals dp "
            "JOIN sys.server_principals sp ON sp.sid = dp.sid "
            "WHERE sp.name = %s AND dp.type = 'S'",
            (login,),
            "look up the login's database user",
        )

    def roles_statement(self, username: str) -> Statement:
        """Render the query for a database user's role memberships."""
        return Statement(
            "SELECT r.name FROM sys.database_role_members m "
            "JOIN sys.database_principals r ON r.principal_id = m.role_principal_id "
            "JOIN sys.database_principals u ON u.principal_id = m.member_principal_id "
            "WHERE u.name = %s",
            (username,),
            "look up role memberships",
        )

    def permissions_statement(self, username: str) -> Statement:
        """Render the query for a database user's permissions, with every securable's names."""
        return Statement(DATABASE_PERMISSIONS_SQL, (username,), "look up permissions")

    def server_roles_statement(self, login: str) -> Statement:
        """Render the query for a login's server role memberships (sys.server_role_members)."""
        return Statement(
            "SELECT r.name FROM sys.server_role_members m "
            "JOIN sys.server_principals r ON r.principal_id = m.role_principal_id "
            "JOIN sys.server_principals l ON l.principal_id = m.member_principal_id "
            "WHERE l.name = %s",
            (login,),
            "look up server role memberships",
        )

    def server_permissions_statement(self, login: str) -> Statement:
        """Render the query for a login's server-level permissions (sys.server_permissions)."""
        return Statement(SERVER_PERMISSIONS_SQL, (login,), "look up server permissions")

    def view_definitions_statement(self) -> Statement:
        """Render the query telling whether the session may see every server principal.

        Catalog views hide what the caller may not see instead of failing: without VIEW
        DEFINITION on a user-defined server role its members are invisible
        (sys-server-role-members-transact-sql). VIEW ANY DEFINITION implies VIEW DEFINITION on
        every login and server role (grant-server-principal-permissions-transact-sql).
        """
        return Statement(
            "SELECT HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DEFINITION')",
            None,
            "look up VIEW ANY DEFINITION",
        )

    # -- changes ------------------------------------------------------------------------------

    def use_master_statement(self) -> Statement:
        """Render ``USE master``: server-scoped GRANT and DENY run only there.

        USE changes the session's database until the connection ends (learn.microsoft.com/sql/
        t-sql/language-elements/use-transact-sql); every login may use master (guest).
        """
        return Statement("USE master", None, "switch to master")

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
        self,
        username: str,
        schema: str | None,
        password: str | None = None,
        *,
        login: str | None = None,
    ) -> Statement:
        """Render ``CREATE USER`` for a login (default: of the same name), or with a password."""
        parts: list[str | Name | Password] = ["CREATE USER ", Name(username)]
        if password is None:
            parts += [" FOR LOGIN ", Name(login if login is not None else username)]
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

    def add_server_role_member_statement(self, role: str, login: str) -> Statement:
        """Render ``ALTER SERVER ROLE <role> ADD MEMBER <login>``."""
        return dynamic("ALTER SERVER ROLE", "ALTER SERVER ROLE ", Name(role),
                       " ADD MEMBER ", Name(login))  # fmt: skip
