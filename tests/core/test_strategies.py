"""Alternate user names and the TLS policy the core applies for every engine."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import ConfigurationError, ConnectError, UsernameTooLongError
from rotation.core.secret import DatabaseSecret
from rotation.core.strategies import alternate_username, original_username, strategy_named
from rotation.local import driver
from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler, FakeSession


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app", "app_clone"),
        ("app_clone", "app"),
        ("a_clone_b", "a_clone_b_clone"),
        ("_clone", "_clone_clone"),
    ],
)
def test_alternate_username(name: str, expected: str) -> None:
    assert alternate_username(name, "_clone", 63) == expected


def test_alternate_username_respects_the_limit() -> None:
    assert alternate_username("x" * 26, "_clone", 32) == "x" * 26 + "_clone"
    with pytest.raises(UsernameTooLongError, match="33 long, over the limit of 32"):
        alternate_username("x" * 27, "_clone", 32)


def test_alternate_username_counts_as_the_engine_counts() -> None:
    name = "é" * 10  # 10 characters, 20 bytes
    assert alternate_username(name, "_clone", 16) == name + "_clone"
    with pytest.raises(UsernameTooLongError, match="26 long"):
        alternate_username(name, "_clone", 16, lambda n: len(n.encode()))


def test_original_username() -> None:
    assert original_username("app_clone", "_clone") == "app"
    assert original_username("app", "_clone") == "app"


def test_unknown_strategy() -> None:
    with pytest.raises(ConfigurationError, match="unknown strategy 'triple'"):
        strategy_named("triple")


def secret(ssl: Any) -> DatabaseSecret:
    value = {
        "engine": "fake",
        "host": "fake.example",
        "port": 5000,
        "username": "app",
        "password": "Initial-password-1",
    }
    if ssl is not None:
        value["ssl"] = ssl
    return DatabaseSecret.parse(value, FakeDatabaseHandler)


@pytest.mark.parametrize(
    ("ssl", "fallback", "modes"),
    [
        (True, False, [TLSMode.VERIFIED]),
        (True, True, [TLSMode.VERIFIED]),
        (False, False, [TLSMode.PLAINTEXT]),
        (None, False, [TLSMode.VERIFIED]),
        (None, True, [TLSMode.VERIFIED, TLSMode.PLAINTEXT]),
    ],
)
def test_tls_attempts(client: Any, ssl: Any, fallback: bool, modes: list[TLSMode]) -> None:
    settings = Settings(tls_allow_plaintext_fallback=fallback)
    handler = FakeDatabaseHandler(settings=settings, client=client)
    assert [tls.mode for tls in handler.tls_attempts(secret(ssl))] == modes


class TLSOnlyFake(FakeDatabaseHandler):
    """A server whose TLS handshake always fails (say, an untrusted certificate)."""

    modes_tried: list[TLSMode]

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> FakeSession:
        self.modes_tried.append(tls.mode)
        if tls.enabled:
            raise ConnectError("certificate verify failed")
        return super().open_connection(secret, tls)


def test_plaintext_fallback_only_when_allowed_and_loudly(
    client: Any, db: FakeDatabase, capfd: pytest.CaptureFixture[str]
) -> None:
    value = {
        "engine": "fake",
        "host": db.host,
        "port": db.port,
        "username": "app",
        "password": "Initial-password-1",
    }
    arn = client.create_secret(Name="nossl", SecretString=json.dumps(value))["ARN"]

    strict = TLSOnlyFake(settings=Settings(), client=client, database=db)
    strict.modes_tried = []
    with pytest.raises(ConnectError, match="certificate verify failed"):
        driver.rotate(strict, client, arn)
    assert strict.modes_tried == [TLSMode.VERIFIED]
    assert db.passwords["app"] == "Initial-password-1"

    lenient = TLSOnlyFake(
        settings=Settings(tls_allow_plaintext_fallback=True), client=client, database=db
    )
    lenient.modes_tried = []
    driver.rotate(lenient, client, arn)
    assert TLSMode.PLAINTEXT in lenient.modes_tried
    out = capfd.readouterr().out
    warnings = [
        json.loads(line)
        for line in out.splitlines()
        if line.startswith("{") and '"WARNING"' in line
    ]
    assert warnings
    assert "falling back to PLAINTEXT" in warnings[0]["message"]


def test_session_reports_the_tls_mode_actually_used(client: Any, db: FakeDatabase) -> None:
    handler = TLSOnlyFake(
        settings=Settings(tls_allow_plaintext_fallback=True), client=client, database=db
    )
    handler.modes_tried = []
    with handler.session(secret(None)) as (_conn, used):
        assert used.mode is TLSMode.PLAINTEXT
    strict = FakeDatabaseHandler(settings=Settings(), client=client, database=db)
    with strict.session(secret(True)) as (_conn, used):
        assert used.mode is TLSMode.VERIFIED
