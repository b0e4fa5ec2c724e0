"""The local Secrets Manager stand-in and the step driver do what the real service does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from rotation.core.event import Step
from rotation.local import driver
from rotation.local import secretsmanager as sm


def make_secret(client: Any) -> str:
    arn: str = client.create_secret(Name="app", SecretString=json.dumps({"password": "one"}))["ARN"]
    return arn


def test_begin_rotation_attaches_pending_to_a_version_without_a_value(client: Any) -> None:
    arn = make_secret(client)
    token = sm.begin_rotation(client, arn)
    described = client.describe_secret(SecretId=arn)
    assert described["RotationEnabled"] is True
    assert described["VersionIdsToStages"][token] == ["AWSPENDING"]
    # As after RotateSecret: the pending version exists but has no value until createSecret.
    with pytest.raises(ClientError) as caught:
        client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_retried_rotation_keeps_its_version_and_a_new_one_moves_pending(client: Any) -> None:
    arn = make_secret(client)
    first = sm.begin_rotation(client, arn)
    assert sm.begin_rotation(client, arn, first) == first
    second = sm.begin_rotation(client, arn)
    assert second != first
    labels = sm.labels(client, arn)
    assert first not in labels  # the abandoned version lost AWSPENDING, as the service does
    assert labels[second] == ["AWSPENDING"]


def test_disable_rotation_is_reported_by_describe_secret(client: Any) -> None:
    arn = make_secret(client)
    sm.begin_rotation(client, arn)
    sm.disable_rotation(client, arn)
    assert client.describe_secret(SecretId=arn)["RotationEnabled"] is False


def test_rotate_invokes_the_four_steps_in_order_with_the_arn(client: Any) -> None:
    arn = make_secret(client)
    calls: list[dict[str, Any]] = []
    token = driver.rotate(lambda event, _context: calls.append(dict(event)), client, "app", None,
                          rotation_token="rt")  # fmt: skip
    assert [call["Step"] for call in calls] == [str(step) for step in driver.STEPS]
    assert {call["SecretId"] for call in calls} == {arn}
    assert {call["ClientRequestToken"] for call in calls} == {token}
    assert {call["RotationToken"] for call in calls} == {"rt"}


def test_rotate_stops_at_the_first_failed_step(client: Any) -> None:
    make_secret(client)
    seen: list[str] = []

    def invoke(event: Any, _context: Any) -> None:
        seen.append(event["Step"])
        if event["Step"] == str(Step.SET):
            raise RuntimeError("setSecret failed")

    with pytest.raises(RuntimeError):
        driver.rotate(invoke, client, "app")
    assert seen == ["createSecret", "setSecret"]


def test_event_carries_the_rotation_token_only_when_given() -> None:
    assert driver.event("arn", "t", Step.TEST) == {
        "Step": "testSecret",
        "SecretId": "arn",
        "ClientRequestToken": "t",
    }
    assert driver.event("arn", "t", "finishSecret", "rt")["RotationToken"] == "rt"


def test_the_stand_in_serves_secrets_manager_over_http() -> None:
    with sm.SecretsManagerStandIn() as stand_in:
        assert stand_in.endpoint.startswith("http://127.0.0.1:")
        client = stand_in.client()
        arn = make_secret(client)
        token = sm.begin_rotation(client, arn)
        assert sm.labels(client, arn)[token] == ["AWSPENDING"]
        assert sm.value_at(client, arn, "AWSCURRENT") == json.dumps({"password": "one"})
