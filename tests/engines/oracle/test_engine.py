"""The Oracle engine's primitives against the in-memory Oracle fake, and the fake's own rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import oracledb
import pytest
from moto import mock_aws

from rotation.core.config import Settings
from rotation.core.errors import (
    ConfigurationError,
    SecretFormatError,
    UserManagementError,
    UsernameTooLongError,
)
from rotation.core.password import generate_password
from rotation.engines.oracle import OracleHandler
from rotation.local import driver
from rotation.testing.conformance import Scenario
from tests.engines.oracle.backend import ADMIN, OracleBackend
from tests.engines.oracle.conftest import MakeHandler
from tests.engines.oracle.fake import (
    FakeConnection,
    FakeOracle,
    OracleRole,
    OracleUser,
    UnexpectedStatementError,
)

Fake = tuple[FakeOracle, Path]
BASE = {"engine": "oracle", "host": "oracle.fake.example", "dbname": "ORCLPDB1", "ssl": False}


def session(server: FakeOracle, user: str, password: str) -> FakeConnection:
    return server.connect(user=user, password=password, host=server.host, port=server.port,
                          service_name=server.service_name, tcp_connect_timeout=5.0)  # fmt: skip


def add_user(server: FakeOracle, name: str, password: str = "Old-pw-1", **flags: Any) -> None:
    grants: dict[str, Any] = {
        "roles": {"CONNECT": False},
        "objects": {("SELECT", "APP", "ITEMS"): False},
    }
    server.users[name] = OracleUser(password, history=[password], **grants, **flags)


# -- facts and secrets --------------------------------------------------------------------


def test_facts() -> None:
    assert (OracleHandler.default_port, OracleHandler.clone_suffix) == (1521, "_CLONE")
    assert OracleHandler.max_username_length == 128
    assert OracleHandler.password_defaults.length == 30


@pytest.mark.parametrize("length", [31, 32, 4096])
def test_a_password_length_over_oracles_30_bytes_is_refused_at_start_up(
    make_handler: MakeHandler, monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    """Oracle passwords are at most 30 bytes: refuse the setting, never truncate or fail later.

    https://docs.oracle.com/en/database/oracle/oracle-database/19/dbseg/minimum-requirements-passwords.html
    ("Passwords can be at most 30 bytes long"); generated characters are ASCII, one byte each.
    """
    with pytest.raises(ConfigurationError, match=f"at most 30 bytes; PASSWORD_LENGTH is {length}"):
        make_handler("alternating", password_length=length)
    monkeypatch.setenv("PASSWORD_LENGTH", str(length))
    with pytest.raises(ConfigurationError, match="at most 30 bytes"):
        OracleHandler(
            settings=Settings.from_env(),
            client=boto3.client("secretsmanager", region_name="us-east-1"),
        )


@pytest.mark.parametrize("length", [4, 12, 30])
def test_password_lengths_up_to_30_are_kept(make_handler: MakeHandler, length: int) -> None:
    handler = make_handler(password_length=length)
    password = handler.generate_password()
    assert len(password.encode()) == length
    assert handler.password_policy.length == length


@pytest.mark.parametrize("engine", ["oracle-ee", "oracle-se2", "oracle-ee-cdb", "oracle-se2-cdb"])
def test_rds_edition_names_are_accepted_for_the_admin_secret_only(
    handler: OracleHandler, engine: str
) -> None:
    value = {**BASE, "engine": engine, "username": "admin", "password": "x"}
    assert handler.parse_secret(value, admin=True).engine == engine
    with pytest.raises(SecretFormatError, match="engine"):
        handler.parse_secret(value)


def test_the_service_name_is_required(handler: OracleHandler) -> None:
    with pytest.raises(SecretFormatError, match="dbname"):
        handler.parse_secret({"engine": "oracle", "host": "h", "username": "u", "password": "p"})


@pytest.mark.parametrize("name", ['dq"uote', '"', '""', '"a"b"', "nul\x00"])
def test_user_names_oracle_cannot_hold_are_refused(handler: OracleHandler, name: str) -> None:
    with pytest.raises(SecretFormatError, match="username"):
        handler.parse_secret({**BASE, "username": name, "password": "p"})


def test_quoted_names_are_exact_in_single_user_but_refused_for_alternating(
    make_handler: MakeHandler,
) -> None:
    value = {**BASE, "username": '"Mixed Case"', "password": "p", "masterarn": "arn:x"}
    assert make_handler("single").parse_secret(value).username == '"Mixed Case"'
    with pytest.raises(SecretFormatError, match="unquoted"):
        make_handler("alternating").parse_secret(value)


@pytest.mark.parametrize("exclude", ["/", "", "abc"])
def test_double_quote_is_always_excluded_from_generated_passwords(
    make_handler: MakeHandler, exclude: str
) -> None:
    handler = make_handler(exclude_characters=exclude)
    assert '"' in handler.password_policy.exclude_characters
    assert all('"' not in generate_password(handler.password_policy) for _ in range(300))


# -- single user --------------------------------------------------------------------------


def test_own_password_change_names_the_old_password(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP", verify_function=True)
    conn = session(server, "app", "Old-pw-1")
    handler.set_password(conn, "app", "New-pw-2", "Old-pw-1")
    assert server.can_login("app", "New-pw-2")
    assert server.executed[-1] == (
        "APP",
        'ALTER USER "APP" IDENTIFIED BY "New-pw-2" REPLACE "Old-pw-1"',
    )


def test_a_password_with_a_double_quote_changes_nothing(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    conn = session(server, "app", "Old-pw-1")
    with pytest.raises(SecretFormatError):
        handler.set_password(conn, "app", 'New"pw', "Old-pw-1")
    assert server.users["APP"].password == "Old-pw-1"
    assert not any(sql.startswith("ALTER") for _, sql in server.executed)


def test_a_quoted_user_name_rotates_as_that_exact_user(oracle_fake: Fake) -> None:
    server, ca_path = oracle_fake
    add_user(server, "Mixed Case")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        backend = OracleBackend(server, ca_path)
        scenario = Scenario(backend, client, '"Mixed Case"')
        driver.rotate(scenario.handler("single"), client, scenario.arn)
        password = scenario.value("AWSCURRENT")["password"]
    assert server.can_login('"Mixed Case"', password)
    assert "MIXED CASE" not in server.users


# -- alternating users --------------------------------------------------------------------


def test_a_non_admin_is_refused_before_any_change(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    conn = session(server, "app", "Old-pw-1")
    with pytest.raises(UserManagementError, match="cannot give the clone 1 grant"):
        handler.create_user_like(conn, "app_CLONE", "app", "Clone-pw-1")
    assert "APP_CLONE" not in server.users
    assert server.changes == []


def test_an_admin_without_create_user_fails_on_the_server(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    server.users["GRANTOR"] = OracleUser(
        "Grantor-pw-1", roles={"CONNECT": True, "SELECT_CATALOG_ROLE": False},
        system={"GRANT ANY OBJECT PRIVILEGE": False},
    )  # fmt: skip
    conn = session(server, "grantor", "Grantor-pw-1")
    with pytest.raises(UserManagementError, match="ORA-01031"):
        handler.create_user_like(conn, "app_CLONE", "app", "Clone-pw-1")
    assert "APP_CLONE" not in server.users


def test_an_admin_who_cannot_read_grants_creates_nothing(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    del server.users["ADMIN"].roles["SELECT_CATALOG_ROLE"]
    conn = session(server, *ADMIN)
    with pytest.raises(UserManagementError, match="SELECT_CATALOG_ROLE"):
        handler.create_user_like(conn, "app_CLONE", "app", "Clone-pw-1")
    assert "APP_CLONE" not in server.users


def test_a_re_run_accepts_the_pending_password_already_in_the_history(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    add_user(server, "APP_CLONE", "Clone-pw-1", reuse_forbidden=True)
    conn = session(server, *ADMIN)
    with pytest.raises(oracledb.DatabaseError, match="ORA-28007"):
        conn.cursor().execute('ALTER USER "APP_CLONE" IDENTIFIED BY "Clone-pw-1"')
    handler.create_user_like(conn, "app_CLONE", "app", "Clone-pw-1")
    assert server.privileges("APP_CLONE") == server.privileges("APP")
    handler.set_user_password(conn, "app_CLONE", "Clone-pw-1")
    with pytest.raises(UserManagementError, match="ORA-01918"):
        handler.set_user_password(conn, "nobody", "Clone-pw-1")


def test_only_missing_grants_are_replayed(handler: OracleHandler, oracle_fake: Fake) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    add_user(server, "APP_CLONE", "x")  # already has CONNECT and SELECT ON APP.ITEMS
    server.users["APP"].system["CREATE TABLE"] = True
    conn = session(server, *ADMIN)
    handler.create_user_like(conn, "app_CLONE", "app", "Clone-pw-1")
    grants = [sql for _, sql in server.executed if sql.startswith("GRANT")]
    assert grants == ['GRANT CREATE TABLE TO "APP_CLONE" WITH ADMIN OPTION']


# -- grants as the RDS master gives them -----------------------------------------------------
# The admin of make_server() is an RDS master user: GRANT ANY OBJECT PRIVILEGE and the DBA role,
# neither GRANT ANY ROLE nor GRANT ANY PRIVILEGE; rdsadmin.rdsadmin_util is installed.


def master_grants(server: FakeOracle) -> list[str]:
    """Return the statements the admin sent that give grants."""
    return [
        sql
        for user, sql in server.executed
        if user == "ADMIN" and (sql.startswith("GRANT") or "grant_sys_object" in sql)
    ]


def test_an_rds_master_copies_every_kind_of_grant(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    assert not server.has_system("ADMIN", "GRANT ANY ROLE")
    assert not server.has_system("ADMIN", "GRANT ANY PRIVILEGE")
    server.users["ADMIN"].objects[("EXECUTE", "SYS", "DBMS_LOCK")] = True  # WITH GRANT OPTION
    server.users["APP"] = OracleUser(
        "Old-pw-1",
        roles={"CONNECT": False, "APP_READER": True},  # the master holds both WITH ADMIN OPTION
        system={"CREATE TABLE": True},  # through the DBA role, WITH ADMIN OPTION
        objects={("SELECT", "APP", "ITEMS"): True,  # GRANT ANY OBJECT PRIVILEGE
                 ("SELECT", "SYS", "V_$SESSION"): False,  # SELECT_CATALOG_ROLE WITH ADMIN
                 ("EXECUTE", "SYS", "DBMS_LOCK"): False},  # the master's own WITH GRANT OPTION
    )  # fmt: skip
    handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    assert server.privileges("APP_CLONE") == server.privileges("APP")
    assert server.can_login("app_CLONE", "Clone-pw-1")
    sent = master_grants(server)
    assert 'GRANT EXECUTE ON "SYS"."DBMS_LOCK" TO "APP_CLONE"' in sent
    assert (
        sent.count(
            "BEGIN rdsadmin.rdsadmin_util.grant_sys_object(p_obj_name => :obj_name, "
            "p_grantee => :grantee, p_privilege => :privilege); END;"
        )
        == 1
    )
    assert not any("V_$SESSION" in sql for sql in sent)  # a bind variable, not SQL text


def test_a_sys_object_grant_with_grant_option_goes_through_grant_sys_object(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    server.users["APP"].objects[("SELECT", "SYS", "V_$SESSION")] = True
    handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    assert server.users["APP_CLONE"].objects[("SELECT", "SYS", "V_$SESSION")] is True
    assert any("p_grant_option => TRUE" in sql for sql in master_grants(server))


def test_grants_the_master_cannot_give_are_refused_by_name_before_any_change(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    """AWS's function skips the rest of a grant kind after the first failure; we name them all."""
    server, _ = oracle_fake
    server.roles["OTHER_ROLE"] = OracleRole()
    server.users["ADMIN"].roles["OTHER_ROLE"] = False  # held, but without ADMIN OPTION
    add_user(server, "APP")
    app = server.users["APP"]
    app.roles["OTHER_ROLE"] = False
    app.system["ALTER SYSTEM"] = False  # not in RDS's DBA role
    app.objects[("EXECUTE", "SYS", "DBMS_LOCK")] = False  # the master holds no such privilege
    with pytest.raises(UserManagementError) as raised:
        handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    message = str(raised.value)
    assert "cannot give the clone 3 grant(s) of user 'app'" in message
    assert 'GRANT "OTHER_ROLE" TO "APP" (needs role "OTHER_ROLE" WITH ADMIN OPTION' in message
    assert 'GRANT ALTER SYSTEM TO "APP" (needs ALTER SYSTEM WITH ADMIN OPTION' in message
    assert 'GRANT EXECUTE ON "SYS"."DBMS_LOCK" TO "APP" (a SYS object' in message
    assert "Clone-pw-1" not in message
    assert "APP_CLONE" not in server.users
    assert server.changes == []


def test_a_refused_refresh_leaves_the_existing_clone_unchanged(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    server.users["APP"].system["ALTER SYSTEM"] = False  # the original gained a grant since
    server.changes.clear()
    with pytest.raises(UserManagementError, match="ALTER SYSTEM"):
        handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-2")
    assert server.changes == []
    assert server.can_login("app_CLONE", "Clone-pw-1")


def test_a_grant_the_clone_already_has_needs_no_authority(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    server.users["APP"].system["ALTER SYSTEM"] = False
    add_user(server, "APP_CLONE", "x")
    server.users["APP_CLONE"].system["ALTER SYSTEM"] = False  # given earlier by someone else
    handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    assert server.privileges("APP_CLONE") == server.privileges("APP")


def test_without_rdsadmin_a_sys_object_grant_needs_grant_option(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    """Oracle outside RDS: no grant_sys_object; a privilege held WITH GRANT OPTION still works."""
    server, _ = oracle_fake
    server.rdsadmin = False
    add_user(server, "APP")
    server.users["APP"].objects[("SELECT", "SYS", "V_$SESSION")] = False
    with pytest.raises(UserManagementError, match=r"V_\$SESSION.*a SYS object"):
        handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    assert server.changes == []
    server.users["ADMIN"].objects[("SELECT", "SYS", "V_$SESSION")] = True
    handler.create_user_like(session(server, *ADMIN), "app_CLONE", "app", "Clone-pw-1")
    assert server.privileges("APP_CLONE") == server.privileges("APP")


def test_an_admin_with_the_grant_any_privileges_copies_without_options(
    handler: OracleHandler, oracle_fake: Fake
) -> None:
    """A self-managed Oracle admin with GRANT ANY ROLE/PRIVILEGE needs no ADMIN OPTION."""
    server, _ = oracle_fake
    server.roles["OTHER_ROLE"] = OracleRole()
    server.users["SUPER"] = OracleUser(
        "Super-pw-1", roles={"CONNECT": False, "SELECT_CATALOG_ROLE": False},
        system=dict.fromkeys(("CREATE USER", "ALTER USER", "GRANT ANY ROLE",
                              "GRANT ANY PRIVILEGE", "GRANT ANY OBJECT PRIVILEGE"), False),
    )  # fmt: skip
    add_user(server, "APP")
    server.users["APP"].roles["OTHER_ROLE"] = True
    server.users["APP"].system["ALTER SYSTEM"] = False
    handler.create_user_like(session(server, "super", "Super-pw-1"), "app_CLONE", "app", "C-pw-1")
    assert server.privileges("APP_CLONE") == server.privileges("APP")


def test_the_servers_name_limit_is_checked_before_any_change(oracle_fake: Fake) -> None:
    server, ca_path = oracle_fake
    server.name_limit = 30  # Oracle 12.1 and older
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        scenario = Scenario(OracleBackend(server, ca_path), client, "a" * 25).with_admin()
        with pytest.raises(UsernameTooLongError, match="allows 30"):
            driver.rotate(scenario.handler("alternating"), client, scenario.arn)
    assert "A" * 25 + "_CLONE" not in server.users


class StubCursor:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows, self.description = rows, [("C",)]

    def execute(self, sql: str, params: Any = None) -> None:
        pass

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def close(self) -> None:
        pass


class StubConnection:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def cursor(self) -> StubCursor:
        return StubCursor(self.rows)


@pytest.mark.parametrize("value", ['"A"B"', "A", '""', None, '"A'])
def test_a_malformed_enquote_answer_is_refused(handler: OracleHandler, value: Any) -> None:
    with pytest.raises(UserManagementError, match="ENQUOTE_NAME"):
        handler.enquote(StubConnection([(value,)]), "a")


def test_granted_ddl_fetched_as_text_instead_of_a_lob_is_read(handler: OracleHandler) -> None:
    conn = StubConnection([('\n  GRANT "CONNECT" TO "A"\n',)])
    assert handler._grants(conn, '"A"') == [
        (kind, 'GRANT "CONNECT" TO "A"') for kind in ("ROLE_GRANT", "SYSTEM_GRANT", "OBJECT_GRANT")
    ]


# -- the fake itself ----------------------------------------------------------------------


def test_the_fake_rejects_wrong_passwords_like_the_driver(oracle_fake: Fake) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    with pytest.raises(oracledb.DatabaseError) as raised:
        session(server, "app", "wrong")
    assert raised.value.args[0].full_code == "ORA-01017"
    assert server.failed_logins == 1
    assert session(server, '"APP"', "Old-pw-1").user == "APP"


def test_the_fake_enforces_privileges_and_replace(oracle_fake: Fake) -> None:
    server, _ = oracle_fake
    add_user(server, "APP", verify_function=True)
    add_user(server, "OTHER")
    cursor = session(server, "app", "Old-pw-1").cursor()
    for sql, code in [('ALTER USER "OTHER" IDENTIFIED BY "x"', 1031),
                      ('CREATE USER "NEW" IDENTIFIED BY "x"', 1031),
                      ('ALTER USER "APP" IDENTIFIED BY "x"', 28221),
                      ('ALTER USER "APP" IDENTIFIED BY "x" REPLACE "bad"', 28008),
                      ('GRANT "CONNECT" TO "OTHER"', 1932)]:  # fmt: skip
        with pytest.raises(oracledb.DatabaseError) as raised:
            cursor.execute(sql)
        assert raised.value.args[0].code == code, sql


@pytest.mark.parametrize(
    ("name", "expected"),
    [("app", '"APP"'), ('"app"', '"app"'), ("o'brien", '"O\'BRIEN"'), ("a b", '"A B"')],
)
def test_the_fake_enquote_name_follows_oracle(oracle_fake: Fake, name: str, expected: str) -> None:
    server, _ = oracle_fake
    cursor = session(server, *ADMIN).cursor()
    cursor.execute("SELECT SYS.DBMS_ASSERT.ENQUOTE_NAME(:name) FROM DUAL", (name,))
    assert cursor.fetchall() == [(expected,)]


@pytest.mark.parametrize("name", ['dq"uote', '"open', '"a"b"'])
def test_the_fake_enquote_name_rejects_embedded_quotes(oracle_fake: Fake, name: str) -> None:
    server, _ = oracle_fake
    cursor = session(server, *ADMIN).cursor()
    with pytest.raises(oracledb.DatabaseError, match="ORA-44003"):
        cursor.execute("SELECT SYS.DBMS_ASSERT.ENQUOTE_NAME(:name) FROM DUAL", (name,))


@pytest.mark.parametrize(
    "sql",
    ["SELECT 2 FROM DUAL", "ALTER USER APP IDENTIFIED BY x", 'DROP USER "APP"',
     'GRANT "CONNECT" TO "APP"; DROP USER "X"'],
)  # fmt: skip
def test_the_fake_refuses_statements_the_engine_never_sends(oracle_fake: Fake, sql: str) -> None:
    server, _ = oracle_fake
    with pytest.raises(UnexpectedStatementError):
        session(server, *ADMIN).cursor().execute(sql)


def test_the_fake_keeps_grant_any_object_privilege_off_sys_objects(oracle_fake: Fake) -> None:
    """GRANT: "ANY system privileges ... will not work on SYS objects" (19c sqlrf GRANT)."""
    server, _ = oracle_fake
    add_user(server, "APP")
    cursor = session(server, *ADMIN).cursor()
    cursor.execute('GRANT SELECT ON "APP"."ITEMS" TO "APP"')  # GRANT ANY OBJECT PRIVILEGE
    with pytest.raises(oracledb.DatabaseError, match="ORA-01031"):
        cursor.execute('GRANT SELECT ON "SYS"."V_$SESSION" TO "APP"')
    server.users["ADMIN"].objects[("SELECT", "SYS", "V_$SESSION")] = True
    cursor.execute('GRANT SELECT ON "SYS"."V_$SESSION" TO "APP"')  # WITH GRANT OPTION
    assert server.users["APP"].objects[("SELECT", "SYS", "V_$SESSION")] is False


def test_the_fake_honours_admin_option_through_roles(oracle_fake: Fake) -> None:
    server, _ = oracle_fake
    add_user(server, "APP")
    server.roles["OTHER_ROLE"] = OracleRole()
    cursor = session(server, *ADMIN).cursor()
    cursor.execute('GRANT CREATE TABLE TO "APP"')  # DBA role, WITH ADMIN OPTION
    for sql, code in [('GRANT ALTER SYSTEM TO "APP"', 1031),
                      ('GRANT "OTHER_ROLE" TO "APP"', 1932),
                      ('GRANT "DBA" TO "APP"', 1932)]:  # fmt: skip
        with pytest.raises(oracledb.DatabaseError) as raised:
            cursor.execute(sql)
        assert raised.value.args[0].code == code, sql
    server.roles["DBA"].roles["OTHER_ROLE"] = True  # now through an enabled role
    cursor.execute('GRANT "OTHER_ROLE" TO "APP"')
    assert "OTHER_ROLE" in server.users["APP"].roles


def test_the_fake_grant_sys_object_follows_the_rds_rules(oracle_fake: Fake) -> None:
    """grant_sys_object: held WITH GRANT OPTION or through a role granted WITH ADMIN OPTION."""
    server, _ = oracle_fake
    add_user(server, "APP")
    call = (
        "BEGIN rdsadmin.rdsadmin_util.grant_sys_object(p_obj_name => :obj_name, "
        "p_grantee => :grantee, p_privilege => :privilege); END;"
    )
    cursor = session(server, *ADMIN).cursor()
    cursor.execute(call, ("V_$SESSION", "APP", "SELECT"))  # SELECT_CATALOG_ROLE WITH ADMIN
    assert ("SELECT", "SYS", "V_$SESSION") in server.users["APP"].objects
    server.users["ADMIN"].roles["SELECT_CATALOG_ROLE"] = False
    for binds, code in [(("V_$SESSION", "APP", "SELECT"), 1031),
                        (("DBMS_LOCK", "APP", "EXECUTE"), 1031),
                        (("NO_SUCH", "APP", "SELECT"), 942)]:  # fmt: skip
        with pytest.raises(oracledb.DatabaseError) as raised:
            cursor.execute(call, binds)
        assert raised.value.args[0].code == code, binds
    server.rdsadmin = False
    with pytest.raises(oracledb.DatabaseError, match="PLS-00201"):
        cursor.execute(call, ("V_$SESSION", "APP", "SELECT"))
