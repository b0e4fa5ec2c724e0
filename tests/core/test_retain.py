"""The ``retain`` strategy: single user whose previous password works until the next rotation.

Every test here fails on the code before it: there was no ``retain`` strategy (strategy_named
refused the name), so no service could keep its previous password through the switch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.errors import ConfigurationError
from rotation.core.event import Step
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotation.core.strategies import RetainPrevious, strategy_named
from rotation.local import driver
from rotation.local import secretsmanager as sm
from tests.core.keystore import KeyStoreHandler, RetainKeyStoreHandler, RetainStore

FIRST = "Initial-password-1"


@pytest.fixture
def store() -> Iterator[RetainStore]:
    made = RetainStore()
    made.set_user("app", FIRST)
    made.set_user("root", "Root-password-1")
    KeyStoreHandler.stores["keys.example"] = made
    yield made
    KeyStoreHandler.stores.clear()


def secret_for(client: Any, **extra: Any) -> str:
    value = {"username": "app", "password": FIRST, "endpoint": "keys.example", **extra}
    arn: str = client.create_secret(Name="svc", SecretString=json.dumps(value))["ARN"]
    return arn


def password(client: Any, arn: str, stage: str) -> str:
    return str(json.loads(sm.value_at(client, arn, stage))["password"])


def handler_for(client: Any, strategy: Any = "retain") -> RetainKeyStoreHandler:
    return RetainKeyStoreHandler(strategy, client=client, settings=Settings())


def test_retain_is_a_named_strategy_that_keeps_the_previous_one() -> None:
    chosen = strategy_named("retain")
    assert isinstance(chosen, RetainPrevious)
    assert chosen.revoke_previous is False
    assert RetainPrevious(revoke_now=True).revoke_previous is True


def test_the_previous_password_works_until_the_next_rotation_replaces_it(
    client: Any, store: RetainStore
) -> None:
    arn = secret_for(client)
    handler = handler_for(client)
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET, Step.TEST])
    second = password(client, arn, AWSPENDING)
    assert store.passwords["app"] == {FIRST, second}  # both work before the switch
    driver.rotate(handler, client, arn, token=token, steps=[Step.FINISH])
    assert store.passwords["app"] == {FIRST, second}  # and after it: nothing is revoked
    assert password(client, arn, AWSPREVIOUS) == FIRST
    driver.rotate(handler, client, arn)
    third = password(client, arn, AWSCURRENT)
    assert store.passwords["app"] == {second, third}  # the oldest one is gone now
    assert store.primary["app"] == third
    assert "rejected login" not in store.calls
    assert store.calls.count("retain") == 2


def test_revoke_now_revokes_the_previous_password_at_the_switch(
    client: Any, store: RetainStore
) -> None:
    arn = secret_for(client)
    driver.rotate(handler_for(client, RetainPrevious(revoke_now=True)), client, arn)
    assert store.passwords["app"] == {password(client, arn, AWSCURRENT)}


def test_a_retried_set_secret_keeps_the_current_password_working(
    client: Any, store: RetainStore
) -> None:
    arn = secret_for(client)
    handler = handler_for(client)
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET])
    handler.handle(driver.event(arn, token, Step.SET))  # the service's retry
    assert store.passwords["app"] == {FIRST, password(client, arn, AWSPENDING)}
    assert store.calls.count("retain") == 1


def test_refused_it_falls_back_to_single_user_with_a_warning(
    client: Any, store: RetainStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.refuse = True
    arn = secret_for(client)
    handler = handler_for(client)
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET])
    assert store.passwords["app"] == {password(client, arn, AWSPENDING)}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("replacing it instead" in r.getMessage() for r in warnings)
    # A retry after that fallback: AWSCURRENT is rejected once, AWSPENDING logs in, done.
    handler.handle(driver.event(arn, token, Step.SET))
    assert store.calls.count("rejected login") == 1
    assert store.calls.count("set") == 1
    driver.rotate(handler, client, arn, token=token, steps=[Step.TEST, Step.FINISH])
    assert store.primary["app"] == password(client, arn, AWSCURRENT)


def test_with_masterarn_the_admin_retains_after_the_current_login(
    client: Any, store: RetainStore
) -> None:
    admin = {"username": "root", "password": "Root-password-1", "endpoint": "keys.example"}
    admin_arn = client.create_secret(Name="root", SecretString=json.dumps(admin))["ARN"]
    arn = secret_for(client, masterarn=admin_arn)
    seen: list[str] = []

    class Watching(RetainKeyStoreHandler):
        def retain_credential(self, conn: Any, username: str, new: str, current: str) -> None:
            seen.append(conn.username)
            super().retain_credential(conn, username, new, current)

    driver.rotate(Watching("retain", client=client, settings=Settings()), client, arn)
    assert seen == ["root"]
    assert store.passwords["app"] == {FIRST, password(client, arn, AWSCURRENT)}


def test_a_service_without_retain_credential_is_refused_for_retain() -> None:
    assert KeyStoreHandler.missing_hooks("retain") == ["retain_credential"]
    assert RetainKeyStoreHandler.missing_hooks("retain") == []
    assert RetainKeyStoreHandler.missing_hooks(RetainPrevious(revoke_now=True)) == []
    with pytest.raises(ConfigurationError, match=r"'retain' strategy.*retain_credential\(\)"):
        KeyStoreHandler("retain", settings=Settings(), client=object())
