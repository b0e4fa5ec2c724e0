"""Replay one permission row of the original as a GRANT or DENY for the clone (pure rendering).

A database row comes from :data:`.statements.DATABASE_PERMISSIONS_SQL`
(``sys.database_permissions``), a server row from :data:`.statements.SERVER_PERMISSIONS_SQL`
(``sys.server_permissions``). Each names its
securable by class number, and the renderers give every class its ``ON <class>::`` form from
Microsoft's GRANT pages; a class without one is refused, naming its ``class_desc``, before the
clone is touched. Every name reaches the statement through ``QUOTENAME`` on the server.

Sources (GRANT syntax per securable class, learn.microsoft.com/sql/t-sql/statements/...):
``grant-object-permissions-transact-sql``, ``grant-schema-permissions-transact-sql``,
``grant-database-principal-permissions-transact-sql`` (USER / ROLE / APPLICATION ROLE),
``grant-assembly-permissions-transact-sql`` (``ON ASSEMBLY ::``),
``grant-type-permissions-transact-sql`` (``ON TYPE :: [schema.]type``),
``grant-xml-schema-collection-permissions-transact-sql`` (``ON XML SCHEMA COLLECTION ::
[schema.]name``), ``grant-service-broker-permissions-transact-sql`` (``ON MESSAGE TYPE ::``,
``CONTRACT ::``, ``SERVICE ::``, ``REMOTE SERVICE BINDING ::``, ``ROUTE ::``),
``grant-full-text-permissions-transact-sql`` (``ON FULLTEXT CATALOG ::``),
``grant-symmetric-key-permissions-transact-sql``, ``grant-certificate-permissions-transact-sql``,
``grant-asymmetric-key-permissions-transact-sql``; server level:
``grant-server-permissions-transact-sql`` (``GRANT <permission> TO <login>``),
``grant-server-principal-permissions-transact-sql`` (``ON LOGIN ::`` / ``ON SERVER ROLE ::``),
``grant-endpoint-permissions-transact-sql`` (``ON ENDPOINT ::``). Class numbers:
``sys-database-permissions-transact-sql`` and ``sys-server-permissions-transact-sql``.
"""

from __future__ import annotations

import re
from typing import Any

from rotation.core.errors import UserManagementError
from rotation.engines.dbapi import Statement
from rotation.engines.sqlserver.statements import Name, Password, dynamic

_PERMISSION = re.compile(r"[A-Z]+(?: [A-Z]+)*")  # permission_name is a keyword list

# sys.database_permissions.class -> (securable keyword, whether the name is schema-qualified).
# 0 (the database) and 1 (object or column) and 4 (principal) are rendered separately.
_DATABASE_CLASSES: dict[int, tuple[str, bool]] = {
    3: ("SCHEMA", False),
    5: ("ASSEMBLY", False),
    6: ("TYPE", True),
    10: ("XML SCHEMA COLLECTION", True),
    15: ("MESSAGE TYPE", False),
    16: ("CONTRACT", False),
    17: ("SERVICE", False),
    18: ("REMOTE SERVICE BINDING", False),
    19: ("ROUTE", False),
    23: ("FULLTEXT CATALOG", False),
    24: ("SYMMETRIC KEY", False),
    25: ("CERTIFICATE", False),
    26: ("ASYMMETRIC KEY", False),
}
# sys.database_principals.type of a class 4 securable -> its securable keyword.
_PRINCIPAL_CLASS = {"S": "USER", "U": "USER", "G": "USER", "E": "USER", "X": "USER",
                    "C": "USER", "K": "USER", "R": "ROLE", "A": "APPLICATION ROLE"}  # fmt: skip

# CREATE LOGIN grants CONNECT SQL by itself ("Access is controlled by using the CONNECT SQL
# permission which is automatically granted when new logins are created", learn.microsoft.com
# /sql/relational-databases/policy-based-management/server-public-permissions).
IMPLICIT_SERVER_ROW = (100, "CONNECT SQL", "G")


def _verb(state: Any) -> str:
    """Return GRANT or DENY for a permission state (D deny, G grant, W grant with option)."""
    return "DENY" if str(state).strip() == "D" else "GRANT"


def _checked_permission(permission: Any) -> str:
    text = str(permission).strip()
    if not _PERMISSION.fullmatch(text):
        raise UserManagementError("replay permission: unexpected permission name")
    return text


def _name(value: Any, class_desc: Any) -> Name:
    """Wrap a securable name, refusing a NULL one (QUOTENAME(NULL) would silently skip it)."""
    if value is None:
        raise UserManagementError(
            f"replay permission: the name of a {str(class_desc).strip()} securable is not "
            "visible to the admin; it cannot be copied"
        )
    return Name(str(value))


def _unsupported(klass: Any, class_desc: Any, scope: str) -> UserManagementError:
    return UserManagementError(
        f"cannot copy the original's {scope} permissions on securable class "
        f"{str(class_desc).strip()} ({klass}): this engine has no GRANT form for it; give it "
        "to the clone yourself (create the clone's login first if it does not exist) or remove "
        "it from the original"
    )


def _finish(parts: list[str | Name | Password], state: Any, grantee: str) -> Statement:
    parts += [" TO ", Name(grantee)]
    if str(state).strip() == "W":
        parts.append(" WITH GRANT OPTION")
    return dynamic("replay permission", *parts)


def permission_statement(row: tuple[Any, ...], grantee: str) -> Statement:
    """Render the GRANT/DENY that gives ``grantee`` one row of the database permissions query.

    Raises:
        UserManagementError: The row's securable class has no GRANT form here, or a name in
            it is NULL (not visible).
    """
    klass, class_desc, permission, state, schema, name, column, principal_type = row
    parts: list[str | Name | Password] = [f"{_verb(state)} {_checked_permission(permission)}"]
    if klass == 1:
        parts += [" ON OBJECT::", _name(schema, class_desc), ".", _name(name, class_desc)]
        if column is not None:
            parts += [" (", Name(str(column)), ")"]
    elif klass == 4:
        keyword = _PRINCIPAL_CLASS.get(str(principal_type).strip(), "USER")
        parts += [f" ON {keyword}::", _name(name, class_desc)]
    elif klass in _DATABASE_CLASSES:
        keyword, qualified = _DATABASE_CLASSES[klass]
        parts.append(f" ON {keyword}::")
        if qualified:
            parts += [_name(schema, class_desc), "."]
        parts.append(_name(schema if keyword == "SCHEMA" else name, class_desc))
    elif klass != 0:
        raise _unsupported(klass, class_desc, "database")
    return _finish(parts, state, grantee)


def server_permission_statement(row: tuple[Any, ...], grantee: str) -> Statement:
    """Render the GRANT/DENY that gives the login ``grantee`` one server permission row.

    Server-scoped GRANT and DENY run only while the current database is master ("Permissions
    at the server scope can be granted only when the current database is master",
    grant-server-permissions-transact-sql).

    Raises:
        UserManagementError: The class is not SERVER, SERVER_PRINCIPAL or ENDPOINT, or a name
            is NULL.
    """
    klass, class_desc, permission, state, name, principal_type = row
    parts: list[str | Name | Password] = [f"{_verb(state)} {_checked_permission(permission)}"]
    if klass == 101:
        keyword = "SERVER ROLE" if str(principal_type).strip() == "R" else "LOGIN"
        parts += [f" ON {keyword}::", _name(name, class_desc)]
    elif klass == 105:
        parts += [" ON ENDPOINT::", _name(name, class_desc)]
    elif klass != 100:
        raise _unsupported(klass, class_desc, "server")
    return _finish(parts, state, grantee)


def describe_permission(row: tuple[Any, ...], *, server: bool) -> str:
    """Describe a permission row for messages, e.g. ``DENY DELETE on OBJECT_OR_COLUMN 'items'``."""
    klass, class_desc, permission, state = row[:4]
    if klass in (0, 100):
        where = "the server" if server else "the database"
    else:
        # Server rows hold the securable's name at 4; database rows at 5, or 4 for a schema.
        name = row[4] if server or row[5] is None else row[5]
        where = f"{str(class_desc).strip()} {name!r}"
    option = " WITH GRANT OPTION" if str(state).strip() == "W" else ""
    return f"{_verb(state)} {str(permission).strip()} on {where}{option}"
