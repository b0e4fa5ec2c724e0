"""``rotate --local`` and ``step`` against a real PostgreSQL server, with moto in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from rotation.cli import main
from rotation.cli import rotate as rotate_module
from rotation.local import driver
from rotation.local import secretsmanager as sm
from rotation.testing.conformance import Scenario, unique_name
from tests.conftest import RunningServer
from tests.engines.postgresql.backend import PostgreSQLBackend

REGION = "us-east-1"


@pytest.fixture
def scenario(postgresql_server: RunningServer) -> Iterator[Scenario]:
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        made = Scenario(PostgreSQLBackend(postgresql_server), client, unique_name("cli"))
        yield made
        made.cleanup()


def run(capsys: pytest.CaptureFixture[str], scenario: Scenario, *args: str) -> tuple[int, Any, str]:
    ca = scenario.backend.settings().tls_ca_file
    code = main([*args, "--region", REGION, "--output", "json",
                 *(["--ca-file", ca] if ca else [])])  # fmt: skip
    captured = capsys.readouterr()
    assert scenario.password not in captured.out + captured.err
    return code, json.loads(captured.out), captured.err


def test_rotate_local_runs_four_steps_and_the_new_password_works(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    old_current = sm.labels(scenario.client, scenario.arn)
    code, doc, _ = run(capsys, scenario, "rotate", scenario.arn, "--local")
    assert code == 0, doc
    assert list(doc) == ["command", "ok", "secret", "mode", "engine", "strategy", "steps", "token",
                         "outcome", "labels", "error"]  # fmt: skip
    assert doc["mode"] == "local"
    assert doc["outcome"] == "completed"
    assert doc["engine"] == "postgresql"  # inferred from "engine": "postgres"
    assert [s["step"] for s in doc["steps"]] == [str(s) for s in driver.STEPS]
    assert doc["labels"][doc["token"]] == ["AWSCURRENT", "AWSPENDING"]
    assert doc["labels"][next(iter(old_current))] == ["AWSPREVIOUS"]
    new = scenario.value("AWSCURRENT")
    assert scenario.backend.can_login(scenario.username, new["password"])
    assert not scenario.backend.can_login(scenario.username, scenario.password)


def test_rotate_local_without_in_process_stand_in_stores_the_pending_value(
    scenario: Scenario, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What happens against a remote endpoint: no placeholder can be made, createSecret finds
    # the value the command stored and does nothing; the other steps run as usual.
    monkeypatch.setattr(rotate_module, "in_process_moto", lambda client, arn: False)
    # Rotation enabled, no AWSPENDING anywhere: the state of a real secret between rotations.
    sm.begin_rotation(scenario.client, scenario.arn, "00000000-0000-4000-8000-000000000000")
    scenario.client.update_secret_version_stage(
        SecretId=scenario.arn, VersionStage="AWSPENDING",
        RemoveFromVersionId="00000000-0000-4000-8000-000000000000",
    )  # fmt: skip
    code, doc, _ = run(capsys, scenario, "rotate", scenario.arn, "--local", "--engine",
                       "postgresql", "--strategy", "single")  # fmt: skip
    assert code == 0, doc
    assert doc["outcome"] == "completed"
    assert scenario.backend.can_login(scenario.username, scenario.value("AWSCURRENT")["password"])


def test_step_runs_one_step_and_prints_structured_logs(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    token = sm.begin_rotation(scenario.client, scenario.arn)
    code, doc, err = run(capsys, scenario, "step", "createSecret", scenario.arn, "--token", token,
                         "--engine", "postgresql", "--strategy", "single")  # fmt: skip
    assert code == 0, doc
    assert list(doc) == ["command", "ok", "step", "secret_id", "token", "engine", "strategy",
                         "ms", "error"]  # fmt: skip
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert {"running step", "stored the pending value", "step succeeded"} <= {
        log["message"] for log in logs
    }
    assert all(log["correlation_id"] == token for log in logs)
    stored = scenario.client.get_secret_value(
        SecretId=scenario.arn, VersionId=token, VersionStage="AWSPENDING"
    )
    pending = json.loads(stored["SecretString"])
    assert pending["password"] not in err
    # The database is untouched until setSecret.
    assert scenario.backend.can_login(scenario.username, scenario.password)


def test_failing_step_exits_1_with_one_error_line(
    scenario: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    token = sm.begin_rotation(scenario.client, scenario.arn)
    # testSecret before setSecret: the pending password was never set.
    for step in ("createSecret", "testSecret"):
        code, doc, err = run(capsys, scenario, "step", step, scenario.arn, "--token", token,
                             "--engine", "postgresql", "--strategy", "single",
                             "--log-level", "ERROR")  # fmt: skip
    assert code == 1
    assert doc["ok"] is False
    assert doc["error"]["type"] == "SecretTestFailedError"
    lines = [line for line in err.splitlines() if not line.startswith("{")]
    assert lines == [f"rotation: error: {doc['error']['message']}"]
    assert "Traceback" not in "\n".join(lines)
