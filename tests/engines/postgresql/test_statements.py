"""PostgreSQL statements and the SCRAM verifier, without a server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from psycopg2 import sql

from rotation.engines.postgresql import PostgreSQLHandler
from rotation.engines.postgresql.statements import scram_sha256_verifier

VERIFIER = re.compile(
    r"^SCRAM-SHA-256\$4096:([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$"
)


def test_verifier_format_and_keys() -> None:
    salt = b"0123456789abcdef"
    match = VERIFIER.match(scram_sha256_verifier("pencil", salt))
    assert match
    assert base64.b64decode(match.group(1)) == salt
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", salt, 4096)
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    assert base64.b64decode(match.group(3)) == server_key
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    assert base64.b64decode(match.group(2)) == hashlib.sha256(client_key).digest()


def test_each_verifier_has_a_fresh_salt() -> None:
    assert scram_sha256_verifier("same") != scram_sha256_verifier("same")


def test_password_is_sent_as_a_verifier_not_as_text() -> None:
    handler = PostgreSQLHandler.__new__(PostgreSQLHandler)
    statement = handler.alter_password_statement('a"b', "Plain-password-1")
    parts = statement.sql.seq
    assert parts[0] == sql.SQL("ALTER ROLE ")
    assert parts[1] == sql.Identifier('a"b')
    literal = parts[3]
    assert isinstance(literal, sql.Literal)
    assert VERIFIER.match(literal.wrapped)
    assert "Plain-password-1" not in repr(statement)


def test_non_ascii_passwords_fall_back_to_the_literal() -> None:
    handler = PostgreSQLHandler.__new__(PostgreSQLHandler)
    assert handler.password_literal("u", "pässword") == sql.Literal("pässword")


def test_clone_statements() -> None:
    handler = PostgreSQLHandler.__new__(PostgreSQLHandler)
    create = handler.create_login_statement("app_clone", "pw-123456").sql.seq
    assert create[0] == sql.SQL("CREATE ROLE ")
    assert create[1] == sql.Identifier("app_clone")
    grant = handler.grant_membership_statement("app", "app_clone").sql.seq
    assert grant == [
        sql.SQL("GRANT "),
        sql.Identifier("app"),
        sql.SQL(" TO "),
        sql.Identifier("app_clone"),
    ]
    lookup = handler.membership_statement("app", "app_clone")
    assert lookup.params == ("app", "app_clone")
