"""Which of the original's grants the admin may give the clone, and how (pure, no connection).

Oracle lets a session grant (SQL Language Reference, GRANT, "Prerequisites",
https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/GRANT.html):

* a role it holds WITH ADMIN OPTION, or any role with GRANT ANY ROLE;
* a system privilege it holds WITH ADMIN OPTION, or any with GRANT ANY PRIVILEGE;
* an object privilege on an object it owns or holds the privilege on WITH GRANT OPTION, or, with
  GRANT ANY OBJECT PRIVILEGE, what the owner could grant -- but "ANY system privileges ... will
  not work on SYS objects".

The RDS master has GRANT ANY OBJECT PRIVILEGE and the DBA role, but not GRANT ANY ROLE nor GRANT
ANY PRIVILEGE (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Oracle.Concepts.limitations.html,
UsingWithRDS.MasterAccounts.html). It gives privileges on SYS objects with
``rdsadmin.rdsadmin_util.grant_sys_object``, which passes on what the account holds directly WITH
GRANT OPTION or through a role granted to it WITH ADMIN OPTION
(Appendix.Oracle.CommonDBATasks.TransferPrivileges.html). A role or system privilege held WITH
ADMIN OPTION through an enabled role counts: that is how the RDS master, without GRANT ANY
PRIVILEGE, runs ``GRANT CREATE SESSION TO user1`` in AWS's own examples.

AWS's rotation function replays each kind of grant inside ``try: ... except: pass``, so the first
grant the master cannot give silently drops the rest of that kind. Here every grant is decided
from the admin's own privileges before anything changes, and one the admin cannot give stops the
rotation, naming it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from rotation.core.errors import UserManagementError
from rotation.engines.oracle.statements import split_grantee

GRANT_ANY_ROLE = "GRANT ANY ROLE"
GRANT_ANY_PRIVILEGE = "GRANT ANY PRIVILEGE"
GRANT_ANY_OBJECT = "GRANT ANY OBJECT PRIVILEGE"
SYS = "SYS"
# Objects named without a schema in GRANT ... ON <type> "<name>"; both live in SYS's namespace.
SCHEMALESS_SYS_TYPES = frozenset({"DIRECTORY", "EDITION"})

_ROLE = re.compile(r'GRANT "(?P<name>[^"]+)"')
_SYSTEM = re.compile(r"GRANT (?P<name>[A-Z][A-Z0-9_$#]*(?: [A-Z][A-Z0-9_$#]*)*)")
_OBJECT = re.compile(
    r"GRANT (?P<name>[A-Z][A-Z_]*(?: [A-Z][A-Z_]*)*?)"
    r'(?P<columns> \("[^"]+"(?:, ?"[^"]+")*\))?'
    r"(?: ON (?:(?P<type>[A-Z][A-Z ]*?) )?)"
    r'"(?P<first>[^"]+)"(?:\."(?P<second>[^"]+)")?',
    re.S,
)


class Route(enum.Enum):
    """How the admin gives a grant."""

    GRANT = "GRANT"  # the original's statement, addressed to the clone
    SYS_OBJECT = "grant_sys_object"  # RDS's procedure, for a privilege on a SYS object


@dataclass(frozen=True)
class Grant:
    """One grant of the original, as GET_GRANTED_DDL shows it, and the same for the clone.

    Attributes:
        kind: ``ROLE_GRANT``, ``SYSTEM_GRANT`` or ``OBJECT_GRANT``.
        line: The original's statement (names the grant in messages).
        statement: The same grant addressed to the clone.
        name: The role or privilege; empty when the statement's form is not understood.
        option: ``""`` or the grant option clause (`` WITH ADMIN OPTION``, ...).
        owner: The object's schema (object grants; None when it cannot be told).
        object_name: The object's name (object grants).
        on_columns: A column-level object grant.
    """

    kind: str
    line: str
    statement: str
    name: str
    option: str = ""
    owner: str | None = None
    object_name: str | None = None
    on_columns: bool = False


@dataclass(frozen=True)
class Authority:
    """What the admin's session may grant, read from its own privileges.

    Attributes:
        user: The session's user name.
        privileges: System privileges in SESSION_PRIVS (the GRANT ANY ones matter here).
        admin_roles: Roles held WITH ADMIN OPTION, directly or through an enabled role.
        admin_privileges: System privileges held WITH ADMIN OPTION, likewise.
        grantable: (privilege, owner, object) granted to the user WITH GRANT OPTION.
        sys_via_admin_roles: (privilege, SYS object) of roles granted WITH ADMIN OPTION.
        rdsadmin: Whether ``rdsadmin.rdsadmin_util`` exists (Amazon RDS).
    """

    user: str
    privileges: frozenset[str] = frozenset()
    admin_roles: frozenset[str] = frozenset()
    admin_privileges: frozenset[str] = frozenset()
    grantable: frozenset[tuple[str, str, str]] = frozenset()
    sys_via_admin_roles: frozenset[tuple[str, str]] = frozenset()
    rdsadmin: bool = False


def parse_grant(kind: str, line: str, template: str, clone: str) -> Grant:
    """Read one GET_GRANTED_DDL statement of ``template`` (quoted names as ENQUOTE_NAME gives).

    A statement whose form is not understood gets an empty ``name``: it is refused by
    :func:`route`, never replayed on trust.

    Raises:
        UserManagementError: The statement is not a GRANT to ``template``.
    """
    head, option = split_grantee(line, template)
    statement = head + " TO " + clone + option
    base = Grant(kind, line, statement, "", option)
    if kind == "ROLE_GRANT" and (match := _ROLE.fullmatch(head)):
        return Grant(kind, line, statement, match["name"], option)
    if kind == "SYSTEM_GRANT" and (match := _SYSTEM.fullmatch(head)):
        return Grant(kind, line, statement, match["name"], option)
    if kind == "OBJECT_GRANT" and (match := _OBJECT.fullmatch(head)):
        owner, name = match["first"], match["second"]
        if name is None:
            if match["type"] not in SCHEMALESS_SYS_TYPES:
                return base
            owner, name = SYS, match["first"]
        columns = match["columns"] is not None
        return Grant(kind, line, statement, match["name"], option, owner, name, columns)
    return base


def route(grant: Grant, authority: Authority) -> Route | str:
    """Return how the admin can give ``grant``, or why it cannot (a reason for the message)."""
    if not grant.name:
        return "not a grant form whose grantor rights can be checked"
    if grant.kind == "ROLE_GRANT":
        if grant.name in authority.admin_roles or GRANT_ANY_ROLE in authority.privileges:
            return Route.GRANT
        return f'needs role "{grant.name}" WITH ADMIN OPTION or {GRANT_ANY_ROLE}'
    if grant.kind == "SYSTEM_GRANT":
        if grant.name in authority.admin_privileges or GRANT_ANY_PRIVILEGE in authority.privileges:
            return Route.GRANT
        return f"needs {grant.name} WITH ADMIN OPTION or {GRANT_ANY_PRIVILEGE}"
    return _object_route(grant, authority)


def _object_route(grant: Grant, authority: Authority) -> Route | str:
    owner, name = grant.owner, grant.object_name
    if owner is None or name is None:
        return "not a grant form whose grantor rights can be checked"
    if owner == authority.user or (grant.name, owner, name) in authority.grantable:
        return Route.GRANT
    if owner != SYS:
        if GRANT_ANY_OBJECT in authority.privileges:
            return Route.GRANT
        return f"needs {grant.name} on it WITH GRANT OPTION, or {GRANT_ANY_OBJECT}"
    needs = (
        f"a SYS object: needs {grant.name} on it WITH GRANT OPTION, or (RDS: "
        "rdsadmin.rdsadmin_util.grant_sys_object) through a role granted to the admin WITH "
        "ADMIN OPTION"
    )
    if not authority.rdsadmin or (grant.name, name) not in authority.sys_via_admin_roles:
        return needs
    if grant.on_columns or grant.option == " WITH HIERARCHY OPTION":
        return needs + "; grant_sys_object gives no column-level or HIERARCHY grants"
    return Route.SYS_OBJECT


def refuse_ungrantable(plan: list[tuple[Grant, Route | str]], template: str) -> None:
    """Stop, naming every grant the admin cannot give (nothing has changed yet).

    Raises:
        UserManagementError: Some grant cannot be given; the clone would lack it.
    """
    refused = [f"{grant.line} ({how})" for grant, how in plan if isinstance(how, str)]
    if refused:
        raise UserManagementError(
            f"the admin cannot give the clone {len(refused)} grant(s) of user {template!r}, so "
            "nothing was changed (a clone must not have fewer privileges than the original): "
            + "; ".join(refused)
        )
