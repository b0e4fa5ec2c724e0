"""Redshift's statements rendered by libpq on a real connection, and run on PostgreSQL.

Rendering needs a connection (``sql.Identifier`` quotes through libpq), hence the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.engines.dbapi import Statement
from rotation.engines.postgresql.statements import md5_verifier
from rotation.engines.redshift import RedshiftHandler
from rotation.engines.redshift.statements import GRANTABLES
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
    hashed = md5_verifier(PASSWORD, username)
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


def test_grant_statements_name_lists_of_objects(handler: RedshiftHandler, conn: Any) -> None:
    database = handler.grant_statement("DATABASE", ["TEMPORARY", "CREATE"], [("dev",)], "a_clone")
    schema = handler.grant_statement("SCHEMA", ["USAGE"], [('we"ird',), ("b",)], "o'b_clone")
    table = handler.grant_statement(
        "TABLE", ["SELECT"], [("s p", "it's"), ("s p", "t2")], 'q"_clone'
    )
    assert render(database, conn) == 'GRANT CREATE, TEMPORARY ON DATABASE "dev" TO "a_clone"'
    assert render(schema, conn) == 'GRANT USAGE ON SCHEMA "we""ird", "b" TO "o\'b_clone"'
    assert render(table, conn) == ('GRANT SELECT ON TABLE "s p"."it\'s", "s p"."t2" TO "q""_clone"')


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
        # One GRANT per privilege and schema: SELECT, INSERT, REFERENCES on app; SELECT, DELETE.
        assert actions.count("GRANT ON TABLE") == 5
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


@pytest.fixture
def wide(backend: RedshiftBackend) -> Iterator[str]:
    """A user with SELECT on 25 tables and INSERT on 5 of them, in a schema of its own."""
    backend.create_user("rs_wide", PASSWORD)
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS wide")
        cur.execute("GRANT USAGE ON SCHEMA wide TO rs_wide")
        for index in range(25):
            cur.execute(f"CREATE TABLE IF NOT EXISTS wide.t{index:02} (id int)")
            cur.execute(f"GRANT SELECT ON wide.t{index:02} TO rs_wide")
        cur.execute("GRANT INSERT ON wide.t00, wide.t01, wide.t02, wide.t03, wide.t04 TO rs_wide")
    yield "rs_wide"
    backend.drop_user("rs_wide_clone")
    backend.drop_user("rs_wide")
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA wide CASCADE")


def wide_privileges(backend: RedshiftBackend, username: str) -> set[tuple[str, str]]:
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
            "unnest(ARRAY['SELECT', 'INSERT']) AS p "
            "WHERE n.nspname = 'wide' AND has_table_privilege(%s, c.oid, p)",
            (username,),
        )
        return set(cur.fetchall())


def test_many_table_grants_take_one_statement_per_privilege_and_schema(
    backend: RedshiftBackend, client: Any, conn: Any, wide: str
) -> None:
    engine = RedshiftHandler("alternating", settings=Settings(), client=client)
    actions: list[str] = []
    engine.statement_listener = actions.append
    engine.create_user_like(conn, wide + "_clone", wide, PASSWORD)
    # wide: SELECT and INSERT; app: SELECT, INSERT, REFERENCES; the odd schema: SELECT, DELETE.
    # One statement per table and privilege set would have been 27.
    assert actions.count("GRANT ON TABLE") == 7
    assert wide_privileges(backend, wide + "_clone") == wide_privileges(backend, wide)
    assert backend.privileges(wide + "_clone") == backend.privileges(wide)


def test_a_crash_between_batches_keeps_the_work_and_the_retry_grants_the_rest(
    backend: RedshiftBackend, client: Any, wide: str
) -> None:
    """Each batch is committed: a timeout loses at most one batch, and a retry finishes."""
    clone = wide + "_clone"

    class Timeout(Exception):
        pass

    def engine() -> RedshiftHandler:
        handler = RedshiftHandler("alternating", settings=Settings(), client=client)
        handler.grant_batch_size = 10
        return handler

    first, grants = engine(), [0]

    # Table GRANTs go by privilege, then schema: DELETE odd, INSERT app, INSERT wide (5),
    # REFERENCES app, SELECT app, SELECT odd, SELECT wide (10), SELECT wide (10: cut short),
    # SELECT wide (5).
    def timeout_in_eighth_table_grant(action: str) -> None:
        if action == "GRANT ON TABLE":
            grants[0] += 1
            if grants[0] == 8:
                raise Timeout

    first.statement_listener = timeout_in_eighth_table_grant
    with backend.admin_connection() as conn:
        conn.autocommit = False
        with pytest.raises(Timeout):
            first.create_user_like(conn, clone, wide, PASSWORD)
    kept = wide_privileges(backend, clone)
    assert backend.can_login(clone, PASSWORD), "the committed user and password were lost"
    assert len(kept) == 5 + 10, "the committed batches were lost"

    retry, actions = engine(), []
    retry.statement_listener = actions.append
    with backend.admin_connection() as conn:
        conn.autocommit = False
        retry.create_user_like(conn, clone, wide, PASSWORD)
    assert wide_privileges(backend, clone) == wide_privileges(backend, wide)
    assert backend.privileges(clone) == backend.privileges(wide)
    # Privileges are recomputed: only the 15 missing SELECTs are granted, in two batches.
    assert actions.count("GRANT ON TABLE") == 2
