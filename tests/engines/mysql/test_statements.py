"""MySQL and MariaDB statements, rendered without a server."""

from __future__ import annotations

import pytest

from rotation.engines.mariadb import MariaDBHandler
from rotation.engines.mysql import MySQLHandler
from rotation.engines.mysql.statements import grantee, quote_name, readdress_grant

HOSTILE = ["o'brien", "bq`tick", "back\\slash", "per%cent", "semi;colon", "with space", "ünï"]


@pytest.mark.parametrize("name", HOSTILE)
def test_quote_name_doubles_backticks_only(name: str) -> None:
    quoted = quote_name(name)
    assert quoted[0] == quoted[-1] == "`"
    assert quoted[1:-1].replace("``", "`") == name


@pytest.mark.parametrize("name", HOSTILE)
def test_grant_lines_are_readdressed_to_the_clone(name: str) -> None:
    source, target = grantee(name, "%"), grantee(name + "_clone", "%")
    line = f"GRANT SELECT, INSERT ON `appdb`.* TO {source} WITH GRANT OPTION"
    assert readdress_grant(line, source, target) == (
        f"GRANT SELECT, INSERT ON `appdb`.* TO {target} WITH GRANT OPTION"
    )


def test_role_and_default_role_lines_are_readdressed() -> None:
    source, target = grantee("app", "%"), grantee("app_clone", "%")
    assert (
        readdress_grant(f"GRANT `reader` TO {source}", source, target)
        == f"GRANT `reader` TO {target}"
    )
    assert (
        readdress_grant(f"SET DEFAULT ROLE `reader` FOR {source}", source, target)
        == f"SET DEFAULT ROLE `reader` FOR {target}"
    )


def test_the_password_hash_is_never_replayed() -> None:
    source, target = grantee("app", "%"), grantee("app_clone", "%")
    line = (
        f"GRANT USAGE ON *.* TO {source} IDENTIFIED BY PASSWORD '*0D3CED9BEC10A777AEC23CCC353A8C0'"
    )
    assert readdress_grant(line, source, target) == f"GRANT USAGE ON *.* TO {target}"
    with_option = line + " WITH GRANT OPTION"
    assert readdress_grant(with_option, source, target) == (
        f"GRANT USAGE ON *.* TO {target} WITH GRANT OPTION"
    )


def test_a_grantee_named_inside_an_object_name_is_not_rewritten() -> None:
    """Only the grantee at the end is replaced, not a same-named table earlier in the line."""
    source, target = grantee("app", "%"), grantee("app_clone", "%")
    line = f"GRANT SELECT ON `db`.`TO {source}` TO {source}"
    assert (
        readdress_grant(line, source, target) == f"GRANT SELECT ON `db`.`TO {source}` TO {target}"
    )


def test_lines_for_someone_else_are_skipped() -> None:
    assert (
        readdress_grant(
            "GRANT SELECT ON *.* TO `other`@`%`", grantee("app", "%"), grantee("app_clone", "%")
        )
        is None
    )


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
    assert MySQLHandler.require_clause(*columns) == (clause, params)


def test_own_password_statement_follows_the_server_version() -> None:
    handler = MySQLHandler.__new__(MySQLHandler)
    modern = handler.own_password_statement((8, 0, 36), "pw")
    assert (modern.sql, modern.params) == ("ALTER USER CURRENT_USER() IDENTIFIED BY %s", ("pw",))
    old = handler.own_password_statement((5, 6, 51), "pw")
    assert (old.sql, old.params) == ("SET PASSWORD = PASSWORD(%s)", ("pw",))
    maria = MariaDBHandler.__new__(MariaDBHandler).own_password_statement((10, 11, 6), "pw")
    assert (maria.sql, maria.params) == ("SET PASSWORD = PASSWORD(%s)", ("pw",))


def test_names_and_passwords_are_parameters_never_text() -> None:
    handler = MySQLHandler.__new__(MySQLHandler)
    create = handler.create_user_statement("o'brien", "%", "p'w%")
    alter = handler.alter_user_statement("o'brien", "%", "p'w%", ("ANY", "", "", ""))
    assert "o'brien" not in create.sql
    assert "p'w%" not in create.sql
    assert create.params == ("o'brien", "%", "p'w%")
    assert alter.sql == "ALTER USER %s@%s IDENTIFIED BY %s REQUIRE SSL"
    assert "p'w%" not in repr(alter)


def test_statement_repr_hides_sql_and_parameters() -> None:
    statement = MySQLHandler.__new__(MySQLHandler).create_user_statement("u", "%", "Secret-pw-1")
    assert repr(statement) == "Statement(action='CREATE USER')"
