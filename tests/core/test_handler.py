"""Every step in every staging state, driven against moto the way Secrets Manager does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.errors import (
    InvalidEventError,
    NotPendingError,
    RotationDisabledError,
    SecretFormatError,
    UnknownVersionError,
)
from rotation.core.event import Step
from rotation.core.secrets_client import SecretsClient
from rotation.local import driver
from rotation.local import secretsmanager as sm
from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler
from tests.core.conftest import fake_secret


def record_calls(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """Record every API call the client makes, with its parameters."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    client.meta.events.register("provide-client-params.secretsmanager.*", before)
    return calls


def value_json(client: Any, arn: str, **kwargs: Any) -> dict[str, Any]:
    return dict(json.loads(client.get_secret_value(SecretId=arn, **kwargs)["SecretString"]))


# -- the event --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"SecretId": "s", "ClientRequestToken": "t"}, "no Step"),
        ({"Step": "createSecret", "ClientRequestToken": "t"}, "no SecretId"),
        ({"Step": "createSecret", "SecretId": "s"}, "no ClientRequestToken"),
        ({"Step": "deleteSecret", "SecretId": "s", "ClientRequestToken": "t"}, "unknown Step"),
        ({"Step": "", "SecretId": "s", "ClientRequestToken": "t"}, "no Step"),
        ({"Step": 3, "SecretId": "s", "ClientRequestToken": "t"}, "no Step"),
        (
            {"Step": "setSecret", "SecretId": "s", "ClientRequestToken": "t", "RotationToken": 1},
            "RotationToken",
        ),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_events_are_refused_before_any_call(
    handler: FakeDatabaseHandler, client: Any, event: Any, message: str
) -> None:
    calls = record_calls(client)
    with pytest.raises(InvalidEventError, match=message):
        handler.handle(event)
    assert calls == []


# -- the staging guard ----------------------------------------------------------------------------


@pytest.mark.parametrize("step", list(Step))
def test_rotation_disabled_is_refused(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str, step: Step
) -> None:
    token = sm.begin_rotation(client, secret_arn)
    sm.disable_rotation(client, secret_arn)
    with pytest.raises(RotationDisabledError):
        handler.handle(driver.event(secret_arn, token, step))


@pytest.mark.parametrize("step", list(Step))
def test_unknown_token_is_refused(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str, step: Step
) -> None:
    sm.begin_rotation(client, secret_arn)
    with pytest.raises(UnknownVersionError):
        handler.handle(driver.event(secret_arn, str(uuid.uuid4()), step))


@pytest.mark.parametrize("step", list(Step))
def test_token_that_is_not_pending_is_refused(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str, step: Step
) -> None:
    first = driver.rotate(handler, client, secret_arn)
    sm.begin_rotation(client, secret_arn)  # a new rotation: first is now AWSPREVIOUS only
    driver.rotate(handler, client, secret_arn)
    assert sm.labels(client, secret_arn)[first] == ["AWSPREVIOUS"]
    with pytest.raises(NotPendingError):
        handler.handle(driver.event(secret_arn, first, step))


@pytest.mark.parametrize("step", list(Step))
def test_token_already_current_does_nothing(
    handler: FakeDatabaseHandler, client: Any, db: FakeDatabase, secret_arn: str, step: Step
) -> None:
    token = driver.rotate(handler, client, secret_arn)
    before_labels, before_statements = sm.labels(client, secret_arn), list(db.statements)
    calls = record_calls(client)
    handler.handle(driver.event(secret_arn, token, step))
    assert [name for name, _ in calls] == ["DescribeSecret"]
    assert sm.labels(client, secret_arn) == before_labels
    assert db.statements == before_statements


def test_secret_name_in_event_is_resolved_to_the_arn(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    """Emulators send the name; every call after DescribeSecret uses the ARN."""
    token = sm.begin_rotation(client, secret_arn)
    calls = record_calls(client)
    handler.handle(driver.event("app", token, Step.CREATE))
    assert calls[0] == ("DescribeSecret", {"SecretId": "app"})
    assert all(params["SecretId"] == secret_arn for _, params in calls[1:])


# -- createSecret ---------------------------------------------------------------------------------


def test_create_stores_a_new_password_and_keeps_every_other_key(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    token = sm.begin_rotation(client, secret_arn)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_secret_value(SecretId=secret_arn, VersionId=token, VersionStage="AWSPENDING")
    handler.handle(driver.event(secret_arn, token, Step.CREATE))
    current = value_json(client, secret_arn, VersionStage="AWSCURRENT")
    pending = value_json(client, secret_arn, VersionId=token, VersionStage="AWSPENDING")
    assert pending["password"] != current["password"]
    assert {k: v for k, v in pending.items() if k != "password"} == {
        k: v for k, v in current.items() if k != "password"
    }
    assert len(pending["password"]) == 32


def test_create_is_a_no_op_when_the_pending_value_exists(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    token = sm.begin_rotation(client, secret_arn)
    handler.handle(driver.event(secret_arn, token, Step.CREATE))
    stored = value_json(client, secret_arn, VersionId=token, VersionStage="AWSPENDING")
    calls = record_calls(client)
    handler.handle(driver.event(secret_arn, token, Step.CREATE))
    assert value_json(client, secret_arn, VersionId=token, VersionStage="AWSPENDING") == stored
    assert "PutSecretValue" not in [name for name, _ in calls]


def test_create_refuses_a_malformed_current_secret_and_stores_nothing(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    client.put_secret_value(SecretId=secret_arn, SecretString='{"password": "Hunter2-secret"')
    token = sm.begin_rotation(client, secret_arn)
    with pytest.raises(SecretFormatError) as caught:
        handler.handle(driver.event(secret_arn, token, Step.CREATE))
    assert "Hunter2-secret" not in str(caught.value)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_secret_value(SecretId=secret_arn, VersionId=token, VersionStage="AWSPENDING")


def test_rotation_token_is_forwarded_to_put_secret_value(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    calls = record_calls(client)
    token = sm.begin_rotation(client, secret_arn)
    rotation_token = str(uuid.uuid4())
    handler.handle(driver.event(secret_arn, token, Step.CREATE, rotation_token=rotation_token))
    puts = [params for name, params in calls if name == "PutSecretValue"]
    assert puts[0]["RotationToken"] == rotation_token
    assert puts[0]["VersionStages"] == ["AWSPENDING"]
    assert puts[0]["ClientRequestToken"] == token


def test_rotation_token_is_dropped_when_botocore_lacks_it(
    client: Any, db: FakeDatabase, secret_arn: str
) -> None:
    secrets = SecretsClient(client)
    secrets.supports_rotation_token = False  # as with an older botocore in the runtime
    handler = FakeDatabaseHandler(settings=Settings(), client=secrets, database=db)
    calls = record_calls(client)
    token = sm.begin_rotation(client, secret_arn)
    handler.handle(driver.event(secret_arn, token, Step.CREATE, rotation_token=str(uuid.uuid4())))
    puts = [params for name, params in calls if name == "PutSecretValue"]
    assert "RotationToken" not in puts[0]


def test_every_read_names_a_version_stage(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    calls = record_calls(client)
    driver.rotate(handler, client, secret_arn)
    driver.rotate(handler, client, secret_arn)
    reads = [params for name, params in calls if name == "GetSecretValue"]
    assert reads
    assert all("VersionStage" in params for params in reads)


def test_calls_per_rotation(handler: FakeDatabaseHandler, client: Any, secret_arn: str) -> None:
    """One DescribeSecret per step, one read per value, one write per stored value or label."""
    calls = record_calls(client)
    driver.rotate(handler, client, secret_arn)
    names = [name for name, _ in calls]
    # begin_rotation and rotate() themselves call DescribeSecret twice before the steps.
    assert names.count("DescribeSecret") == 2 + 4
    assert names.count("PutSecretValue") == 1
    assert names.count("UpdateSecretVersionStage") == 1
    # create: current + pending probe; set: current + pending; test: pending. AWSPREVIOUS is
    # read only when AWSCURRENT does not log in.
    assert names.count("GetSecretValue") == 5
    driver.rotate(handler, client, secret_arn)
    assert [name for name, _ in calls].count("GetSecretValue") == 10


# -- setSecret, testSecret, finishSecret ---------------------------------------------


def test_full_rotation_with_no_failed_login(
    handler: FakeDatabaseHandler, client: Any, db: FakeDatabase, secret_arn: str
) -> None:
    token = driver.rotate(handler, client, secret_arn)
    current = value_json(client, secret_arn, VersionStage="AWSCURRENT")
    assert db.passwords["app"] == current["password"]
    assert db.failed_logins == 0
    assert sm.labels(client, secret_arn)[token] == ["AWSCURRENT", "AWSPENDING"]


def test_set_is_a_no_op_when_the_pending_password_is_already_set(
    handler: FakeDatabaseHandler, client: Any, db: FakeDatabase, secret_arn: str
) -> None:
    token = driver.rotate(handler, client, secret_arn, steps=[Step.CREATE, Step.SET])
    statements = list(db.statements)
    handler.handle(driver.event(secret_arn, token, Step.SET))
    assert db.statements == statements


def test_finish_moves_current_and_previous_and_a_rerun_changes_nothing(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str
) -> None:
    old = client.describe_secret(SecretId=secret_arn)["VersionIdsToStages"]
    (old_version,) = list(old)
    token = driver.rotate(handler, client, secret_arn)
    labels = sm.labels(client, secret_arn)
    assert labels == {token: ["AWSCURRENT", "AWSPENDING"], old_version: ["AWSPREVIOUS"]}
    handler.handle(driver.event(secret_arn, token, Step.FINISH))
    assert sm.labels(client, secret_arn) == labels


def test_lambda_entry_builds_one_handler_per_container(
    monkeypatch: pytest.MonkeyPatch, client: Any, db: FakeDatabase, secret_arn: str
) -> None:
    built: list[object] = []
    bound = FakeDatabaseHandler.bound_to(db)
    original_init = bound.__init__

    def counting_init(self: FakeDatabaseHandler, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(bound, "__init__", counting_init)
    entry = bound.lambda_handler(strategy="single", client=client)
    driver.rotate(entry, client, secret_arn)
    driver.rotate(entry, client, secret_arn)
    assert len(built) == 1
    assert (
        db.passwords["app"] == value_json(client, secret_arn, VersionStage="AWSCURRENT")["password"]
    )


def test_alternating_users_needs_masterarn(client: Any, db: FakeDatabase, secret_arn: str) -> None:
    handler = FakeDatabaseHandler(
        strategy="alternating", settings=Settings(), client=client, database=db
    )
    token = sm.begin_rotation(client, secret_arn)
    with pytest.raises(SecretFormatError, match="masterarn"):
        handler.handle(driver.event(secret_arn, token, Step.CREATE))


def test_alternating_never_acts_for_a_pending_user_outside_the_pair(
    client: Any, db: FakeDatabase
) -> None:
    """A tampered AWSPENDING naming another user (say, the admin) is refused."""
    from rotation.core.errors import SecretMismatchError

    admin_arn = client.create_secret(
        Name="admin", SecretString=json.dumps(fake_secret(db, "admin", "Admin-password-1"))
    )["ARN"]
    arn = client.create_secret(
        Name="alt", SecretString=json.dumps(fake_secret(db, masterarn=admin_arn))
    )["ARN"]
    handler = FakeDatabaseHandler(
        strategy="alternating", settings=Settings(), client=client, database=db
    )
    token = sm.begin_rotation(client, arn)
    tampered = fake_secret(db, "admin", "Attacker-chosen-1", masterarn=admin_arn)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(tampered),
        VersionStages=["AWSPENDING"],
    )
    with pytest.raises(SecretMismatchError):
        handler.handle(driver.event(arn, token, Step.SET))
    assert db.passwords["admin"] == "Admin-password-1"
