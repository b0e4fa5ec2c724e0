"""PostgreSQL engine behaviour on the real server beyond the conformance suite."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from rotation.core.errors import UserManagementError, UsernameTooLongError
from rotation.core.log import Redactor
from rotation.core.secret import DatabaseSecret
from rotation.engines.postgresql import PostgreSQLHandler
from rotation.engines.postgresql.statements import md5_verifier
from rotation.local import driver
from rotation.local import secretsmanager as sm
from tests.engines.postgresql.backend import PostgreSQLBackend
from tests.engines.support import admin_secret, user_secret


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


# -- password_encryption -------------------------------------------------------------------


def stored_password(backend: PostgreSQLBackend, username: str) -> str:
    with backend.superuser_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (username,))
        return str(cur.fetchone()[0])


@pytest.mark.parametrize("strategy", ["single", "alternating"])
def test_md5_server_gets_md5_verifiers_salted_with_the_owning_role(
    pg_md5: PostgreSQLBackend, client: Any, strategy: str
) -> None:
    """password_encryption=md5: the server stores md5(password + role) and its log shows only it.

    md5 verifier format: https://www.postgresql.org/docs/current/catalog-pg-authid.html
    """
    name = f"md5user_{strategy}"
    pg_md5.create_user(name, "Initial-password-1")
    try:
        arn = user_secret(
            pg_md5, client, name, "Initial-password-1", alternating=strategy == "alternating"
        )
        handler = PostgreSQLHandler(strategy, settings=pg_md5.settings(), client=client)
        driver.rotate(handler, client, arn)
        current = json.loads(sm.value_at(client, arn, "AWSCURRENT"))
        role, new_password = current["username"], current["password"]
        verifier = md5_verifier(new_password, role)
        assert stored_password(pg_md5, role) == verifier
        assert pg_md5.can_login(role, new_password)
        log = pg_md5.server.owner.log_text() if pg_md5.server.owner else ""
        if not log:
            pytest.skip("the server log is not readable (external server)")
        assert f"PASSWORD '{verifier}'" in log
        assert new_password not in log
    finally:
        pg_md5.drop_user(name + "_clone")
        pg_md5.drop_user(name)


def test_scram_server_gets_scram_verifiers(pg: PostgreSQLBackend, client: Any) -> None:
    handler = PostgreSQLHandler("alternating", settings=pg.settings(), client=client)
    pg.create_user("scramuser", "Initial-password-1")
    try:
        with handler.connect(admin_secret(pg, PostgreSQLHandler)) as conn:
            assert handler.password_encryption(conn) == "scram-sha-256"
            handler.create_user_like(conn, "scramuser_clone", "scramuser", "Clone-password-1")
        assert stored_password(pg, "scramuser_clone").startswith("SCRAM-SHA-256$4096:")
        assert pg.can_login("scramuser_clone", "Clone-password-1")
    finally:
        pg.drop_user("scramuser_clone")
        pg.drop_user("scramuser")


# -- user names count in bytes --------------------------------------------------------------


def test_multibyte_name_whose_clone_exceeds_63_bytes_is_refused_before_any_change(
    pg: PostgreSQLBackend, client: Any
) -> None:
    """'é' * 29 is 58 bytes; with '_clone' 35 characters but 64 bytes, over NAMEDATALEN - 1.

    The server would truncate the clone's name with only a NOTICE
    (https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS).
    """
    name = "é" * 29
    pg.create_user(name, "Initial-password-1")
    try:
        arn = user_secret(pg, client, name, "Initial-password-1", alternating=True)
        handler = PostgreSQLHandler("alternating", settings=pg.settings(), client=client)
        token = str(uuid.uuid4())
        with pytest.raises(UsernameTooLongError, match="64 long, over the limit of 63"):
            driver.rotate(handler, client, arn, token=token)
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        with pg.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'é%'")
            assert [row[0] for row in cur.fetchall()] == [name]
    finally:
        pg.drop_user(name)


def test_multibyte_name_that_fits_gets_its_exact_clone(pg: PostgreSQLBackend, client: Any) -> None:
    """'é' * 28 + '_clone' is 62 bytes: it fits, and the server keeps every byte of it."""
    name = "é" * 28
    handler = PostgreSQLHandler("alternating", settings=pg.settings(), client=client)
    pg.create_user(name, "Initial-password-1")
    try:
        with handler.connect(admin_secret(pg, PostgreSQLHandler)) as conn:
            assert handler.username_limit(conn) == 63
            assert handler.username_length(name + "_clone") == 62
            handler.create_user_like(conn, name + "_clone", name, "Clone-password-1")
        assert pg.can_login(name + "_clone", "Clone-password-1")
    finally:
        pg.drop_user(name + "_clone")
        pg.drop_user(name)


# -- PostgreSQL 16+: a CREATEROLE admin, and the server's DETAIL in our errors ----------------


@pytest.fixture(params=["pg16", "pg18"])
def modern(request: pytest.FixtureRequest) -> PostgreSQLBackend:
    backend: PostgreSQLBackend = request.getfixturevalue(request.param)
    return backend


@pytest.mark.integration
def test_the_rds_style_admin_is_createrole_not_superuser(modern: PostgreSQLBackend) -> None:
    """As the RDS master: NOSUPERUSER CREATEROLE, member of rds_superuser (facts §2.4)."""
    assert modern.server_version() >= 160000
    with modern.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT rolsuper, rolcreaterole, pg_has_role(current_user, 'rds_superuser', 'MEMBER')"
            " FROM pg_roles WHERE rolname = current_user"
        )
        assert cur.fetchone() == (False, True, True)


@pytest.mark.integration
def test_missing_admin_option_error_keeps_the_servers_detail(
    modern: PostgreSQLBackend, client: Any
) -> None:
    """PG16+: without ADMIN OPTION on the original, the error says so in its DETAIL only.

    Text from check_role_membership_authorization() in src/backend/commands/user.c.
    """
    with modern.superuser_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE ROLE foreign_orig LOGIN")  # not created by the admin: no ADMIN
    try:
        handler = PostgreSQLHandler("alternating", settings=modern.settings(), client=client)
        with (
            handler.connect(admin_secret(modern, PostgreSQLHandler)) as conn,
            pytest.raises(UserManagementError) as caught,
        ):
            handler.create_user_like(conn, "foreign_orig_clone", "foreign_orig", "Secret-pw-123")
        message = str(caught.value)
        assert message.startswith("GRANT role failed: 42501")
        assert 'permission denied to grant role "foreign_orig"' in message
        assert (
            'DETAIL: Only roles with the ADMIN option on role "foreign_orig" may grant this role.'
            in message
        )
        assert "Secret-pw-123" not in message
        assert "GRANT " + '"' not in message, "the statement must not be in the message"
        with modern.admin_connection() as check, check.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'foreign_orig_clone'")
            assert cur.fetchone() is None, "nothing may be committed"
    finally:
        modern.drop_user("foreign_orig")


@pytest.mark.integration
def test_preflight_reports_the_admin_option_on_postgresql_16(
    modern: PostgreSQLBackend, client: Any
) -> None:
    modern.create_user("admin_made", "Initial-password-1")
    with modern.superuser_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE ROLE superuser_made LOGIN")
    try:
        handler = PostgreSQLHandler("alternating", settings=modern.settings(), client=client)
        with handler.connect(admin_secret(modern, PostgreSQLHandler)) as conn:
            held = handler.privilege_findings(conn, "admin_made", admin=True)
            missing = handler.privilege_findings(conn, "superuser_made", admin=True)
        assert [(f.name, f.ok) for f in held] == [
            ("privileges: CREATEROLE", True),
            ("privileges: ADMIN OPTION on 'admin_made'", True),
        ]
        assert missing[-1].ok is False
    finally:
        modern.drop_user("admin_made")
        modern.drop_user("superuser_made")


def test_describe_error_adds_detail_and_hint_redacted() -> None:
    """DETAIL and HINT come from the server's diagnostics; a known secret is masked."""

    class Diag:
        message_detail = "Key (x)=(Leaked-secret-1) is\n  odd."
        message_hint = "Grant it first."

    class FakeError(Exception):
        pgcode = "42501"
        diag = Diag()

    handler = PostgreSQLHandler.__new__(PostgreSQLHandler)
    handler.redactor = Redactor()
    handler.redactor.add("Leaked-secret-1")
    exc = FakeError('ERROR:  permission denied\nLINE 1: ALTER ROLE "x" PASSWORD')
    text = handler.describe_error(exc)
    assert text.startswith("42501: ERROR:  permission denied DETAIL: Key (x)=(")
    assert text.endswith("is odd. HINT: Grant it first.")
    assert "Leaked-secret-1" not in text
    assert "LINE 1" not in text
