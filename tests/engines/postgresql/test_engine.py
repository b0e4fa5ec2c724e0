"""PostgreSQL engine behaviour on the real server beyond the conformance suite."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rotation.core.errors import UserManagementError
from rotation.core.secret import DatabaseSecret
from rotation.engines.postgresql import PostgreSQLHandler
from rotation.local import driver
from rotation.local import secretsmanager as sm
from tests.engines.postgresql.backend import PostgreSQLBackend
from tests.engines.support import admin_secret


def test_driver_errors_are_wrapped_without_sql_or_password(
    pg: PostgreSQLBackend, client: Any
) -> None:
    """An admin without CREATEROLE: the statement fails, the error names only the action."""
    password = "Weak-admin-password-1"
    pg.create_user("weakadmin", password)
    try:
        handler = PostgreSQLHandler(settings=pg.settings(), client=client)
        secret = DatabaseSecret.parse(
            {
                "engine": "postgres",
                **pg.connection_fields(),
                "username": "weakadmin",
                "password": password,
            },
            PostgreSQLHandler,
        )
        with handler.connect(secret) as conn, pytest.raises(UserManagementError) as caught:
            handler.create_user_like(conn, "victim_clone", "weakadmin", "New-password-123")
        message = str(caught.value)
        assert message.startswith("CREATE ROLE failed: 42501")
        assert "New-password-123" not in message
        assert "SCRAM" not in message
        assert 'CREATE ROLE "' not in message
        assert caught.value.__cause__ is not None
    finally:
        pg.drop_user("weakadmin")


def test_postgresql_statement_log_never_sees_a_plain_password(
    pg: PostgreSQLBackend, client: Any
) -> None:
    pg.create_user("logged", "Initial-password-1")
    try:
        value = {
            "engine": "postgres",
            **pg.connection_fields(),
            "username": "logged",
            "password": "Initial-password-1",
        }
        arn = client.create_secret(Name="logged", SecretString=json.dumps(value))["ARN"]
        driver.rotate(PostgreSQLHandler(settings=pg.settings(), client=client), client, arn)
        new_password = json.loads(sm.value_at(client, arn, "AWSCURRENT"))["password"]
        log = pg.server.owner.log_text() if pg.server.owner else ""
        if not log:
            pytest.skip("the server log is not readable (external server)")
        assert 'ALTER ROLE "logged" WITH PASSWORD \'SCRAM-SHA-256$4096:' in log
        assert new_password not in log
    finally:
        pg.drop_user("logged")


def test_postgresql_statements_quote_hostile_names(pg: PostgreSQLBackend, client: Any) -> None:
    handler = PostgreSQLHandler(settings=pg.settings(), client=client)
    with handler.connect(admin_secret(pg, PostgreSQLHandler)) as conn:
        text = handler.alter_password_statement('a"b; DROP ROLE x', "pw'1").sql.as_string(conn)
        grant = handler.grant_membership_statement('o"rig', "c'lone").sql.as_string(conn)
    assert text.startswith('ALTER ROLE "a""b; DROP ROLE x" WITH PASSWORD \'SCRAM-SHA-256$')
    assert grant == 'GRANT "o""rig" TO "c\'lone"'
