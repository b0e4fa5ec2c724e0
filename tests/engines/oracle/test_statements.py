"""The Oracle engine's statements as rendered text, without any server (pure functions)."""

from __future__ import annotations

import pytest

from rotation.core.errors import SecretFormatError, UserManagementError
from rotation.engines.oracle import OracleHandler
from rotation.engines.oracle.statements import quote_password, readdress_grant, split_ddl

HOSTILE_NAMES = ["o'brien", "back\\slash", "per%cent", "semi;colon; DROP USER x", "with space",
                 "ünïcødé", "{brace}", ":name"]  # fmt: skip
HOSTILE_PASSWORDS = ["p'w;--", "back\\slash\\", "100%_{}:name", "with space ", "ünï€", "&amp;#"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_are_quoted_by_the_server_through_a_bind_variable(
    handler: OracleHandler, name: str
) -> None:
    statement = handler.enquote_statement(name)
    assert statement.sql == "SELECT SYS.DBMS_ASSERT.ENQUOTE_NAME(:name) FROM DUAL"
    assert statement.params == (name,)


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_alter_user_quotes_the_password_as_an_identifier(
    handler: OracleHandler, password: str
) -> None:
    statement = handler.alter_password_statement('"O\'BRIEN"', password)
    assert statement.sql == f'ALTER USER "O\'BRIEN" IDENTIFIED BY "{password}"'
    assert statement.params is None
    assert password not in repr(statement)


def test_alter_own_password_names_the_old_one(handler: OracleHandler) -> None:
    statement = handler.alter_password_statement('"APP"', "new;pw", "old'pw")
    assert statement.sql == 'ALTER USER "APP" IDENTIFIED BY "new;pw" REPLACE "old\'pw"'


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_create_user(handler: OracleHandler, password: str) -> None:
    statement = handler.create_user_statement('"WITH SPACE_CLONE"', password)
    assert statement.sql == f'CREATE USER "WITH SPACE_CLONE" IDENTIFIED BY "{password}"'


@pytest.mark.parametrize("password", ['pa"ss', '"', "nul\x00byte", 'x"; DROP USER y; --'])
def test_passwords_oracle_cannot_hold_are_refused_not_altered(
    handler: OracleHandler, password: str
) -> None:
    with pytest.raises(SecretFormatError) as raised:
        quote_password(password)
    assert password not in str(raised.value)
    with pytest.raises(SecretFormatError):
        handler.alter_password_statement('"APP"', password)
    with pytest.raises(SecretFormatError):
        handler.alter_password_statement('"APP"', "Good-one-1", password)
    with pytest.raises(SecretFormatError):
        handler.create_user_statement('"APP"', password)


def test_lookups_bind_the_dictionary_name(handler: OracleHandler) -> None:
    exists = handler.user_exists_statement('"semi;colon"')
    assert exists.sql == "SELECT 1 FROM SYS.ALL_USERS WHERE USERNAME = :name"
    assert exists.params == ("semi;colon",)
    ddl = handler.granted_ddl_statement("OBJECT_GRANT", '"O\'BRIEN"')
    assert ddl.sql == "SELECT SYS.DBMS_METADATA.GET_GRANTED_DDL(:kind, :grantee) FROM DUAL"
    assert ddl.params == ("OBJECT_GRANT", "O'BRIEN")
    assert "ALL_TAB_COLUMNS" in handler.username_limit_statement().sql


def test_split_ddl_keeps_newlines_inside_quoted_names() -> None:
    clob = '\n  GRANT "CONNECT" TO "A"\n\n  GRANT SELECT ON "APP"."odd\n name" TO "A"\n'
    assert split_ddl(clob) == [
        'GRANT "CONNECT" TO "A"',
        'GRANT SELECT ON "APP"."odd\n name" TO "A"',
    ]
    assert split_ddl("") == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('GRANT "CONNECT" TO "APP"', 'GRANT "CONNECT" TO "APP_CLONE"'),
        ('GRANT "DBA" TO "APP" WITH ADMIN OPTION', 'GRANT "DBA" TO "APP_CLONE" WITH ADMIN OPTION'),
        ("GRANT CREATE SESSION TO \"APP\"", "GRANT CREATE SESSION TO \"APP_CLONE\""),
        # The original's name as an object owner is not the grantee and stays.
        ('GRANT SELECT ON "APP"."T" TO "APP" WITH GRANT OPTION',
         'GRANT SELECT ON "APP"."T" TO "APP_CLONE" WITH GRANT OPTION'),
        ('GRANT SELECT ON "APP"."T TO APP" TO "APP"',
         'GRANT SELECT ON "APP"."T TO APP" TO "APP_CLONE"'),
    ],
)  # fmt: skip
def test_grants_are_readdressed_to_the_clone(line: str, expected: str) -> None:
    assert readdress_grant(line, '"APP"', '"APP_CLONE"') == expected


@pytest.mark.parametrize(
    "line",
    ['REVOKE "CONNECT" FROM "APP"', 'GRANT "CONNECT" TO "OTHER"', 'GRANT "R" TO "APP" DROP',
     'GRANT "R" TO "XAPP"'],
)  # fmt: skip
def test_unexpected_ddl_is_refused(line: str) -> None:
    with pytest.raises(UserManagementError):
        readdress_grant(line, '"APP"', '"APP_CLONE"')
