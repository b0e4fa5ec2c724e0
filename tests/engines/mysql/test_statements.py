"""MySQL and MariaDB statements, rendered without a server for each server version."""

from __future__ import annotations

import pytest

from rotation.core.errors import UserManagementError
from rotation.engines.mariadb import MariaDBHandler
from rotation.engines.mysql import MySQLHandler
from rotation.engines.mysql.account import Account
from rotation.engines.mysql.version import parse_server_version

MYSQL_57 = parse_server_version("5.7.44")
MYSQL_80_12 = parse_server_version("8.0.12")
MYSQL_80 = parse_server_version("8.0.36")
MYSQL_84 = parse_server_version("8.4.3")
AURORA_3 = parse_server_version("8.0.32")
MARIADB = parse_server_version("5.5.5-10.11.19-MariaDB-0+deb12u1")
HANDLER = MySQLHandler.__new__(MySQLHandler)


def native(host: str = "%") -> Account:
    return Account(host, {"plugin": "mysql_native_password"})


@pytest.mark.parametrize("server", [MYSQL_80, MYSQL_84, AURORA_3])
def test_own_password_on_8_0_13_and_later_sends_replace_and_no_plugin_clause(
    server: object,
) -> None:
    """Without REPLACE, password_require_current refuses the change (error 3892, transcript
    MISSING_CURRENT). Before: IDENTIFIED WITH <plugin>, which MySQL accepts on one's own account
    only with CREATE USER (sql/sql_parse.cc), so an application user's change failed with 1227;
    ALTER USER without WITH keeps the account's plugin (sql/auth/sql_user.cc)."""
    statement = HANDLER.own_password_statement(server, "new", "old")  # type: ignore[arg-type]
    assert statement.sql == "ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s"
    assert statement.params == ("new", "old")
    assert "WITH" not in statement.sql


@pytest.mark.parametrize("server", [MYSQL_57, MYSQL_80_12])
def test_own_password_before_8_0_13_has_no_replace(server: object) -> None:
    statement = HANDLER.own_password_statement(server, "new", "old")  # type: ignore[arg-type]
    assert statement.sql == "ALTER USER CURRENT_USER() IDENTIFIED BY %s"
    assert statement.params == ("new",)


def test_own_password_on_old_or_mariadb_servers() -> None:
    for server in (parse_server_version("5.6.51"), MARIADB):
        statement = HANDLER.own_password_statement(server, "new", "old")
        assert (statement.sql, statement.params) == ("SET PASSWORD = PASSWORD(%s)", ("new",))
    maria = MariaDBHandler.__new__(MariaDBHandler).own_password_statement(MARIADB, "pw", "old")
    assert maria.sql == "SET PASSWORD = PASSWORD(%s)"


def test_retain_current_password_renders_for_dual_password_servers_only() -> None:
    """The retain strategy's own statement: ALTER USER ... REPLACE ... RETAIN (8.0.14+), without
    WITH, which would need CREATE USER besides APPLICATION_PASSWORD_ADMIN (sql/sql_parse.cc)."""
    statement = HANDLER.own_password_statement(MYSQL_80, "new", "old", retain=True)
    assert statement.sql == (
        "ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s RETAIN CURRENT PASSWORD"
    )
    assert statement.params == ("new", "old")
    for server in (parse_server_version("8.0.13"), MYSQL_57, MARIADB):
        with pytest.raises(UserManagementError, match="dual passwords"):
            HANDLER.own_password_statement(server, "new", "old", retain=True)


def test_the_admins_dual_password_statements_bind_every_name_and_password() -> None:
    retain = HANDLER.retain_password_statement("o'brien", "10.%", "p'w")
    assert retain.sql == "ALTER USER %s@%s IDENTIFIED BY %s RETAIN CURRENT PASSWORD"
    assert retain.params == ("o'brien", "10.%", "p'w")
    primary = HANDLER.primary_password_statement("o'brien", "10.%", "p'w")
    assert (primary.sql, primary.params) == ("ALTER USER %s@%s IDENTIFIED BY %s",
                                             ("o'brien", "10.%", "p'w"))  # fmt: skip
    discard = HANDLER.discard_old_password_statement(("o'brien", "10.%"))
    assert (discard.sql, discard.params) == ("ALTER USER %s@%s DISCARD OLD PASSWORD",
                                             ("o'brien", "10.%"))  # fmt: skip
    own = HANDLER.discard_old_password_statement(None)
    assert (own.sql, own.params) == ("ALTER USER CURRENT_USER() DISCARD OLD PASSWORD", None)
    assert "p'w" not in repr(retain) + repr(primary)


def test_session_mode_turns_ansi_quotes_off() -> None:
    no_auto = "NO_AUTO_CREATE_USER"
    for server, mode in ((MYSQL_80, ""), (MYSQL_57, no_auto), (MARIADB, no_auto)):
        statement = HANDLER.session_mode_statement(server)
        assert (statement.sql, statement.params) == ("SET SESSION sql_mode = %s", (mode,))


def test_create_user_copies_the_plugin_and_options_in_one_statement() -> None:
    account = Account(
        "10.0.0.%",
        {"plugin": "mysql_native_password", "ssl_type": "ANY", "ssl_cipher": "",
         "x509_issuer": "", "x509_subject": "", "max_questions": 0, "max_updates": 0,
         "max_connections": 0, "max_user_connections": 5, "password_lifetime": None,
         "account_locked": "N", "password_reuse_history": 3, "password_reuse_time": None,
         "password_require_current": "Y"},
        {"failed_login_attempts": 3, "password_lock_time_days": 2},
    )  # fmt: skip
    statement = HANDLER.create_user_statement(
        "o'brien_clone", "10.0.0.%", "p'w%", account, MYSQL_84
    )
    assert statement.sql == (
        "CREATE USER %s@%s IDENTIFIED WITH %s BY %s REQUIRE SSL WITH MAX_QUERIES_PER_HOUR %s "
        "MAX_UPDATES_PER_HOUR %s MAX_CONNECTIONS_PER_HOUR %s MAX_USER_CONNECTIONS %s PASSWORD "
        "EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY %s PASSWORD REUSE INTERVAL DEFAULT "
        "PASSWORD REQUIRE CURRENT FAILED_LOGIN_ATTEMPTS %s PASSWORD_LOCK_TIME %s"
    )
    assert statement.params == (
        "o'brien_clone", "10.0.0.%", "mysql_native_password", "p'w%", 0, 0, 0, 5, 3, 3, 2
    )  # fmt: skip
    assert "o'brien" not in statement.sql
    assert "p'w%" not in statement.sql
    assert repr(statement) == "Statement(action='CREATE USER')"


def test_a_password_is_set_apart_from_the_options() -> None:
    """So that a retry never sends the same password twice to a server with a password history."""
    account = Account("%", {"plugin": "caching_sha2_password", "account_locked": "Y",
                            "password_lifetime": 0})  # fmt: skip
    password = HANDLER.set_password_statement("app_clone", "%", "pw", account, MYSQL_80)
    assert (password.sql, password.params) == (
        "ALTER USER %s@%s IDENTIFIED WITH %s BY %s",
        ("app_clone", "%", "caching_sha2_password", "pw"),
    )
    options = HANDLER.account_options_statement("app_clone", "%", account, MYSQL_80)
    assert options is not None
    assert (options.sql, options.params) == (
        "ALTER USER %s@%s PASSWORD EXPIRE NEVER ACCOUNT LOCK",
        ("app_clone", "%"),
    )
    assert (
        HANDLER.account_options_statement("a", "%", Account("%", {"plugin": "x"}), MYSQL_80) is None
    )


def test_mariadb_accounts_get_no_plugin_clause() -> None:
    columns = {"plugin": "mysql_native_password", "ssl_type": "", "ssl_cipher": "",
               "x509_issuer": "", "x509_subject": "", "max_user_connections": 3}  # fmt: skip
    account = Account("%", columns)
    statement = HANDLER.create_user_statement("u", "%", "pw", account, MARIADB)
    assert statement.sql == (
        "CREATE USER %s@%s IDENTIFIED BY %s REQUIRE NONE WITH MAX_USER_CONNECTIONS %s"
    )
    assert statement.params == ("u", "%", "pw", 3)


def test_an_account_without_a_password_plugin_is_refused() -> None:
    account = Account("%", {"plugin": "AWSAuthenticationPlugin"})
    with pytest.raises(UserManagementError, match="AWSAuthenticationPlugin"):
        HANDLER.create_user_statement("u", "%", "pw", account, AURORA_3)


def test_default_roles_statements() -> None:
    query = HANDLER.default_roles_statement("joe", "localhost")
    assert "mysql.default_roles" in query.sql
    assert query.params == ("joe", "localhost")
    roles = [("wp_administrators", "%"), ("o'r", "h")]
    statement = HANDLER.set_default_roles_statement("joe_clone", "localhost", roles)
    assert statement.sql == "ALTER USER %s@%s DEFAULT ROLE %s@%s, %s@%s"
    assert statement.params == ("joe_clone", "localhost", "wp_administrators", "%", "o'r", "h")
    none = HANDLER.set_default_roles_statement("joe_clone", "localhost", [])
    assert none.sql == "ALTER USER %s@%s DEFAULT ROLE NONE"


def test_statement_repr_hides_sql_and_parameters() -> None:
    statement = HANDLER.set_password_statement("u", "%", "Secret-pw-1", native(), MYSQL_80)
    assert "Secret-pw-1" not in repr(statement)
