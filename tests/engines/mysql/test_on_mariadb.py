"""The MySQL engine on the real MariaDB server: it must know it talks to MariaDB."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from rotation.engines.mysql import MySQLHandler
from rotation.local import driver
from rotation.local import secretsmanager as sm
from rotation.testing.conformance import unique_name
from tests.engines.mariadb.backend import APP_DATABASE, MariaDBBackend
from tests.engines.mysql.backend import MySQLOnMariaDBBackend
from tests.engines.support import admin_secret


def test_the_mysql_engine_recognises_mariadb(maria: MariaDBBackend, client: Any) -> None:
    """MariaDB announces '5.5.5-10.11...'; before, the engine read MySQL 5.5 and chose
    SET PASSWORD = PASSWORD() by accident. Now it is chosen because the server is MariaDB."""
    backend = MySQLOnMariaDBBackend(maria.server)
    handler = MySQLHandler(settings=backend.settings(), client=client)
    with handler.connect(admin_secret(backend, MySQLHandler)) as conn:
        server = handler.server_version(conn)
        assert server.mariadb
        assert server.describe().startswith("MariaDB 1")
        assert handler.session_facts(conn)["server_version"] == server.describe()
        statement = handler.own_password_statement(server, "new", "old")
        assert statement.sql == "SET PASSWORD = PASSWORD(%s)"


def test_a_server_in_ansi_quotes_mode_still_gets_a_faithful_clone(
    maria: MariaDBBackend, client: Any
) -> None:
    """With ANSI_QUOTES in the server's sql_mode, SHOW GRANTS writes "u"@"%"; before, every
    line was then skipped without a word and the clone had no privileges. The rotation's own
    session turns ANSI_QUOTES off."""
    backend = MySQLOnMariaDBBackend(maria.server)
    with maria.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.sql_mode")
        saved = cur.fetchone()[0]
        cur.execute("CREATE USER 'ansi'@'%' IDENTIFIED BY 'Initial-password-1'")
        cur.execute(f"GRANT SELECT, INSERT ON {APP_DATABASE}.* TO 'ansi'@'%'")
        cur.execute("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES')")
    try:
        handler = MySQLHandler(settings=backend.settings(), client=client)
        with handler.connect(admin_secret(backend, MySQLHandler)) as conn:
            handler.create_user_like(conn, "ansi_clone", "ansi", "Clone-password-12")
        with maria.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT @@SESSION.sql_mode")
            assert "ANSI_QUOTES" in cur.fetchone()[0]  # the server's mode was in force
            cur.execute("SET GLOBAL sql_mode = %s", (saved,))
        # Compared in the default mode, as the conformance suite compares.
        assert backend.privileges("ansi_clone") == backend.privileges("ansi")
        assert any("SELECT, INSERT ON" in line for line in backend.privileges("ansi_clone"))
    finally:
        with maria.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL sql_mode = %s", (saved,))
            for user in ("ansi", "ansi_clone"):
                cur.execute("DROP USER IF EXISTS %s@'%%'", (user,))


def test_retain_on_a_server_without_dual_passwords_rotates_as_single_user_loudly(
    maria: MariaDBBackend, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The MySQL engine's retain strategy meets MariaDB (no RETAIN CURRENT PASSWORD) on a real
    server: it says so in a warning and rotates as single user, without a failed login."""
    backend = MySQLOnMariaDBBackend(maria.server)
    username = unique_name("ret")
    backend.create_user(username, "Initial-password-1")
    try:
        value = {"engine": "mysql", **backend.connection_fields(), "username": username,
                 "password": "Initial-password-1"}  # fmt: skip
        arn = client.create_secret(Name=username, SecretString=json.dumps(value))["ARN"]
        handler = MySQLHandler("retain", settings=backend.settings(), client=client)
        failed = backend.failed_logins()
        driver.rotate(handler, client, arn)
        new = json.loads(sm.value_at(client, arn, "AWSCURRENT"))["password"]
        assert backend.can_login(username, new)
        assert not backend.can_login(username, "Initial-password-1")
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("replacing it instead" in message for message in warned)
        if failed is not None:
            assert backend.failed_logins() == failed + 1  # only the can_login check above
    finally:
        backend.drop_user(username)
