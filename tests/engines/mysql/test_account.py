"""Account attributes read from mysql.user and rendered as CREATE/ALTER USER options."""

from __future__ import annotations

import pytest

from rotation.engines.mysql.account import (
    Account,
    account_from_row,
    accounts_statement,
    option_clauses,
    require_clause,
)
from rotation.engines.mysql.version import parse_server_version

# The mysql.user columns of MySQL 8.0 (https://dev.mysql.com/doc/refman/8.0/en/grant-tables.html)
# that the clone copies, plus the ones it must never read.
MYSQL_80_COLUMNS = [
    "Host", "User", "plugin", "authentication_string", "ssl_type", "ssl_cipher", "x509_issuer",
    "x509_subject", "max_questions", "max_updates", "max_connections", "max_user_connections",
    "password_expired", "password_last_changed", "password_lifetime", "account_locked",
    "Password_reuse_history", "Password_reuse_time", "Password_require_current",
    "User_attributes",
]  # fmt: skip
# What MariaDB 10.11.19's mysql.user view offers of them (observed here).
MARIADB_COLUMNS = [
    "Host", "User", "Password", "ssl_type", "ssl_cipher", "x509_issuer", "x509_subject",
    "max_questions", "max_updates", "max_connections", "max_user_connections", "plugin",
    "authentication_string", "password_expired", "is_role", "default_role", "max_statement_time",
]  # fmt: skip


def test_the_query_never_selects_a_password_hash() -> None:
    """authentication_string is not read, and of User_attributes (which holds a secondary
    password, 'additional_password') only $.Password_locking is."""
    sql = accounts_statement("app", MYSQL_80_COLUMNS).sql
    assert "authentication_string" not in sql
    assert "Password`" not in sql
    assert "JSON_EXTRACT(`User_attributes`, '$.Password_locking')" in sql
    assert "`Password_reuse_history`" in sql
    maria = accounts_statement("app", MARIADB_COLUMNS).sql
    assert "password_lifetime" not in maria
    assert "User_attributes" not in maria
    assert "`max_user_connections`" in maria


def test_rows_become_accounts() -> None:
    row = ("%", "caching_sha2_password", "", "", "", "", 0, 0, 0, 2, None, "N", 5, None, "Y",
           '{"failed_login_attempts": 3, "password_lock_time_days": -1}')  # fmt: skip
    account = account_from_row(MYSQL_80_COLUMNS, row)
    assert account.host == "%"
    assert account.plugin == "caching_sha2_password"
    assert account.value("Password_reuse_history") == 5
    assert account.locking == {"failed_login_attempts": 3, "password_lock_time_days": -1}
    sql, params = option_clauses(account, parse_server_version("8.0.36"))
    assert sql.endswith(
        "PASSWORD HISTORY %s PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT "
        "FAILED_LOGIN_ATTEMPTS %s PASSWORD_LOCK_TIME UNBOUNDED"
    )
    assert params[-2:] == [5, 3]


def test_no_locking_attribute_means_zero_and_old_servers_get_no_locking_clause() -> None:
    row = ("%", "mysql_native_password", "", "", "", "", 0, 0, 0, 0, 90, "N", None, None, None,
           None)  # fmt: skip
    account = account_from_row(MYSQL_80_COLUMNS, row)
    assert account.locking == {}
    sql, params = option_clauses(account, parse_server_version("8.0.36"))
    assert "PASSWORD EXPIRE INTERVAL %s DAY" in sql
    assert sql.endswith("FAILED_LOGIN_ATTEMPTS %s PASSWORD_LOCK_TIME %s")
    assert params[-2:] == [0, 0]
    older, _ = option_clauses(account, parse_server_version("8.0.18"))
    assert "FAILED_LOGIN_ATTEMPTS" not in older


@pytest.mark.parametrize(
    ("columns", "clause", "params"),
    [
        (("", "", "", ""), "REQUIRE NONE", []),
        (("ANY", "", "", ""), "REQUIRE SSL", []),
        ((b"X509", b"", b"", b""), "REQUIRE X509", []),
        (
            ("SPECIFIED", "AES256", "", "/CN=client"),
            "REQUIRE CIPHER %s AND SUBJECT %s",
            ["AES256", "/CN=client"],
        ),
    ],
)
def test_require_clause(columns: tuple[object, ...], clause: str, params: list[str]) -> None:
    assert require_clause(*columns) == (clause, params)


def test_a_locked_original_gives_a_locked_clone() -> None:
    """Copying ACCOUNT UNLOCK to a clone of a locked account would bypass an admin's lock."""
    sql, _ = option_clauses(Account("%", {"account_locked": "Y"}), parse_server_version("5.7.44"))
    assert sql == "ACCOUNT LOCK"
