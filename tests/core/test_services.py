"""Custom services on the generic protocol: hooks, secret schema, dual credentials, no leaks."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from rotation.core.config import Settings
from rotation.core.errors import (
    ConfigurationError,
    RotationError,
    SecretFormatError,
    SecretMismatchError,
    ServiceError,
)
from rotation.core.event import Step
from rotation.core.handler import RotationHandler
from rotation.core.scrub import chain, texts
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotation.local import driver
from rotation.local import secretsmanager as sm
from tests.core.keystore import AdminKeyStoreHandler, KeyStore, KeyStoreHandler, Session


@pytest.fixture
def store() -> Iterator[KeyStore]:
    made = KeyStore()
    made.passwords["app"] = {"Initial-password-1"}
    KeyStoreHandler.stores["keys.example"] = made
    yield made
    KeyStoreHandler.stores.clear()


def secret_for(client: Any, **extra: Any) -> str:
    value = {"username": "app", "password": "Initial-password-1", "endpoint": "keys.example",
             **extra}  # fmt: skip
    arn: str = client.create_secret(Name="svc", SecretString=json.dumps(value))["ARN"]
    return arn


def current(client: Any, arn: str) -> dict[str, Any]:
    return dict(json.loads(sm.value_at(client, arn, AWSCURRENT)))


# -- dual credentials ---------------------------------------------------------------------------


def test_dual_keeps_both_credentials_until_the_switch_then_revokes_the_old(
    client: Any, store: KeyStore
) -> None:
    arn = secret_for(client)
    handler = KeyStoreHandler("dual", client=client, settings=Settings())
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET, Step.TEST])
    pending = json.loads(sm.value_at(client, arn, AWSPENDING))["password"]
    assert store.passwords["app"] == {"Initial-password-1", pending}  # both work before the switch
    driver.rotate(handler, client, arn, token=token, steps=[Step.FINISH])
    assert store.passwords["app"] == {pending}
    assert current(client, arn)["password"] == pending


def test_a_crash_after_the_switch_still_revokes_on_the_retry(client: Any, store: KeyStore) -> None:
    arn = secret_for(client)
    handler = KeyStoreHandler("dual", client=client, settings=Settings())
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE, Step.SET, Step.TEST])

    def crash(operation: str) -> None:
        if operation == "UpdateSecretVersionStage":
            raise RuntimeError("Lambda timed out right after the switch")

    handler.secrets.call_listener = crash
    with pytest.raises(RuntimeError, match="Lambda timed out"):  # no secret in it: unchanged
        driver.rotate(handler, client, arn, token=token, steps=[Step.FINISH])
    assert len(store.passwords["app"]) == 2  # switched, but the old one is not revoked yet
    handler.secrets.call_listener = None
    # The service retries finishSecret with the same token, which is already AWSCURRENT.
    handler.handle(driver.event(arn, token, Step.FINISH))
    assert store.passwords["app"] == {current(client, arn)["password"]}
    handler.handle(driver.event(arn, token, Step.FINISH))  # and again: idempotent
    assert store.calls.count("revoke") == 2
    assert len(store.passwords["app"]) == 1


def test_dual_refuses_to_act_when_the_current_credential_does_not_log_in(
    client: Any, store: KeyStore
) -> None:
    arn = secret_for(client)
    store.passwords["app"] = {"someone-elses"}
    handler = KeyStoreHandler("dual", client=client, settings=Settings())
    with pytest.raises(SecretMismatchError, match="do not log in"):
        driver.rotate(handler, client, arn)
    assert store.passwords["app"] == {"someone-elses"}
    assert "add" not in store.calls


def test_dual_refuses_a_pending_secret_of_another_service(client: Any, store: KeyStore) -> None:
    arn = secret_for(client)
    handler = KeyStoreHandler("dual", client=client, settings=Settings())
    token = sm.begin_rotation(client, arn)
    other = {"username": "app", "password": "Pending-password-1", "endpoint": "other.example"}
    client.put_secret_value(SecretId=arn, ClientRequestToken=token,
                            SecretString=json.dumps(other), VersionStages=[AWSPENDING])  # fmt: skip
    with pytest.raises(SecretMismatchError, match=r"endpoint=other\.example"):
        handler.handle(driver.event(arn, token, Step.SET))
    assert store.calls == []


# -- single credential, set by the admin --------------------------------------------------------


def test_single_credential_set_by_the_admin_after_the_current_login_proved_it(
    client: Any, store: KeyStore
) -> None:
    store.passwords["root"] = {"Root-password-1"}
    admin = {"username": "root", "password": "Root-password-1", "endpoint": "keys.example"}
    admin_arn = client.create_secret(Name="root", SecretString=json.dumps(admin))["ARN"]
    arn = secret_for(client, masterarn=admin_arn)
    handler = AdminKeyStoreHandler("single", client=client, settings=Settings())
    driver.rotate(handler, client, arn)
    new = current(client, arn)
    assert store.passwords["app"] == {new["password"]}
    assert store.calls[:1] == ["admin set"]
    labels = sorted(label for labels in sm.labels(client, arn).values() for label in labels)
    assert labels == [AWSCURRENT, AWSPENDING, AWSPREVIOUS]


def test_an_admin_of_another_service_is_refused(client: Any, store: KeyStore) -> None:
    admin = {"username": "root", "password": "Root-password-1", "endpoint": "elsewhere.example"}
    admin_arn = client.create_secret(Name="root", SecretString=json.dumps(admin))["ARN"]
    arn = secret_for(client, masterarn=admin_arn)
    handler = AdminKeyStoreHandler("single", client=client, settings=Settings())
    with pytest.raises(SecretMismatchError, match=r"elsewhere\.example"):
        driver.rotate(handler, client, arn)
    assert store.passwords["app"] == {"Initial-password-1"}


# -- the secret schema ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"username": "app", "password": "p1234567"}, "has no 'endpoint' key"),
        ({"username": "app", "password": "", "endpoint": "e"}, "'password' must be a non-empty"),
        ({"username": 7, "password": "p1234567", "endpoint": "e"}, "'username' must be a non"),
    ],
)
def test_an_invalid_secret_is_refused_before_anything_is_written(
    client: Any, store: KeyStore, value: dict[str, Any], message: str
) -> None:
    arn = client.create_secret(Name="bad", SecretString=json.dumps(value))["ARN"]
    handler = KeyStoreHandler("dual", client=client, settings=Settings())
    token = sm.begin_rotation(client, arn)
    with pytest.raises(SecretFormatError, match=message):
        handler.handle(driver.event(arn, token, Step.CREATE))
    assert not handler.secrets.pending_exists(arn, token)


def test_the_schema_checks_types_and_numeric_strings() -> None:
    class Typed(KeyStoreHandler):
        secret_schema: ClassVar[dict[str, Any]] = {
            "username": str, "endpoint": str, "port": int, "tls": bool
        }  # fmt: skip

    handler = Typed.__new__(Typed)
    good = {"username": "u", "password": "p", "endpoint": "e", "port": "6379", "tls": True}
    assert handler.parse_secret(good).identity == (("endpoint", "e"),)
    with pytest.raises(SecretFormatError, match="'port' must be a number"):
        handler.parse_secret({**good, "port": True})
    with pytest.raises(SecretFormatError, match="'tls' must be true or false"):
        handler.parse_secret({**good, "tls": "yes"})


# -- missing hooks --------------------------------------------------------------------------------


def test_a_missing_hook_is_reported_at_import_not_during_a_rotation() -> None:
    class NoTest(RotationHandler):
        def set_secret(self, rotation: Any) -> None:
            pass

    with pytest.raises(ConfigurationError, match=r"does not provide check\(\), connect\(\)"):
        NoTest.lambda_handler()
    with pytest.raises(ConfigurationError, match="NoTest cannot rotate"):
        NoTest(settings=Settings(), client=object())


def test_the_hooks_required_follow_the_strategy() -> None:
    class OnlyDual(RotationHandler):
        def connect(self, secret: Any) -> Any: ...
        def check(self, conn: Any) -> None: ...
        def add_credential(self, conn: Any, username: Any, password: str) -> None: ...

    assert OnlyDual.missing_hooks("dual") == ["revoke_credential"]
    assert OnlyDual.missing_hooks("single") == ["set_password"]
    assert KeyStoreHandler.missing_hooks("dual") == []
    assert KeyStoreHandler.missing_hooks("alternating") == ["create_user_like", "set_user_password"]
    assert AdminKeyStoreHandler.missing_hooks("single") == []


def test_overriding_the_steps_wholesale_needs_no_hooks() -> None:
    class Wholesale(RotationHandler):
        def set_secret(self, rotation: Any) -> None: ...
        def test_secret(self, rotation: Any) -> None: ...

    assert Wholesale.missing_hooks("single") == []
    assert callable(Wholesale.lambda_handler())


# -- nothing secret leaves handle() ---------------------------------------------------------------


class ClientLibraryError(Exception):
    """What a service's own client library raises (not one of ours)."""


def leaky_handler(where: str) -> type[KeyStoreHandler]:
    class Leaky(KeyStoreHandler):
        def add_credential(self, conn: Session, username: str, password: str) -> None:
            if where == "message":
                raise ClientLibraryError(f"rejected: SETPASS {username} {password}")
            if where == "args":
                raise ClientLibraryError("rejected", {"command": ["SETPASS", password]})
            if where == "bytes":
                raise ClientLibraryError(b"rejected SETPASS " + password.encode())
            if where == "notes":
                error = ClientLibraryError("rejected")
                error.add_note(f"sent: SETPASS {password}")
                raise error
            if where == "cause":
                try:
                    raise ClientLibraryError(f"protocol error near {password}")
                except ClientLibraryError as inner:
                    raise ClientLibraryError("rejected") from inner
            if where == "context":
                try:
                    raise ValueError(password)
                except ValueError:
                    raise ClientLibraryError("rejected")  # noqa: B904 -- the implicit context is the point
            if where == "ours":
                raise RotationError(f"ours, with {password}")
            raise ClientLibraryError("rejected without details")

    return Leaky


@pytest.mark.parametrize(
    "where", ["message", "args", "bytes", "notes", "cause", "context", "ours", "clean"]
)
def test_no_secret_value_leaves_handle_whatever_a_hook_raises(
    client: Any, store: KeyStore, where: str
) -> None:
    arn = secret_for(client)
    handler = leaky_handler(where)("dual", client=client, settings=Settings())
    token = driver.rotate(handler, client, arn, steps=[Step.CREATE])
    pending = json.loads(sm.value_at(client, arn, AWSPENDING))["password"]
    with pytest.raises(Exception) as caught:  # noqa: PT011 -- the type is what is checked below
        handler.handle(driver.event(arn, token, Step.SET))
    error = caught.value
    everything = [text for item in chain(error) for text in texts(item)]
    everything += traceback.format_exception(error)
    assert not any(pending in text for text in everything), where
    assert not any("Initial-password-1" in text for text in everything), where
    if where == "clean":
        assert type(error) is ClientLibraryError  # nothing to hide: it leaves as it is
    elif where == "ours":
        assert type(error) is RotationError
        assert "***" in str(error)
    else:
        assert isinstance(error, ServiceError)
        assert str(error).startswith("ClientLibraryError: ")
