"""Redshift's statements rendered by libpq on a real connection, and run on PostgreSQL.

Rendering needs a connection (``sql.Identifier`` quotes through libpq), hence the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.engines.dbapi import Statement
from rotation.engines.redshift import RedshiftHandler
from rotation.engines.redshift.statements import GRANTABLES, md5_password
from tests.conftest import RunningServer
from tests.engines.postgresql.backend import APP_DATABASE
from tests.engines.redshift.backend import ODD_SCHEMA, ODD_TABLE, RedshiftBackend

PASSWORD = "Xy7-long-enough"


@pytest.fixture(scope="module")
def backend(redshift_server: RunningServer) -> RedshiftBackend:
    return RedshiftBackend(redshift_server)


@pytest.fixture
def conn(backend: RedshiftBackend) -> Iterator[Any]:
    with backend.admin_connection() as connection:
        yield connection


@pytest.fixture
def handler(client: Any) -> RedshiftHandler:
    return RedshiftHandler("alternating", settings=Settings(), client=client)


def render(statement: Statement, conn: Any) -> str:
    text: str = statement.sql.as_string(conn)
    return text


@pytest.mark.parametrize(
    ("username", "quoted"),
    [
        ("o'brien", '"o\'brien"'),
        ('dq"uote', '"dq""uote"'),
        ("back\\slash", '"back\\slash"'),
        ("semi;colon; drop user x", '"semi;colon; drop user x"'),
        ("ünïcødé", '"ünïcødé"'),
    ],
)
def test_password_statements_quote_names_and_send_the_md5_form(
    handler: RedshiftHandler, conn: Any, username: str, quoted: str
) -> None:
    hashed = md5_password(PASSWORD, username)
    alter = render(handler.alter_password_statement(username, PASSWORD), conn)
    create = render(handler.create_login_statement(username, PASSWORD), conn)
    assert alter == f"ALTER USER {quoted} PASSWORD '{hashed}'"
    assert create == f"CREATE USER {quoted} PASSWORD '{hashed}'"
    assert PASSWORD not in alter + create


def test_names_with_capitals_get_the_plain_password_as_a_quoted_literal(
    handler: RedshiftHandler, conn: Any
) -> None:
    """Redshift may fold 'App' to 'app', so no hash salted with the name is guessed."""
    rendered = render(handler.alter_password_statement("App", "Ab1'x"), conn)
    assert rendered == "ALTER USER \"App\" PASSWORD 'Ab1''x'"


def test_grant_statements_name_one_object_each(handler: RedshiftHandler, conn: Any) -> None:
    database = handler.grant_statement("DATABASE", ("dev",), ["TEMPORARY", "CREATE"], "a_clone")
    schema = handler.grant_statement("SCHEMA", ('we"ird',), ["USAGE"], "o'b_clone")
    table = handler.grant_statement("TABLE", ("s p", "it's"), ["SELECT", "DELETE"], 'q"_clone')
    assert render(database, conn) == 'GRANT CREATE, TEMPORARY ON DATABASE "dev" TO "a_clone"'
    assert render(schema, conn) == 'GRANT USAGE ON SCHEMA "we""ird" TO "o\'b_clone"'
    assert render(table, conn) == 'GRANT DELETE, SELECT ON TABLE "s p"."it\'s" TO "q""_clone"'


def test_user_lookup_uses_pg_user_with_a_bound_name(handler: RedshiftHandler) -> None:
    statement = handler.role_exists_statement("o'brien")
    assert statement.sql == "SELECT 1 FROM pg_catalog.pg_user WHERE usename = %s"
    assert statement.params == ("o'brien",)


def test_the_server_stores_the_md5_form_as_documented(handler: RedshiftHandler, conn: Any) -> None:
    """PostgreSQL keeps 'md5' + md5(password + name) as given, which is Redshift's format."""
    username, new_password = "rs md5 'probe'", "Zz9-another-one"
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(handler.create_login_statement(username, PASSWORD).sql)
            check = (
                "SELECT rolpassword = 'md5' || md5(%s || rolname) FROM pg_authid WHERE rolname = %s"
            )
            cur.execute(check, (PASSWORD, username))
            assert cur.fetchone() == (True,)
            cur.execute(handler.alter_password_statement(username, new_password).sql)
            cur.execute(check, (new_password, username))
            assert cur.fetchone() == (True,)
    finally:
        conn.rollback()


def test_privilege_queries_run_on_postgresql(
    backend: RedshiftBackend, handler: RedshiftHandler, conn: Any
) -> None:
    backend.create_user("rs_probe", PASSWORD)
    try:
        held = handler.privileges_of(conn, "rs_probe")
    finally:
        backend.drop_user("rs_probe")
    assert ("DATABASE", (APP_DATABASE,), "CREATE") in held
    assert ("SCHEMA", ("app",), "USAGE") in held
    assert ("SCHEMA", (ODD_SCHEMA,), "USAGE") in held
    assert ("SCHEMA", (ODD_SCHEMA,), "CREATE") not in held
    assert ("TABLE", ("app", "items"), "REFERENCES") in held
    assert ("TABLE", (ODD_SCHEMA, ODD_TABLE), "DELETE") in held
    assert ("TABLE", (ODD_SCHEMA, ODD_TABLE), "INSERT") not in held
    assert not any(kind == "SCHEMA" and names[0].startswith("pg_") for kind, names, _ in held)
    assert {kind for kind, _, _ in held} == {kind for kind, _, _ in GRANTABLES}


def test_existing_clone_gets_only_what_it_lacks(
    backend: RedshiftBackend, client: Any, conn: Any
) -> None:
    """Re-running grants only missing privileges; a later grant to the original is copied."""
    engine = RedshiftHandler("alternating", settings=Settings(), client=client)
    actions: list[str] = []
    engine.statement_listener = actions.append
    backend.create_user("rs_orig", PASSWORD)
    try:
        engine.create_user_like(conn, "rs_orig_clone", "rs_orig", PASSWORD)
        assert "CREATE USER" in actions
        assert actions.count("GRANT ON TABLE") == 2
        assert backend.privileges("rs_orig_clone") == backend.privileges("rs_orig")

        actions.clear()
        engine.create_user_like(conn, "rs_orig_clone", "rs_orig", PASSWORD)
        assert not [a for a in actions if a.startswith(("GRANT", "CREATE"))]
        assert "ALTER USER ... PASSWORD" in actions

        with conn.cursor() as cur:
            cur.execute("GRANT UPDATE ON app.items TO rs_orig")
        actions.clear()
        engine.create_user_like(conn, "rs_orig_clone", "rs_orig", PASSWORD)
        assert [a for a in actions if a.startswith("GRANT")] == ["GRANT ON TABLE"]
        assert backend.privileges("rs_orig_clone") == backend.privileges("rs_orig")
        with conn.cursor() as cur:
            cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'rs_orig_clone'")
            assert cur.fetchone()[0].startswith("md5"), "the clone's password was not md5"
        assert backend.can_login("rs_orig_clone", PASSWORD), "an md5 password must log in"
    finally:
        backend.drop_user("rs_orig_clone")
        backend.drop_user("rs_orig")


def test_preflight_reports_whether_the_admin_is_a_superuser(
    backend: RedshiftBackend, client: Any, handler: RedshiftHandler, conn: Any
) -> None:
    [finding] = handler.privilege_findings(conn, "anyone", admin=True)
    assert (finding.ok, finding.detail) == (True, "the admin is a superuser")
    backend.create_user("rs_plain", PASSWORD)
    try:
        secret = handler.parse_secret({"engine": "redshift", **backend.connection_fields(),
                                       "username": "rs_plain", "password": PASSWORD})  # fmt: skip
        with_ca = RedshiftHandler(settings=backend.settings(), client=client)
        with with_ca.connect(secret) as user_conn:
            [finding] = with_ca.privilege_findings(user_conn, "rs_plain", admin=True)
    finally:
        backend.drop_user("rs_plain")
    assert not finding.ok
    assert finding.detail.startswith("not a superuser")
