"""The ``retain`` strategy on MySQL 8 dual passwords, against the DB-API double in fake.py.

No MySQL 8 server can run here; the double implements MySQL's documented dual-password rules
(primary and secondary password, RETAIN / DISCARD, REPLACE checked against the primary only, the
privileges; each cited in fake.py). Every test fails on the code before the retain strategy
(there was none: ``strategy="retain"`` was refused).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pymysql
import pytest

from rotation.core.config import Settings
from rotation.core.errors import ConfigurationError, RotationError, UserManagementError
from rotation.core.event import Step
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotation.core.strategies import RetainPrevious
from rotation.engines.mariadb import MariaDBHandler
from rotation.engines.mysql import MySQLHandler
from rotation.local import driver
from rotation.local import secretsmanager as sm
from rotation.local.mysql8 import FakeServer
from tests.engines.mysql import transcripts as t

FIRST = "First-password-1"
ADMIN = "Admin-password-1"


class Crash(Exception):
    """A Lambda that died right after a statement took effect."""


class MySQLOnFake(MySQLHandler):
    """The MySQL engine whose connections are logins to the double (no network)."""

    server: FakeServer

    def open_connection(self, secret: Any, tls: Any) -> Any:
        try:
            conn = self.server.login(secret.username, secret.password)
        except pymysql.Error as exc:
            raise self.connect_error(secret, exc) from exc
        self._configure_session(conn)  # type: ignore[arg-type]
        return conn


def handler_for(server: FakeServer, client: Any, strategy: Any = "retain") -> MySQLOnFake:
    handler = MySQLOnFake(strategy, settings=Settings(), client=client)
    handler.server = server
    return handler


def make_server(version: str = "8.0.36", **app: Any) -> FakeServer:
    server = FakeServer(version)
    server.add("admin", password=ADMIN, grants=list(t.RDS_MASTER_8_0_36), privileged=True)
    server.add("app", password=FIRST, **{"app_password_admin": True, **app})
    return server


def secret_for(client: Any, *, admin: bool = False, name: str = "app") -> str:
    base = {"engine": "mysql", "host": "db.example", "port": 3306, "ssl": False}
    value: dict[str, Any] = {**base, "username": "app", "password": FIRST}
    if admin:
        admin_value = {**base, "username": "admin", "password": ADMIN}
        made = client.create_secret(Name=f"{name}-admin", SecretString=json.dumps(admin_value))
        value["masterarn"] = made["ARN"]
    arn: str = client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    return arn


def password(client: Any, arn: str, stage: str) -> str:
    return str(json.loads(sm.value_at(client, arn, stage))["password"])


def logs_in(server: FakeServer, secret_password: str, user: str = "app") -> bool:
    try:
        server.login(user, secret_password)
    except pymysql.Error:
        return False
    return True


def test_both_passwords_work_after_the_switch_and_the_oldest_goes_one_rotation_later(
    client: Any,
) -> None:
    server = make_server()
    arn = secret_for(client)
    handler = handler_for(server, client)
    driver.rotate(handler, client, arn)
    second = password(client, arn, AWSCURRENT)
    assert password(client, arn, AWSPREVIOUS) == FIRST
    app = server.accounts[("app", "%")]
    assert (app.password, app.secondary) == (second, FIRST)  # no DISCARD at the switch
    assert server.failed_logins == 0  # the rotation itself never failed a login
    driver.rotate(handler, client, arn)
    third = password(client, arn, AWSCURRENT)
    assert (app.password, app.secondary) == (third, second)
    assert server.failed_logins == 0
    assert [logs_in(server, p) for p in (third, second, FIRST)] == [True, True, False]
    sent = [sql for sql, _ in server.log if "RETAIN" in sql]
    assert (
        sent
        == ["ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s RETAIN CURRENT PASSWORD"] * 2
    )


def statements_of_a_clean_set_secret(client: Any, *, admin: bool, **app: Any) -> int:
    server = make_server(**app)
    arn = secret_for(client, admin=admin, name="clean")
    handler = handler_for(server, client)
    done: list[str] = []
    handler.statement_listener = done.append
    driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET])
    return len(done)


def crash_after(count: int) -> Callable[[str], None]:
    seen: list[str] = []

    def listener(action: str) -> None:
        seen.append(action)
        if len(seen) == count:
            raise Crash(action)

    return listener


POLICIES: dict[str, dict[str, Any]] = {
    "no policy": {},
    "password history": {"options": {"Password_reuse_history": 5}},
    "require current": {},
}


@pytest.mark.parametrize("admin", [False, True], ids=["own account", "admin (masterarn)"])
@pytest.mark.parametrize("policy", list(POLICIES))
def test_set_secret_converges_after_a_crash_after_every_statement(
    client: Any, admin: bool, policy: str
) -> None:
    """Crash after statement k (its effect kept, as MySQL's DDL commits), then let the service
    retry: the end state is always primary = AWSPENDING, secondary = AWSCURRENT, without one
    failed login and without the current password ever stopping to work."""
    app: dict[str, Any] = dict(POLICIES[policy])
    total = statements_of_a_clean_set_secret(client, admin=admin, **app)
    assert total >= 2
    for count in range(1, total + 1):
        server = make_server(**app)
        server.require_current = policy == "require current"
        server.password_history = 5 if policy == "password history" else 0
        arn = secret_for(client, admin=admin, name=f"app-{count}")
        handler = handler_for(server, client)
        handler.statement_listener = crash_after(count)
        token = driver.rotate(handler, client, arn, steps=[Step.CREATE])
        with pytest.raises(Crash):
            handler.handle(driver.event(arn, token, Step.SET))
        assert logs_in(server, FIRST), f"the current password stopped working (crash {count})"
        handler.statement_listener = None
        handler.handle(driver.event(arn, token, Step.SET))  # the service's retry
        handler.handle(driver.event(arn, token, Step.SET))  # and another: idempotent
        pending = password(client, arn, AWSPENDING)
        app_row = server.accounts[("app", "%")]
        assert (app_row.password, app_row.secondary) == (pending, FIRST), f"crash {count}"
        assert server.failed_logins == 0, f"crash {count}"
        driver.rotate(handler, client, arn, token=token, steps=[Step.TEST, Step.FINISH])
        assert logs_in(server, FIRST)
        assert logs_in(server, pending)


def test_the_double_replays_mysqls_own_replace_test() -> None:
    """The double's REPLACE rule against the server's own test (the secondary does not count)."""
    server = FakeServer("8.0.36")
    arthur = server.add("arthurdent", "localhost", password="abcd", privileged=True)
    arthur.password, arthur.secondary = "efgh", "abcd"  # the default connection's RETAIN
    conn = server.connect("arthurdent", "localhost")
    for sql, params, error in t.DUAL_REPLACE_TEST_12:
        if error is None:
            conn.cursor().execute(sql, params)
        else:
            with pytest.raises(pymysql.err.OperationalError) as raised:
                conn.cursor().execute(sql, params)
            assert raised.value.args[0] == error
    assert (arthur.password, arthur.secondary) == ("uvwx", "qrst")


def test_without_application_password_admin_it_falls_back_to_single_user_loudly(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """MySQL refuses RETAIN on one's own account without APPLICATION_PASSWORD_ADMIN (1227):
    the rotation still happens, as single user, and says so."""
    server = make_server(app_password_admin=False)
    arn = secret_for(client)
    handler = handler_for(server, client)
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET])
    pending = password(client, arn, AWSPENDING)
    app = server.accounts[("app", "%")]
    assert (app.password, app.secondary) == (pending, None)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("replacing it instead" in message for message in warned)
    failed_before_retry = server.failed_logins
    handler.handle(driver.event(arn, token, Step.SET))  # a retry after the fallback
    assert server.failed_logins == failed_before_retry + 1  # AWSCURRENT, once; then AWSPENDING
    driver.rotate(handler, client, arn, token=token, steps=[Step.TEST, Step.FINISH])
    assert not logs_in(server, FIRST)


def test_a_server_without_dual_passwords_falls_back_too(client: Any) -> None:
    server = make_server("8.0.13")
    arn = secret_for(client)
    driver.rotate(handler_for(server, client), client, arn)
    app = server.accounts[("app", "%")]
    assert (app.password, app.secondary) == (password(client, arn, AWSCURRENT), None)
    assert not any("RETAIN" in sql for sql, _ in server.log)


def test_a_primary_changed_outside_the_rotation_is_refused_without_changing_it(
    client: Any,
) -> None:
    """AWSCURRENT logs in only as the secondary, AWSPENDING is not the primary: an abandoned
    rotation or a hand-made change. Guessing would cut off the clients on AWSCURRENT."""
    server = make_server()
    app = server.accounts[("app", "%")]
    app.password, app.secondary = "Someone-elses-1", FIRST
    arn = secret_for(client)
    with pytest.raises(UserManagementError, match="neither AWSCURRENT nor AWSPENDING"):
        driver.rotate(handler_for(server, client), client, arn, steps=[Step.CREATE, Step.SET])
    assert (app.password, app.secondary) == ("Someone-elses-1", FIRST)
    assert server.failed_logins == 0


@pytest.mark.parametrize("admin", [False, True], ids=["own account", "admin (masterarn)"])
def test_revoke_now_discards_the_old_password_at_the_switch(client: Any, admin: bool) -> None:
    server = make_server()
    server.add("app", "10.0.0.%", password=FIRST)  # the admin acts at every host
    arn = secret_for(client, admin=admin)
    driver.rotate(handler_for(server, client, RetainPrevious(revoke_now=True)), client, arn)
    hosts = ["%", "10.0.0.%"] if admin else ["%"]
    for host in hosts:
        row = server.accounts[("app", host)]
        assert (row.password, row.secondary) == (password(client, arn, AWSCURRENT), None)
    assert not logs_in(server, FIRST)


def test_a_refused_discard_leaves_the_old_password_and_warns(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server()
    arn = secret_for(client)
    handler = handler_for(server, client, RetainPrevious(revoke_now=True))
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET, Step.TEST])
    server.accounts[("app", "%")].app_password_admin = False  # revoked in between
    driver.rotate(handler, client, arn, token=token, steps=[Step.FINISH])
    assert logs_in(server, FIRST)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not revoke the previous password" in message for message in warned)


def test_mariadb_refuses_the_retain_strategy_at_construction(client: Any) -> None:
    """MariaDB has no dual passwords: its functions never offer retain (not even at import)."""
    with pytest.raises(ConfigurationError, match="MariaDB has no dual passwords"):
        MariaDBHandler("retain", settings=Settings(), client=client)
    with pytest.raises(ConfigurationError, match="MariaDB has no dual passwords"):
        MariaDBHandler.lambda_handler(strategy=RetainPrevious(revoke_now=True))
    assert isinstance(MySQLHandler("retain", settings=Settings(), client=client).strategy,
                      RetainPrevious)  # fmt: skip


def test_no_password_reaches_a_log_line_or_an_error(
    client: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    server = make_server()
    app = server.accounts[("app", "%")]
    app.password, app.secondary = "Someone-elses-1", FIRST
    arn = secret_for(client)
    with pytest.raises(RotationError) as raised:
        driver.rotate(handler_for(server, client), client, arn, steps=[Step.CREATE, Step.SET])
    pending = password(client, arn, AWSPENDING)
    text = caplog.text + capsys.readouterr().out + repr(raised.value) + str(raised.value)
    for secret in (FIRST, pending, "Someone-elses-1"):
        assert secret not in text


def dual_findings(server: FakeServer, client: Any) -> dict[str, Any]:
    handler = handler_for(server, client)
    found = handler.privilege_findings(server.connect("app"), "app", admin=False)
    return {finding.name: finding for finding in found}


def test_rotation_check_warns_when_retain_would_fall_back(client: Any) -> None:
    """rotation check (read-only) says beforehand that the rotation would be single user."""
    server = make_server(app_password_admin=False)
    finding = dual_findings(server, client)["privileges: dual passwords"]
    assert finding.warning is True
    assert "APPLICATION_PASSWORD_ADMIN" in finding.detail
    assert "falls back to single user" in finding.detail
    server.accounts[("app", "%")].grants = ["GRANT APPLICATION_PASSWORD_ADMIN ON *.* TO <who>"]
    finding = dual_findings(server, client)["privileges: dual passwords"]
    assert (finding.ok, finding.warning) == (True, False)
    old = make_server("8.0.13")
    assert "no dual passwords" in dual_findings(old, client)["privileges: dual passwords"].detail
    assert not any(sql.startswith("ALTER") for sql, _ in server.log)
