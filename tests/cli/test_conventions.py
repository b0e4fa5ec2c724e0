"""The AWS CLI's conventions: profile, region, endpoint and credentials resolution, exit codes.

Resolution order (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html,
https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-endpoints.html): a command-line
option wins over an environment variable, which wins over the profile in the config file;
AWS_REGION wins over AWS_DEFAULT_REGION; AWS_ENDPOINT_URL_<SERVICE> over AWS_ENDPOINT_URL.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from rotation.cli import main
from rotation.cli.aws import secrets_manager_client

AWS_VARIABLES = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER", "SECRETS_MANAGER_ENDPOINT", "AWS_RETRY_MODE",
    "AWS_MAX_ATTEMPTS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
)  # fmt: skip


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An AWS configuration of our own: profile ops (eu-west-1, with keys) and nothing else."""
    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("[profile ops]\nregion = eu-west-1\n\n[profile bare]\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s3cr3t\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance credentials here
    return tmp_path


def set_env(monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def client_for(**options: Any) -> Any:
    args = argparse.Namespace(profile=None, region=None, endpoint_url=None)
    for key, value in options.items():
        setattr(args, key, value)
    return secrets_manager_client(args)


def test_profile_gives_region_and_credentials(aws_home: Path) -> None:
    client = client_for(profile="ops")
    assert client.meta.region_name == "eu-west-1"
    assert client._request_signer._credentials.access_key == "AKIDOPS"


def test_aws_profile_variable(aws_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert client_for().meta.region_name == "eu-west-1"


@pytest.mark.parametrize(
    ("option", "variables", "expected"),
    [
        (None, {}, "eu-west-1"),  # the profile's
        (None, {"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
        (None, {"AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "ap-south-1"}, "ap-south-1"),
        ("ca-central-1", {"AWS_DEFAULT_REGION": "us-west-2", "AWS_REGION": "ap-south-1"},
         "ca-central-1"),
    ],
)  # fmt: skip
def test_region_order(
    aws_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str | None,
    variables: dict[str, str],
    expected: str,
) -> None:
    set_env(monkeypatch, variables)
    assert client_for(profile="ops", region=option).meta.region_name == expected


@pytest.mark.parametrize(
    ("option", "variables", "expected"),
    [
        (None, {"AWS_ENDPOINT_URL": "http://global:1"}, "http://global:1"),
        (None, {"AWS_ENDPOINT_URL": "http://global:1",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://service:2"}, "http://service:2"),
        (None, {"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://service:2",
                "SECRETS_MANAGER_ENDPOINT": "http://functions:3"}, "http://functions:3"),
        ("http://option:4", {"SECRETS_MANAGER_ENDPOINT": "http://functions:3"},
         "http://option:4"),
    ],
)  # fmt: skip
def test_endpoint_order(
    aws_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    option: str | None,
    variables: dict[str, str],
    expected: str,
) -> None:
    set_env(monkeypatch, variables)
    client = client_for(profile="ops", endpoint_url=option)
    assert client.meta.endpoint_url == expected


def test_a_stand_in_endpoint_needs_no_credentials_or_region(aws_home: Path) -> None:
    client = client_for(endpoint_url="http://127.0.0.1:1")
    assert client.meta.region_name == "us-east-1"
    assert client._request_signer._credentials.access_key == "testing"


def test_retries_standard_unless_configured(
    aws_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retries = client_for(profile="ops").meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": 6}  # botocore counts the first
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    retries = client_for(profile="ops").meta.config.retries
    assert retries == {"mode": "adaptive", "total_max_attempts": 2}


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--profile", "nope"], {}, "The config profile (nope) could not be found"),
        ([], {"AWS_PROFILE": "nope"}, "The config profile (nope) could not be found"),
        (["--profile", "bare"], {}, "no AWS region"),
        (["--profile", "bare", "--region", "eu-west-1"], {}, "no AWS credentials"),
    ],
)
def test_configuration_errors_exit_2_with_one_line(
    aws_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    set_env(monkeypatch, env)
    for command in (["status"], ["repair", "app"], ["rotate", "app"], ["check", "app"]):
        code = main([*command, *args, "--output", "json"])
        captured = capsys.readouterr()
        assert code == 2, (command, captured)
        doc = json.loads(captured.out)
        assert list(doc) == ["command", "ok", "error"]
        assert (doc["command"], doc["ok"], doc["error"]["type"]) == (command[0], False,
                                                                     "UsageError")  # fmt: skip
        assert message in doc["error"]["message"]
        assert captured.err.splitlines() == [f"rotation: error: {doc['error']['message']}"]
        assert "unexpected" not in captured.err


def test_sdk_configuration_errors_are_usage_errors_too() -> None:
    """Raised by botocore at call time and wrapped by the SecretsClient: still exit 2."""
    from botocore.exceptions import NoCredentialsError

    from rotation.cli import describe, exit_code
    from rotation.core.errors import SecretsManagerError

    wrapped = SecretsManagerError("DescribeSecret failed: NoCredentialsError")
    wrapped.__cause__ = NoCredentialsError()
    assert exit_code(wrapped) == 2
    assert describe(wrapped) == "DescribeSecret failed: NoCredentialsError"
    assert exit_code(SecretsManagerError("DescribeSecret failed: AccessDenied")) == 1
    assert exit_code(NoCredentialsError()) == 2
    assert describe(NoCredentialsError()) == "Unable to locate credentials"
