"""The MySQL handler's flows on MySQL 5.7/8.x semantics, against the DB-API double in fake.py.

Every test here failed on the engine as it was before issue 14 (named in each docstring).
"""

from __future__ import annotations

import boto3
import pytest

from rotation.core.config import Settings
from rotation.core.database import Finding
from rotation.core.errors import UserManagementError
from rotation.engines.mysql import MySQLHandler
from rotation.local.mysql8 import FakeServer
from tests.engines.mysql import transcripts as t

ADMIN_GRANTS = t.RDS_MASTER_8_0_36


def handler() -> MySQLHandler:
    client = boto3.client("secretsmanager", region_name="us-east-1")  # never called here
    return MySQLHandler(settings=Settings(), client=client)


def as_template(lines: list[str], who: str) -> list[str]:
    """Store transcript lines in the fake, grantee left to the fake to spell."""
    return [line.replace(who, "<who>") for line in lines]


@pytest.fixture
def server() -> FakeServer:
    server = FakeServer("8.0.36")
    server.add("admin", password="admin-pw", grants=list(ADMIN_GRANTS), privileged=True)
    return server


def clone(server: FakeServer, user: str, host: str = "%", password: str = "Clone-pw-1") -> None:
    handler().create_user_like(server.connect("admin"), user + "_clone", user, password)


def test_a_role_users_clone_gets_its_roles_and_default_roles(server: FakeServer) -> None:
    """Before: default roles were not copied (SHOW GRANTS does not show them), so with
    activate_all_roles_on_login OFF the clone logged in with no working privileges."""
    joe = server.add("joe", "localhost", password="p", grants=as_template(t.ROLES_JOE,
                     "`joe`@`localhost`"), default_roles=[("wp_administrators", "%")])  # fmt: skip
    server.add("wp_administrators", password="", grants=["GRANT SELECT ON `test`.* TO <who>"])
    clone(server, "joe", "localhost")
    copy = server.accounts[("joe_clone", "localhost")]
    assert copy.grants == joe.grants
    assert copy.default_roles == [("wp_administrators", "%")]


def test_partial_revokes_are_copied(server: FakeServer) -> None:
    """Before: REVOKE lines were skipped and the clone kept access the original was denied."""
    foo = server.add("foo", password="p", grants=as_template(t.PARTIAL_REVOKES_FOO, "`foo`@`%`"))
    clone(server, "foo")
    assert server.grant_lines("foo_clone", "%") == [
        line.replace("`foo`@", "`foo_clone`@") for line in server.grant_lines("foo", "%")
    ]
    assert len(foo.grants) == 3


def test_a_refreshed_clone_gets_a_cleared_partial_revoke_back(server: FakeServer) -> None:
    """A GRANT ... ON *.* clears the clone's matching partial revoke (partial_revokes_add_remove
    case 1), so the revokes are compared with what the clone has after the grants."""
    revoke = "REVOKE INSERT ON `mysql`.* FROM <who>"
    server.add("bar", password="p", grants=["GRANT INSERT, SELECT ON *.* TO <who>", revoke])
    server.add("bar_clone", password="old", grants=["GRANT INSERT ON *.* TO <who>", revoke])
    clone(server, "bar")
    assert "REVOKE INSERT ON `mysql`.* FROM `bar_clone`@`%`" in server.grant_lines("bar_clone", "%")


def test_mysql_5_7_grant_lines_are_copied() -> None:
    """Before: the grantee was looked for in backticks only; 5.7 writes 'u'@'h', so every line
    was skipped and the clone had no privileges at all."""
    server = FakeServer("5.7.44", "mysql_native_password", quoted_grantee=True)
    server.add("admin", password="a", grants=list(ADMIN_GRANTS), privileged=True)
    server.add("admin2", "localhost", password="p", plugin="mysql_native_password",
               grants=as_template(t.MANUAL_5_7_ADMIN, "'admin'@'localhost'"))  # fmt: skip
    clone(server, "admin2", "localhost")
    assert server.grant_lines("admin2_clone", "localhost") == [
        "GRANT RELOAD, PROCESS ON *.* TO 'admin2_clone'@'localhost'"
    ]


def test_a_clone_under_password_history_gets_each_password_once(server: FakeServer) -> None:
    """Before: CREATE USER ... IDENTIFIED BY pw then ALTER USER ... IDENTIFIED BY pw, refused
    with 3638 on every attempt."""
    server.password_history = 5
    server.add("app", password="p", grants=["GRANT SELECT ON `appdb`.* TO <who>"])
    clone(server, "app")
    assert server.accounts[("app_clone", "%")].history == ["Clone-pw-1"]
    # A retry after a crash at the very end sends the same password again: accepted as done.
    clone(server, "app")
    assert server.accounts[("app_clone", "%")].password == "Clone-pw-1"


def test_a_missing_user_is_refused_before_any_change(server: FakeServer) -> None:
    server.add("app", password="p")
    with pytest.raises(UserManagementError, match="user 'ghost' does not exist"):
        handler().set_user_password(server.connect("admin"), "ghost", "pw")


def test_set_user_password_under_history_survives_a_retry(server: FakeServer) -> None:
    server.password_history = 3
    server.add("app", password="p", plugin="mysql_native_password")
    admin = handler()
    admin.set_user_password(server.connect("admin"), "app", "New-pw-1")
    admin.set_user_password(server.connect("admin"), "app", "New-pw-1")
    account = server.accounts[("app", "%")]
    assert (account.password, account.plugin) == ("New-pw-1", "mysql_native_password")


def test_the_clone_copies_plugin_limits_expiry_lock_and_password_policies() -> None:
    """Before: the clone got the server's default plugin (caching_sha2_password on 8.4, which
    old drivers cannot use) and none of the original's limits or policies."""
    server = FakeServer("8.4.3")
    server.add("admin", password="a", grants=list(ADMIN_GRANTS), privileged=True)
    server.add("legacy", password="p", plugin="mysql_native_password",
               options={"ssl_type": "", "ssl_cipher": "", "x509_issuer": "", "x509_subject": "",
                        "max_questions": 0, "max_updates": 0, "max_connections": 0,
                        "max_user_connections": 7, "password_lifetime": 90, "account_locked": "N",
                        "Password_reuse_history": 4, "Password_reuse_time": 30,
                        "Password_require_current": "Y"},
               locking='{"failed_login_attempts": 3, "password_lock_time_days": -1}')  # fmt: skip
    clone(server, "legacy")
    copy = server.accounts[("legacy_clone", "%")]
    assert copy.plugin == "mysql_native_password"
    assert copy.option_sql == [
        "REQUIRE NONE WITH MAX_QUERIES_PER_HOUR %s MAX_UPDATES_PER_HOUR %s "
        "MAX_CONNECTIONS_PER_HOUR %s MAX_USER_CONNECTIONS %s PASSWORD EXPIRE INTERVAL %s DAY "
        "ACCOUNT UNLOCK PASSWORD HISTORY %s PASSWORD REUSE INTERVAL %s DAY PASSWORD REQUIRE "
        "CURRENT FAILED_LOGIN_ATTEMPTS %s PASSWORD_LOCK_TIME UNBOUNDED"
    ]
    create = next(params for sql, params in server.log if sql.startswith("CREATE USER"))
    assert create == ("legacy_clone", "%", "mysql_native_password", "Clone-pw-1",
                      0, 0, 0, 7, 90, 4, 30, 3)  # fmt: skip
    assert all("authentication_string" not in sql for sql, _ in server.log)


def test_an_existing_clone_gets_the_password_then_the_options(server: FakeServer) -> None:
    server.add("app", password="p", plugin="mysql_native_password")
    server.add("app_clone", password="old", plugin="caching_sha2_password")
    clone(server, "app")
    copy = server.accounts[("app_clone", "%")]
    assert (copy.password, copy.plugin) == ("Clone-pw-1", "mysql_native_password")
    assert len(copy.option_sql) == 1
    assert copy.option_sql[0].startswith("REQUIRE NONE WITH MAX_QUERIES_PER_HOUR %s")
    assert "PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT" in copy.option_sql[0]


def test_granting_roles_without_role_admin_fails_loudly(server: FakeServer) -> None:
    """RDS for MySQL before 8.0.36 gives its master no ROLE_ADMIN: the clone must not be
    finished without the roles (rotation check reports it beforehand, see below)."""
    server.accounts[("admin", "%")].grants = list(t.RDS_MASTER_BEFORE_8_0_36)
    server.add("joe", "localhost", password="p", grants=as_template(t.ROLES_JOE,
               "`joe`@`localhost`"))  # fmt: skip
    with pytest.raises(UserManagementError, match="1227"):
        clone(server, "joe", "localhost")


def test_own_password_sends_replace_and_keeps_the_plugin(server: FakeServer) -> None:
    """Before issue 14: ALTER USER CURRENT_USER() IDENTIFIED BY pw, refused with 3892 under
    password_require_current. Then: IDENTIFIED WITH <plugin> BY pw, which MySQL refuses (1227)
    on one's own account without CREATE USER (sql/sql_parse.cc); ALTER USER without WITH keeps
    the plugin (sql/auth/sql_user.cc), so no plugin clause is needed at all."""
    server.require_current = True
    server.add("app", password="Old-pw-1", plugin="mysql_native_password")
    handler().set_password(server.connect("app"), "app", "New-pw-1", "Old-pw-1")
    account = server.accounts[("app", "%")]
    assert (account.password, account.plugin) == ("New-pw-1", "mysql_native_password")
    assert not any("WITH" in sql for sql, _ in server.log if sql.startswith("ALTER USER"))


def test_an_unreadable_server_version_changes_nothing(server: FakeServer) -> None:
    """Before: an unparsed version fell back to SET PASSWORD = PASSWORD(), removed in 8.0.11."""
    server.version = "8.x-custom"
    server.add("app", password="Old-pw-1")
    with pytest.raises(UserManagementError, match="cannot tell the server's version"):
        handler().set_password(server.connect("app"), "app", "New-pw-1", "Old-pw-1")
    assert server.accounts[("app", "%")].password == "Old-pw-1"


def findings(server: FakeServer, user: str, *, admin: bool = True) -> dict[str, Finding]:
    conn = server.connect("admin" if admin else user)
    return {f.name: f for f in handler().privilege_findings(conn, user, admin=admin)}


def test_check_reports_missing_role_admin_roles_and_default_roles(server: FakeServer) -> None:
    server.accounts[("admin", "%")].grants = list(t.RDS_MASTER_BEFORE_8_0_36)
    server.add("joe", "localhost", password="p", grants=as_template(t.ROLES_JOE,
               "`joe`@`localhost`"), default_roles=[("wp_administrators", "%")])  # fmt: skip
    found = findings(server, "joe")
    assert found["privileges: ROLE_ADMIN"].ok is False
    assert "`wp_administrators`@`%`" in found["privileges: ROLE_ADMIN"].detail
    assert "default role(s): wp_administrators@%" in found["roles"].detail
    server.accounts[("admin", "%")].grants = list(ADMIN_GRANTS)
    assert findings(server, "joe")["privileges: ROLE_ADMIN"].ok is True


def test_check_reports_partial_revokes_and_privileges_the_admin_cannot_copy(
    server: FakeServer,
) -> None:
    extra = ["GRANT BACKUP_ADMIN ON *.* TO <who>", "GRANT ALL PRIVILEGES ON `x`.* TO <who>"]
    server.add(
        "foo", password="p", grants=[*as_template(t.PARTIAL_REVOKES_FOO, "`foo`@`%`"), *extra]
    )
    server.accounts[("admin", "%")].grants = [
        "GRANT SELECT, INSERT, UPDATE, DELETE ON *.* TO <who> WITH GRANT OPTION",
        "GRANT BACKUP_ADMIN ON *.* TO <who>",  # held, but not grantable
    ]
    found = findings(server, "foo")
    assert found["partial revokes"].detail == "2 REVOKE line(s), replayed after the grants"
    copyable = found["privileges: copyable"]
    assert copyable.ok is False
    assert "BACKUP_ADMIN" in copyable.detail
    assert "CREATE VIEW" in copyable.detail  # part of ALL PRIVILEGES at database level
    assert "SELECT," not in copyable.detail
    assert found["grants: re-addressable"].ok is True


def test_check_reports_unreadable_grant_lines_and_password_policies(server: FakeServer) -> None:
    server.password_history = 5
    server.require_current = True
    server.add("odd", password="p", plugin="auth_socket",
               grants=["GRANT SELECT ON `db`.* TO 'somebody'@'%'"])  # fmt: skip
    found = findings(server, "odd")
    assert found["grants: re-addressable"].ok is False
    assert "'somebody'@'%'" in found["grants: re-addressable"].detail
    assert "auth_socket" in found["grants: re-addressable"].detail
    policy = found["password policy"].detail
    assert "password_history=5" in policy
    assert "password_require_current=ON: own changes send REPLACE" in policy
    own = findings(server, "odd", admin=False)
    assert own["server version"].detail == (
        "MySQL 8.0.36: own password with ALTER USER CURRENT_USER() ... REPLACE <current>"
    )


def test_check_reports_an_unreadable_version(server: FakeServer) -> None:
    server.version = "weird"
    assert findings(server, "admin")["server version"].ok is False
