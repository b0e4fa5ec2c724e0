"""Which grants the admin may give, and how: the pure decisions of the Oracle engine.

Forms of GET_GRANTED_DDL output as Oracle prints them (every name quoted, privileges bare),
e.g. ``GRANT SELECT ON "SYS"."V_$SESSION" TO "U"`` and
``GRANT READ ON DIRECTORY "DATA_PUMP_DIR" TO "U"``.
"""

from __future__ import annotations

import pytest

from rotation.core.errors import UserManagementError
from rotation.engines.oracle.grants import (
    Authority,
    Grant,
    Route,
    parse_grant,
    refuse_ungrantable,
    route,
)
from rotation.engines.oracle.statements import grant_sys_object_statement

APP, CLONE = '"APP"', '"APP_CLONE"'
#: An RDS master: GRANT ANY OBJECT PRIVILEGE, roles and DBA privileges WITH ADMIN OPTION.
MASTER = Authority(
    user="ADMIN",
    privileges=frozenset({"CREATE USER", "ALTER USER", "GRANT ANY OBJECT PRIVILEGE"}),
    admin_roles=frozenset({"CONNECT", "SELECT_CATALOG_ROLE"}),
    admin_privileges=frozenset({"CREATE SESSION", "CREATE TABLE"}),
    grantable=frozenset({("READ", "SYS", "DATA_PUMP_DIR")}),
    sys_via_admin_roles=frozenset({("SELECT", "V_$SESSION")}),
    rdsadmin=True,
)


def parse(kind: str, head: str, option: str = "") -> Grant:
    return parse_grant(kind, f"{head} TO {APP}{option}", APP, CLONE)


@pytest.mark.parametrize(
    ("kind", "head", "option", "expected"),
    [
        ("ROLE_GRANT", 'GRANT "CONNECT"', "", ("CONNECT", None, None, False)),
        ("ROLE_GRANT", 'GRANT "A; B"', " WITH ADMIN OPTION", ("A; B", None, None, False)),
        ("SYSTEM_GRANT", "GRANT CREATE SESSION", "", ("CREATE SESSION", None, None, False)),
        ("SYSTEM_GRANT", "GRANT SELECT ANY TABLE", " WITH ADMIN OPTION",
         ("SELECT ANY TABLE", None, None, False)),
        ("OBJECT_GRANT", 'GRANT SELECT ON "SYS"."V_$SESSION"', "",
         ("SELECT", "SYS", "V_$SESSION", False)),
        ("OBJECT_GRANT", 'GRANT INSERT ON "APP"."odd ON x"', " WITH GRANT OPTION",
         ("INSERT", "APP", "odd ON x", False)),
        ("OBJECT_GRANT", 'GRANT UPDATE ("A", "B C") ON "HR"."EMP"', "",
         ("UPDATE", "HR", "EMP", True)),
        ("OBJECT_GRANT", 'GRANT READ ON DIRECTORY "DATA_PUMP_DIR"', "",
         ("READ", "SYS", "DATA_PUMP_DIR", False)),
        ("OBJECT_GRANT", 'GRANT ON COMMIT REFRESH ON "HR"."MV"', "",
         ("ON COMMIT REFRESH", "HR", "MV", False)),
        ("OBJECT_GRANT", 'GRANT SELECT ON "HR"."V"', " WITH HIERARCHY OPTION",
         ("SELECT", "HR", "V", False)),
    ],
)  # fmt: skip
def test_grants_are_read_from_granted_ddl(
    kind: str, head: str, option: str, expected: tuple[str, str | None, str | None, bool]
) -> None:
    grant = parse(kind, head, option)
    assert (grant.name, grant.owner, grant.object_name, grant.on_columns) == expected
    assert grant.option == option
    assert grant.statement == f"{head} TO {CLONE}{option}"
    assert grant.line == f"{head} TO {APP}{option}"


@pytest.mark.parametrize(
    ("kind", "head"),
    [
        ("OBJECT_GRANT", 'GRANT INHERIT PRIVILEGES ON USER "HR"'),  # not a schema object
        ("ROLE_GRANT", "GRANT CREATE SESSION"),  # the wrong kind for its form
        ("SYSTEM_GRANT", 'GRANT "CONNECT"'),
        ("OBJECT_GRANT", "GRANT SELECT ON HR.EMP"),  # unquoted: not what Oracle prints
    ],
)
def test_forms_we_cannot_check_are_refused_not_replayed(kind: str, head: str) -> None:
    grant = parse(kind, head)
    assert grant.name == ""
    assert route(grant, MASTER) == "not a grant form whose grantor rights can be checked"


def test_a_statement_to_another_grantee_is_refused() -> None:
    with pytest.raises(UserManagementError):
        parse_grant("ROLE_GRANT", 'GRANT "CONNECT" TO "OTHER"', APP, CLONE)


@pytest.mark.parametrize(
    ("kind", "head", "option", "expected"),
    [
        ("ROLE_GRANT", 'GRANT "CONNECT"', " WITH ADMIN OPTION", Route.GRANT),
        ("ROLE_GRANT", 'GRANT "DBA"', "", 'needs role "DBA" WITH ADMIN OPTION or GRANT ANY ROLE'),
        ("SYSTEM_GRANT", "GRANT CREATE TABLE", "", Route.GRANT),
        ("SYSTEM_GRANT", "GRANT ALTER SYSTEM", "",
         "needs ALTER SYSTEM WITH ADMIN OPTION or GRANT ANY PRIVILEGE"),
        ("OBJECT_GRANT", 'GRANT SELECT ON "HR"."EMP"', " WITH GRANT OPTION", Route.GRANT),
        ("OBJECT_GRANT", 'GRANT UPDATE ("SAL") ON "HR"."EMP"', "", Route.GRANT),
        ("OBJECT_GRANT", 'GRANT SELECT ON "ADMIN"."OWN"', "", Route.GRANT),
        ("OBJECT_GRANT", 'GRANT READ ON DIRECTORY "DATA_PUMP_DIR"', "", Route.GRANT),
        ("OBJECT_GRANT", 'GRANT SELECT ON "SYS"."V_$SESSION"', "", Route.SYS_OBJECT),
        ("OBJECT_GRANT", 'GRANT SELECT ON "SYS"."V_$SESSION"', " WITH GRANT OPTION",
         Route.SYS_OBJECT),
    ],
)  # fmt: skip
def test_what_an_rds_master_can_give(
    kind: str, head: str, option: str, expected: Route | str
) -> None:
    assert route(parse(kind, head, option), MASTER) == expected


@pytest.mark.parametrize(
    "head",
    [
        'GRANT EXECUTE ON "SYS"."DBMS_LOCK"',  # held by no role the master administers
        'GRANT SELECT ("SID") ON "SYS"."V_$SESSION"',  # grant_sys_object has no columns
        'GRANT WRITE ON DIRECTORY "DATA_PUMP_DIR"',  # READ is grantable, WRITE is not
    ],
)
def test_sys_objects_are_out_of_reach_of_grant_any_object_privilege(head: str) -> None:
    how = route(parse("OBJECT_GRANT", head), MASTER)
    assert isinstance(how, str)
    assert how.startswith("a SYS object")


def test_without_rdsadmin_only_grant_option_reaches_sys_objects() -> None:
    elsewhere = Authority(user="DBA1", sys_via_admin_roles=MASTER.sys_via_admin_roles)
    how = route(parse("OBJECT_GRANT", 'GRANT SELECT ON "SYS"."V_$SESSION"'), elsewhere)
    assert isinstance(how, str)
    assert "WITH GRANT OPTION" in how
    assert route(parse("OBJECT_GRANT", 'GRANT SELECT ON "HR"."EMP"'), elsewhere) == (
        "needs SELECT on it WITH GRANT OPTION, or GRANT ANY OBJECT PRIVILEGE"
    )


def test_the_grant_any_privileges_need_no_options() -> None:
    anything = Authority(
        user="SUPER",
        privileges=frozenset({"GRANT ANY ROLE", "GRANT ANY PRIVILEGE"}),
    )
    assert route(parse("ROLE_GRANT", 'GRANT "DBA"'), anything) is Route.GRANT
    assert route(parse("SYSTEM_GRANT", "GRANT ALTER SYSTEM"), anything) is Route.GRANT


def test_every_refused_grant_is_named_at_once() -> None:
    plan = [
        (parse("ROLE_GRANT", 'GRANT "CONNECT"'), Route.GRANT),
        (parse("ROLE_GRANT", 'GRANT "DBA"'), "reason one"),
        (parse("SYSTEM_GRANT", "GRANT ALTER SYSTEM"), "reason two"),
    ]
    with pytest.raises(UserManagementError) as raised:
        refuse_ungrantable(plan, "app")
    message = str(raised.value)
    assert "cannot give the clone 2 grant(s) of user 'app'" in message
    assert 'GRANT "DBA" TO "APP" (reason one); GRANT ALTER SYSTEM TO "APP" (reason two)' in message
    refuse_ungrantable(plan[:1], "app")  # nothing refused: no error


def test_grant_sys_object_binds_every_name() -> None:
    statement = grant_sys_object_statement("V_$SESSION", "o'brien_CLONE", "SELECT",
                                           grant_option=False)  # fmt: skip
    assert statement.sql == (
        "BEGIN rdsadmin.rdsadmin_util.grant_sys_object(p_obj_name => :obj_name, "
        "p_grantee => :grantee, p_privilege => :privilege); END;"
    )
    assert statement.params == ("V_$SESSION", "o'brien_CLONE", "SELECT")
    with_option = grant_sys_object_statement("X", "Y", "EXECUTE", grant_option=True)
    assert with_option.sql.endswith(", p_grant_option => TRUE); END;")
