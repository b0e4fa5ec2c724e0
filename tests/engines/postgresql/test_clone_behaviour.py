"""The clone behaves like the original: role settings and attributes, on real servers.

An application switched to the clone must see the same ``search_path``, ``statement_timeout``
and other defaults, globally and per database (``pg_db_role_setting``), and the same CONNECTION
LIMIT, VALID UNTIL and (PostgreSQL 16+) INHERIT. Runs on Debian's PostgreSQL with a superuser
admin and on PostgreSQL 16+ with an RDS-style CREATEROLE admin.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from rotation.engines.postgresql import PostgreSQLHandler
from rotation.local import driver
from rotation.local import secretsmanager as sm
from tests.engines.postgresql.backend import APP_DATABASE, PostgreSQLBackend
from tests.engines.support import admin_secret, user_secret

# The backends are picked at run time (getfixturevalue), so the conftest cannot see the server.
pytestmark = pytest.mark.integration

SHOWN = ("search_path", "statement_timeout", "work_mem", "lock_timeout")
PASSWORD = "Original-password-1"


@pytest.fixture(params=["pg", "pg16", "pg18"])
def backend(request: pytest.FixtureRequest) -> PostgreSQLBackend:
    backend: PostgreSQLBackend = request.getfixturevalue(request.param)
    return backend


@pytest.fixture
def original(backend: PostgreSQLBackend) -> Iterator[str]:
    name = "behaves"
    backend.create_user(name, PASSWORD)
    yield name
    backend.drop_user(name + "_clone")
    backend.drop_user(name)


def admin(backend: PostgreSQLBackend, statement: str, username: str) -> None:
    """Run one ALTER ROLE on ``username`` as the rotation's admin (``{}`` is the role)."""
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL(statement).format(sql.Identifier(username)))


def shown(backend: PostgreSQLBackend, username: str, password: str, dbname: str) -> dict[str, str]:
    """Log in as a user and SHOW what an application would see."""
    conn = psycopg2.connect(**backend._login(username, password, dbname))
    try:
        with conn.cursor() as cur:
            values = {}
            for name in SHOWN:
                cur.execute(sql.SQL("SHOW {}").format(sql.Identifier(name)))
                values[name] = cur.fetchone()[0]
            return values
    finally:
        conn.close()


def attributes(backend: PostgreSQLBackend, username: str) -> tuple[Any, ...]:
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT rolinherit, rolconnlimit, rolvaliduntil FROM pg_roles WHERE rolname = %s",
            (username,),
        )
        return tuple(cur.fetchone())


def rotate(backend: PostgreSQLBackend, client: Any, arn: str) -> dict[str, Any]:
    handler = PostgreSQLHandler("alternating", settings=backend.settings(), client=client)
    driver.rotate(handler, client, arn)
    return dict(json.loads(sm.value_at(client, arn, "AWSCURRENT")))


def test_application_on_the_clone_sees_the_originals_settings(
    backend: PostgreSQLBackend, original: str, client: Any
) -> None:
    modern = backend.server_version() >= 160000
    admin(backend, "ALTER ROLE {} SET work_mem = '3MB'", original)
    admin(backend, "ALTER ROLE {} SET statement_timeout = '9s'", original)
    admin(backend, "ALTER ROLE {} IN DATABASE postgres SET lock_timeout = '2s'", original)
    admin(
        backend, "ALTER ROLE {} CONNECTION LIMIT 7 VALID UNTIL '2999-01-01 00:00:00+00'", original
    )
    admin(backend, "ALTER ROLE {} NOINHERIT", original)
    arn = user_secret(backend, client, original, PASSWORD, alternating=True)

    current = rotate(backend, client, arn)
    clone, password = current["username"], current["password"]
    assert clone == original + "_clone"
    for dbname in (APP_DATABASE, "postgres"):
        expected = shown(backend, original, PASSWORD, dbname)
        assert shown(backend, clone, password, dbname) == expected, dbname
    # The backend's users carry search_path globally and statement_timeout=5s in appdb.
    assert shown(backend, clone, password, APP_DATABASE)["statement_timeout"] == "5s"
    assert shown(backend, clone, password, "postgres")["statement_timeout"] == "9s"
    assert shown(backend, clone, password, APP_DATABASE)["search_path"] == 'app, "$user", public'
    inherit, limit, until = attributes(backend, clone)
    assert (limit, until) == attributes(backend, original)[1:]
    # Before 16 the clone must stay INHERIT to use the original's privileges at all; from 16 on
    # it copies NOINHERIT and its membership grant says WITH INHERIT TRUE.
    assert inherit is (not modern)
    assert backend.privileges(clone) == backend.privileges(original)
    conn = psycopg2.connect(**backend._login(clone, password))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM items")  # found through the copied search_path
    finally:
        conn.close()

    # The original changes; the next refresh of the clone follows, resets included.
    admin(backend, "ALTER ROLE {} RESET statement_timeout", original)
    admin(backend, "ALTER ROLE {} IN DATABASE postgres RESET lock_timeout", original)
    admin(backend, "ALTER ROLE {} IN DATABASE postgres SET work_mem = '5MB'", original)
    admin(backend, "ALTER ROLE {} CONNECTION LIMIT -1 VALID UNTIL 'infinity' INHERIT", original)
    current = rotate(backend, client, arn)
    assert current["username"] == original
    original_password = current["password"]
    current = rotate(backend, client, arn)
    assert current["username"] == clone
    for dbname in (APP_DATABASE, "postgres"):
        expected = shown(backend, original, original_password, dbname)
        assert shown(backend, clone, current["password"], dbname) == expected, dbname
    assert attributes(backend, clone)[:2] == (True, -1)
    assert backend.privileges(clone) == backend.privileges(original)


def test_refresh_of_an_up_to_date_clone_changes_only_the_password(
    backend: PostgreSQLBackend, original: str, client: Any
) -> None:
    handler = PostgreSQLHandler("alternating", settings=backend.settings(), client=client)
    clone = original + "_clone"
    with handler.connect(admin_secret(backend, PostgreSQLHandler)) as conn:
        handler.create_user_like(conn, clone, original, "First-password-1")
        actions: list[str] = []
        handler.statement_listener = actions.append
        handler.create_user_like(conn, clone, original, "Second-password-2")
    changes = [a for a in actions if not a.startswith("look up")]
    assert changes == ["ALTER ROLE ... LOGIN PASSWORD"]
    assert backend.can_login(clone, "Second-password-2")
    assert backend.privileges(clone) == backend.privileges(original)


def test_list_settings_with_quotes_and_commas_survive_the_copy(
    backend: PostgreSQLBackend, original: str, client: Any
) -> None:
    """A schema name with a comma, a quote and a space stays one element of search_path."""
    odd = 'we, "ird'
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(odd)))
        cur.execute(
            sql.SQL("ALTER ROLE {} SET search_path = {}, public").format(
                sql.Identifier(original), sql.Literal(odd)
            )
        )
    handler = PostgreSQLHandler("alternating", settings=backend.settings(), client=client)
    clone = original + "_clone"
    with handler.connect(admin_secret(backend, PostgreSQLHandler)) as conn:
        handler.create_user_like(conn, clone, original, "First-password-1")
    with backend.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT r.rolname, s.setconfig FROM pg_db_role_setting s "
            "JOIN pg_roles r ON r.oid = s.setrole "
            "WHERE r.rolname IN (%s, %s) AND s.setdatabase = 0",
            (original, clone),
        )
        stored = dict(cur.fetchall())
    assert stored[clone] == stored[original]
    assert '"we, ""ird"' in stored[original][0]
