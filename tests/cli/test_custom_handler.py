"""``--handler MODULE:CLASS``: step, rotate --local and check run a user's own handler class.

The class is the custom-service example (templates/custom/redis_acl.py) against a throwaway
Redis; Secrets Manager is moto in this process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis

from rotation.cli import main
from rotation.core.staging import AWSCURRENT
from rotation.local import secretsmanager as sm
from tests.conftest import RunningServer

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "templates" / "custom"
HANDLER = "redis_acl:RedisACLHandler"
REGION = "us-east-1"


@pytest.fixture
def app(
    redis_server: RunningServer, client: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, redis.Redis]:
    """Create a Redis user and its secret (with the admin secret); run from the example's dir."""
    info = redis_server.info
    admin = redis.Redis(host=info.host, port=info.port, username=info.admin_user,
                        password=info.admin_password)  # fmt: skip
    admin.execute_command("ACL", "SETUSER", "cliapp", "reset", "on", ">Initial-password-1",
                          "~*", "+@all")  # fmt: skip
    where = {"host": info.host, "port": info.port}
    admin_value = {**where, "username": info.admin_user, "password": info.admin_password}
    admin_arn = client.create_secret(Name="redis-admin", SecretString=json.dumps(admin_value))[
        "ARN"
    ]
    value = {**where, "username": "cliapp", "password": "Initial-password-1",
             "masterarn": admin_arn}  # fmt: skip
    arn = client.create_secret(Name="cliapp", SecretString=json.dumps(value))["ARN"]
    monkeypatch.chdir(EXAMPLE_DIR)
    return arn, admin


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main([*args, "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_rotate_local_runs_the_users_handler_class(
    app: tuple[str, redis.Redis], client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, admin = app
    code, doc, err = run_json(capsys, "rotate", arn, "--local", "--handler", HANDLER,
                              "--strategy", "dual", "--region", REGION)  # fmt: skip
    assert code == 0, doc
    assert doc["engine"] == "redis"
    assert doc["strategy"] == "dual"
    assert [s["step"] for s in doc["steps"] if s["ok"]] == [
        "createSecret", "setSecret", "testSecret", "finishSecret",
    ]  # fmt: skip
    new = json.loads(sm.value_at(client, arn, AWSCURRENT))["password"]
    user = admin.execute_command("ACL", "GETUSER", "cliapp")
    assert (
        len(user[b"passwords"] if isinstance(user, dict) else user[user.index(b"passwords") + 1])
        == 1
    )
    assert redis.Redis(host=admin.connection_pool.connection_kwargs["host"],
                       port=admin.connection_pool.connection_kwargs["port"],
                       username="cliapp", password=new).ping()  # fmt: skip
    assert new not in json.dumps(doc) + err


def test_check_logs_in_and_checks_the_admin_secret(
    app: tuple[str, redis.Redis], capsys: pytest.CaptureFixture[str]
) -> None:
    arn, _ = app
    code, doc, _ = run_json(capsys, "check", arn, "--handler", HANDLER, "--region", REGION)
    assert code == 0, doc
    assert [(c["name"], c["status"]) for c in doc["checks"]] == [
        ("secret", "pass"), ("secret format", "pass"), ("login", "pass"), ("admin secret", "pass"),
    ]  # fmt: skip


def test_step_runs_one_step_of_the_users_handler(
    app: tuple[str, redis.Redis], client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn, _ = app
    token = sm.begin_rotation(client, arn)
    code, doc, _ = run_json(
        capsys, "step", "createSecret", arn, "--token", token,
        "--handler", HANDLER, "--strategy", "single", "--region", REGION,
    )  # fmt: skip
    assert code == 0, doc
    assert doc["engine"] == "redis"
    assert client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("redis_acl", "--handler takes MODULE:CLASS"),
        ("no_such_module:X", "cannot import 'no_such_module'"),
        ("redis_acl:ConnectError", "is not a RotationHandler subclass"),
    ],
)
def test_a_bad_handler_spec_is_a_usage_error(
    app: tuple[str, redis.Redis], capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    arn, _ = app
    code, doc, _ = run_json(capsys, "check", arn, "--handler", spec, "--region", REGION)
    assert code == 2
    assert message in doc["error"]["message"]


def test_a_handler_without_the_strategys_hooks_is_refused_before_any_step(
    tmp_path: Path, client: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "halfdone.py").write_text(
        "from rotation import RotationHandler\n\n\n"
        "class Half(RotationHandler):\n"
        "    def connect(self, secret):\n        raise NotImplementedError\n"
    )
    monkeypatch.chdir(tmp_path)
    arn = client.create_secret(Name="half", SecretString=json.dumps({"password": "p-123456"}))[
        "ARN"
    ]
    code, doc, _ = run_json(capsys, "rotate", arn, "--local", "--handler", "halfdone:Half",
                            "--region", REGION)  # fmt: skip
    assert code == 2
    assert "does not provide check(), set_password()" in doc["error"]["message"]
    assert sm.labels(client, arn) == {next(iter(sm.labels(client, arn))): [AWSCURRENT]}
